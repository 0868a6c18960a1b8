"""The state of many games at once, as tensors with a leading game dimension.

Bodies live in a ring buffer per snake (``ring[b, s, (head_ptr + i) & (L - 1)]`` is segment
``i``, head first; L is a power of two) so that a move writes one cell instead of shifting the
whole body. ``occ`` counts,
per snake and cell, the segments ``body[1:]`` (everything but the head): exactly what the
collision rules look at. Food cells hold their position in the food list (0 = no food) so the
official food order survives batching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from optuna_clank.arena.grid import Grid, grid_for
from optuna_clank.arena.standard import (
    CAUSE_BODY,
    CAUSE_DISCONNECTED,
    CAUSE_HEAD,
    CAUSE_OUT_OF_HEALTH,
    CAUSE_SELF,
    CAUSE_WALL,
)

CAUSES: tuple[str, ...] = (
    "",
    CAUSE_OUT_OF_HEALTH,
    CAUSE_WALL,
    CAUSE_SELF,
    CAUSE_BODY,
    CAUSE_HEAD,
    CAUSE_DISCONNECTED,
)
"""Elimination cause strings, indexed by the cause codes stored in :class:`BatchState`.

All but ``disconnected`` are the official ones; that one marks a snake whose server went away
(see :data:`optuna_clank.arena.players.FORFEIT`). The batch holds no hazards, so no ``hazard``."""

ALIVE, OUT_OF_HEALTH, WALL, SELF, BODY, HEAD, DISCONNECTED = range(7)
NO_KILLER = -1


@dataclass
class BatchState:
    """Many games of one board size and seat count; every tensor has a leading game dim."""

    grid: Grid
    game_ids: torch.Tensor  # int64 [B]: index of the game in its match
    keys: torch.Tensor  # int64 [B]: 32-bit random key of the game (common random numbers)
    turn: torch.Tensor  # int64 [B]
    ring: torch.Tensor  # int16 [B, S, L]: padded cell of each body segment
    head_ptr: torch.Tensor  # int64 [B, S]
    length: torch.Tensor  # int64 [B, S]
    head: torch.Tensor  # int64 [B, S]: padded cell of the head (== ring at head_ptr)
    health: torch.Tensor  # int64 [B, S]
    alive: torch.Tensor  # bool [B, S]
    cause: torch.Tensor  # int64 [B, S]: index into CAUSES
    killer: torch.Tensor  # int64 [B, S]: seat that eliminated the snake, or NO_KILLER
    elim_turn: torch.Tensor  # int64 [B, S]
    occ: torch.Tensor  # int8 [B, S, P]: segments body[1:] per cell
    cover: torch.Tensor  # int16 [B, P]: occ summed over the live snakes (kept in step with occ)
    food: torch.Tensor  # int32 [B, P]: order key of the food on a cell, 0 = none
    food_counter: torch.Tensor  # int32 [B]: next food order key
    food_count: torch.Tensor  # int64 [B]: number of food items
    seat_player: torch.Tensor  # int64 [B, S]: which player (of the match) sits in each seat
    running: torch.Tensor  # bool [B]: False once a game is over (until the batch is compacted)

    @property
    def n_games(self) -> int:
        return int(self.turn.shape[0])

    @property
    def n_seats(self) -> int:
        return int(self.head.shape[1])

    @property
    def ring_mask(self) -> int:
        """``index & ring_mask`` wraps a ring position (the ring size is a power of two)."""
        return int(self.ring.shape[2]) - 1

    def segment(self, position: torch.Tensor) -> torch.Tensor:
        """Padded cell at ring offset ``position`` [B, S] from each head (0 = head), int64."""
        index = (self.head_ptr + position) & self.ring_mask
        return self.ring.gather(2, index.unsqueeze(2)).squeeze(2).long()

    def tail(self) -> torch.Tensor:
        """Padded cell of each snake's last segment, int64 [B, S]."""
        return self.segment(self.length - 1)

    def neck(self) -> torch.Tensor:
        """Padded cell of each snake's second segment, int64 [B, S]."""
        return self.segment(torch.ones_like(self.length))

    def select(self, index: torch.Tensor) -> BatchState:
        """The games at ``index`` (a bool mask or int64 indices), as a new state."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return BatchState(**{k: v if k == "grid" else v[index] for k, v in values.items()})

    @staticmethod
    def concat(states: Sequence[BatchState]) -> BatchState:
        """One state holding the games of all ``states`` (same board and seat count)."""
        first = states[0]
        values: dict[str, object] = {"grid": first.grid}
        for f in fields(first):
            if f.name != "grid":
                values[f.name] = torch.cat([getattr(s, f.name) for s in states])
        return BatchState(**values)  # type: ignore[arg-type]

    def body(self, game: int, seat: int) -> list[int]:
        """Padded cells of one snake's body, head first (for conversion, not hot paths)."""
        ring = self.ring[game, seat].tolist()
        start = int(self.head_ptr[game, seat])
        mask = self.ring_mask
        return [ring[(start + i) & mask] for i in range(int(self.length[game, seat]))]

    def food_cells(self, game: int) -> list[int]:
        """Padded cells holding food in one game, in official food-list order."""
        row = self.food[game]
        cells = torch.nonzero(row).flatten()
        order = torch.argsort(row[cells])
        return cells[order].tolist()


def state_from_boards(
    boards: Sequence[dict],
    *,
    game_ids: Sequence[int],
    keys: Sequence[int],
    seat_players: Sequence[Sequence[int]],
    device: str | torch.device = "cpu",
) -> BatchState:
    """Batch rules-shaped boards (as produced by :func:`rules.create_board`) onto ``device``.

    All boards must share width, height and snake count. Eliminated snakes keep their cause;
    their ``eliminated_by`` id must be one of the board's snake ids (or empty).
    """
    first = boards[0]
    width, height = int(first["width"]), int(first["height"])
    n_seats = len(first["snakes"])
    grid = grid_for(width, height, device)
    ring_size = 1 << (width * height + 3 - 1).bit_length()  # room for the longest possible snake
    n_games = len(boards)
    stride = grid.stride
    segments: list[list[int]] = [[], [], [], []]  # game, seat, position, cell
    scalars: list[list[int]] = [
        [],
        [],
        [],
        [],
        [],
        [],
    ]  # length, health, cause, killer, turn, alive
    food_at: list[list[int]] = [[], [], []]  # game, cell, order
    turns = []
    for b, board in enumerate(boards):
        if int(board["width"]) != width or int(board["height"]) != height:
            raise ValueError("all boards of a batch must have the same size")
        if len(board["snakes"]) != n_seats:
            raise ValueError("all boards of a batch must have the same number of snakes")
        turns.append(int(board["turn"]))
        seat_of = {snake["id"]: s for s, snake in enumerate(board["snakes"])}
        for s, snake in enumerate(board["snakes"]):
            cells = [(p["y"] + 1) * stride + p["x"] + 1 for p in snake["body"]]
            if not cells:
                raise ValueError(f"snake {snake['id']!r} has an empty body")
            if len(cells) >= ring_size:
                raise ValueError(f"snake {snake['id']!r} is longer than the board allows")
            segments[0].extend([b] * len(cells))
            segments[1].extend([s] * len(cells))
            segments[2].extend(range(len(cells)))
            segments[3].extend(cells)
            cause_index = CAUSES.index(snake.get("eliminated_cause", ""))
            for column, value in zip(
                scalars,
                (
                    len(cells),
                    int(snake["health"]),
                    cause_index,
                    seat_of.get(snake.get("eliminated_by", ""), NO_KILLER),
                    int(snake.get("eliminated_on_turn", 0)),
                    cause_index == ALIVE,
                ),
                strict=True,
            ):
                column.append(value)
        for order, point in enumerate(board["food"], start=1):
            food_at[0].append(b)
            food_at[1].append((point["y"] + 1) * stride + point["x"] + 1)
            food_at[2].append(order)
    game, seat, position, cell = (torch.tensor(c, dtype=torch.int64) for c in segments)
    ring = torch.zeros(n_games, n_seats, ring_size, dtype=torch.int16)
    ring[game, seat, position] = cell.to(torch.int16)
    length, health, cause, killer, elim_turn, alive = (
        torch.tensor(c, dtype=torch.int64).view(n_games, n_seats) for c in scalars
    )
    occ = torch.zeros(n_games, n_seats, grid.n_cells, dtype=torch.int8)
    counted = (position > 0) & alive.bool()[game, seat]
    occ.index_put_(
        (game[counted], seat[counted], cell[counted]),
        torch.ones(int(counted.sum()), dtype=torch.int8),
        accumulate=True,
    )
    food = torch.zeros(n_games, grid.n_cells, dtype=torch.int32)
    food_games = torch.tensor(food_at[0], dtype=torch.int64)
    food[food_games, torch.tensor(food_at[1], dtype=torch.int64)] = torch.tensor(food_at[2], dtype=torch.int32)
    food_counter = (food.amax(1) + 1).to(torch.int32)
    turn = torch.tensor(turns, dtype=torch.int64)
    head_ptr = torch.zeros(n_games, n_seats, dtype=torch.int64)
    state = BatchState(
        grid=grid,
        game_ids=torch.tensor(list(game_ids), dtype=torch.int64),
        keys=torch.tensor(list(keys), dtype=torch.int64),
        turn=turn,
        ring=ring,
        head_ptr=head_ptr,
        length=length,
        head=ring[:, :, 0].long(),
        health=health,
        alive=cause == ALIVE,
        cause=cause,
        killer=killer,
        elim_turn=elim_turn,
        occ=occ,
        cover=occ.sum(1, dtype=torch.int16),
        food=food,
        food_counter=food_counter,
        food_count=(food > 0).sum(1),
        seat_player=torch.tensor([list(p) for p in seat_players], dtype=torch.int64),
        running=torch.ones(n_games, dtype=torch.bool),
    )
    return _to_device(state, grid.device)


def _to_device(state: BatchState, device: torch.device) -> BatchState:
    values = {f.name: getattr(state, f.name) for f in fields(state)}
    return BatchState(**{k: v if k == "grid" else v.to(device) for k, v in values.items()})


def board_from_state(state: BatchState, game: int, snake_ids: Sequence[str]) -> dict:
    """One game as a rules-shaped board dict (eliminated snakes included, with their cause)."""
    grid = state.grid

    def point(cell: int) -> dict[str, int]:
        x, y = grid.point(cell)
        return {"x": x, "y": y}

    snakes = []
    for s, snake_id in enumerate(snake_ids):
        code = int(state.cause[game, s])
        killer = int(state.killer[game, s])
        snakes.append(
            {
                "id": snake_id,
                "body": [point(c) for c in state.body(game, s)],
                "health": int(state.health[game, s]),
                "eliminated_cause": CAUSES[code],
                "eliminated_by": snake_ids[killer] if killer != NO_KILLER else "",
                "eliminated_on_turn": int(state.elim_turn[game, s]),
            }
        )
    return {
        "turn": int(state.turn[game]),
        "width": grid.width,
        "height": grid.height,
        "food": [point(c) for c in state.food_cells(game)],
        "hazards": [],
        "snakes": snakes,
    }
