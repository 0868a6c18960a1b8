"""The state of many games at once, as tensors with a leading game dimension.

Bodies live in a ring buffer per snake (``ring[b, s, (head_ptr + i) % L]`` is segment ``i``,
head first) so that a move writes one cell instead of shifting the whole body. ``occ`` counts,
per snake and cell, the segments ``body[1:]`` (everything but the head): exactly what the
collision rules look at. Food cells hold their position in the food list (0 = no food) so the
official food order survives batching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch

from optuna_clank.arena.grid import Grid, grid_for

CAUSES: tuple[str, ...] = (
    "",
    "out-of-health",
    "wall-collision",
    "snake-self-collision",
    "snake-collision",
    "head-collision",
)
"""Elimination cause strings, indexed by the cause codes stored in :class:`BatchState`."""

ALIVE, OUT_OF_HEALTH, WALL, SELF, BODY, HEAD = range(6)
NO_KILLER = -1


@dataclass
class BatchState:
    """Many games of one board size and seat count; every tensor has a leading game dim."""

    grid: Grid
    game_ids: torch.Tensor  # int64 [B]: index of the game in its match
    keys: torch.Tensor  # int64 [B]: 32-bit random key of the game (common random numbers)
    turn: torch.Tensor  # int64 [B]
    ring: torch.Tensor  # int64 [B, S, L]: padded cell of each body segment
    head_ptr: torch.Tensor  # int64 [B, S]
    length: torch.Tensor  # int64 [B, S]
    head: torch.Tensor  # int64 [B, S]: padded cell of the head (== ring at head_ptr)
    health: torch.Tensor  # int64 [B, S]
    alive: torch.Tensor  # bool [B, S]
    cause: torch.Tensor  # int64 [B, S]: index into CAUSES
    killer: torch.Tensor  # int64 [B, S]: seat that eliminated the snake, or NO_KILLER
    elim_turn: torch.Tensor  # int64 [B, S]
    occ: torch.Tensor  # int8 [B, S, P]: segments body[1:] per cell
    food: torch.Tensor  # int64 [B, P]: order key of the food on a cell, 0 = none
    food_counter: torch.Tensor  # int64 [B]: next food order key
    seat_player: torch.Tensor  # int64 [B, S]: which player (of the match) sits in each seat

    @property
    def n_games(self) -> int:
        return int(self.turn.shape[0])

    @property
    def n_seats(self) -> int:
        return int(self.head.shape[1])

    @property
    def ring_size(self) -> int:
        return int(self.ring.shape[2])

    def tail(self) -> torch.Tensor:
        """Padded cell of each snake's last segment, int64 [B, S]."""
        index = (self.head_ptr + self.length - 1) % self.ring_size
        return self.ring.gather(2, index.unsqueeze(2)).squeeze(2)

    def neck(self) -> torch.Tensor:
        """Padded cell of each snake's second segment, int64 [B, S]."""
        index = (self.head_ptr + 1) % self.ring_size
        return self.ring.gather(2, index.unsqueeze(2)).squeeze(2)

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
        size = self.ring_size
        return [ring[(start + i) % size] for i in range(int(self.length[game, seat]))]

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
    ring_size = width * height + 3
    n_games = len(boards)
    ring = torch.zeros(n_games, n_seats, ring_size, dtype=torch.int64)
    length = torch.zeros(n_games, n_seats, dtype=torch.int64)
    health = torch.zeros(n_games, n_seats, dtype=torch.int64)
    cause = torch.zeros(n_games, n_seats, dtype=torch.int64)
    killer = torch.full((n_games, n_seats), NO_KILLER, dtype=torch.int64)
    elim_turn = torch.zeros(n_games, n_seats, dtype=torch.int64)
    occ = torch.zeros(n_games, n_seats, grid.n_cells, dtype=torch.int8)
    food = torch.zeros(n_games, grid.n_cells, dtype=torch.int64)
    food_counter = torch.ones(n_games, dtype=torch.int64)
    turn = torch.zeros(n_games, dtype=torch.int64)
    for b, board in enumerate(boards):
        if int(board["width"]) != width or int(board["height"]) != height:
            raise ValueError("all boards of a batch must have the same size")
        if len(board["snakes"]) != n_seats:
            raise ValueError("all boards of a batch must have the same number of snakes")
        turn[b] = int(board["turn"])
        seat_of = {snake["id"]: s for s, snake in enumerate(board["snakes"])}
        for s, snake in enumerate(board["snakes"]):
            cells = [grid.cell(p["x"], p["y"]) for p in snake["body"]]
            if not cells:
                raise ValueError(f"snake {snake['id']!r} has an empty body")
            if len(cells) >= ring_size:
                raise ValueError(f"snake {snake['id']!r} is longer than the board allows")
            ring[b, s, : len(cells)] = torch.tensor(cells)
            length[b, s] = len(cells)
            health[b, s] = int(snake["health"])
            cause[b, s] = CAUSES.index(snake.get("eliminated_cause", ""))
            killer[b, s] = seat_of.get(snake.get("eliminated_by", ""), NO_KILLER)
            elim_turn[b, s] = int(snake.get("eliminated_on_turn", 0))
            if cause[b, s] == ALIVE:
                for c in cells[1:]:
                    occ[b, s, c] += 1
        for order, point in enumerate(board["food"], start=1):
            food[b, grid.cell(point["x"], point["y"])] = order
        food_counter[b] = len(board["food"]) + 1
    head_ptr = torch.zeros(n_games, n_seats, dtype=torch.int64)
    state = BatchState(
        grid=grid,
        game_ids=torch.tensor(list(game_ids), dtype=torch.int64),
        keys=torch.tensor(list(keys), dtype=torch.int64),
        turn=turn,
        ring=ring,
        head_ptr=head_ptr,
        length=length,
        head=ring[:, :, 0].clone(),
        health=health,
        alive=cause == ALIVE,
        cause=cause,
        killer=killer,
        elim_turn=elim_turn,
        occ=occ,
        food=food,
        food_counter=food_counter,
        seat_player=torch.tensor([list(p) for p in seat_players], dtype=torch.int64),
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
