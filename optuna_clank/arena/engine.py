"""The batched standard-ruleset engine: one function per stage, all games at once.

Stages follow the official pipeline (movement, health, feeding, elimination), then the
benchmark driver tests game over right after the transition (no extra round of moves, see
RULES.md §2) and spawns food in the games that go on. No stage loops over games in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from optuna_clank.arena.counter_rng import mix
from optuna_clank.arena.state import (
    BODY,
    HEAD,
    NO_KILLER,
    OUT_OF_HEALTH,
    SELF,
    WALL,
    BatchState,
)

SNAKE_MAX_HEALTH = 100
_SPAWN_ROLL = 0x51
_SPAWN_CELL = 0x5EED


@dataclass(frozen=True)
class FoodSettings:
    """Food spawning settings of the standard map (official CLI defaults)."""

    minimum_food: int = 1
    food_spawn_chance: int = 15


def default_moves(state: BatchState) -> torch.Tensor:
    """The official default move of every snake: keep going from neck to head, else up."""
    diff = state.head - state.neck()
    offsets = state.grid.move_offsets
    moves = torch.zeros_like(diff)  # up
    for index in (1, 2, 3):
        moves = torch.where(diff == offsets[index], index, moves)
    return moves


def move_snakes(state: BatchState, moves: torch.Tensor) -> None:
    """Stage 1: every live snake moves one cell; ``moves`` < 0 means "use the default move"."""
    alive = state.alive
    moves = torch.where(moves < 0, default_moves(state), moves)
    new_head = torch.where(alive, state.head + state.grid.move_offsets[moves], state.head)
    n_rows = state.n_games * state.n_seats
    occ_rows = state.occ.view(n_rows, -1)
    step = alive.to(torch.int8).view(n_rows, 1)
    # body[1:] gains the old head and loses the old tail.
    occ_rows.scatter_add_(1, state.head.view(n_rows, 1), step)
    occ_rows.scatter_add_(1, state.tail().view(n_rows, 1), -step)
    state.head_ptr = torch.where(alive, (state.head_ptr - 1) % state.ring_size, state.head_ptr)
    state.ring.scatter_(2, state.head_ptr.unsqueeze(2), new_head.unsqueeze(2))
    state.head = new_head


def reduce_health(state: BatchState) -> None:
    """Stage 2: every live snake loses one health point (eating later restores it)."""
    state.health = state.health - state.alive.to(torch.int64)


def feed_snakes(state: BatchState) -> torch.Tensor:
    """Stage 4: snakes whose head is on food grow by their tail and heal; returns who ate."""
    eat = state.alive & (state.food.gather(1, state.head) > 0)
    if not bool(eat.any()):
        return eat
    grow_index = ((state.head_ptr + state.length) % state.ring_size).unsqueeze(2)
    last = state.tail().unsqueeze(2)
    state.ring.scatter_(2, grow_index, torch.where(eat.unsqueeze(2), last, state.ring.gather(2, grow_index)))
    n_rows = state.n_games * state.n_seats
    state.occ.view(n_rows, -1).scatter_add_(1, last.view(n_rows, 1), eat.to(torch.int8).view(n_rows, 1))
    state.length = state.length + eat.to(torch.int64)
    state.health = torch.where(eat, SNAKE_MAX_HEALTH, state.health)
    eaten = torch.zeros_like(state.food).scatter_add_(1, state.head, eat.to(torch.int64)) > 0
    state.food = torch.where(eaten, 0, state.food)
    return eat


def _order_rank(length: torch.Tensor) -> torch.Tensor:
    """Position of each snake when sorted longest first, ties by seat (the official order)."""
    n_seats = length.shape[1]
    seats = torch.arange(n_seats, device=length.device)
    other_len, own_len = length.unsqueeze(1), length.unsqueeze(2)  # [B, 1, S'], [B, S, 1]
    before = (other_len > own_len) | ((other_len == own_len) & (seats.view(1, 1, -1) < seats.view(1, -1, 1)))
    return before.sum(2)


def _first_in_order(candidates: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
    """For each snake, the first candidate opponent (``candidates`` [B, S, S']) in official order."""
    big = torch.iinfo(torch.int64).max
    return torch.where(candidates, rank.unsqueeze(1), big).argmin(2)


def eliminate_snakes(state: BatchState) -> None:
    """Stage 5: starvation and walls first, then collisions decided together (RULES.md §3.6)."""
    alive = state.alive
    starved = alive & (state.health <= 0)
    walled = alive & ~starved & ~state.grid.on_board[state.head]
    survivors = alive & ~starved & ~walled
    n_games, n_seats = state.n_games, state.n_seats
    seats = torch.arange(n_seats, device=alive.device)
    others = (seats.view(1, -1, 1) != seats.view(1, 1, -1)) & survivors.unsqueeze(1)  # [B, S, S']

    own_body = state.occ.gather(2, state.head.unsqueeze(2)).squeeze(2) > 0
    heads_of = state.head.unsqueeze(1).expand(n_games, n_seats, n_seats)  # [b, o, s] = head[b, s]
    body_hit = (state.occ.gather(2, heads_of) > 0).transpose(1, 2) & others
    head_hit = (
        (state.head.unsqueeze(2) == state.head.unsqueeze(1))
        & others
        & (state.length.unsqueeze(1) >= state.length.unsqueeze(2))
    )
    rank = _order_rank(state.length)
    self_dead = survivors & own_body
    body_dead = survivors & ~self_dead & body_hit.any(2)
    head_dead = survivors & ~self_dead & ~body_dead & head_hit.any(2)

    killer = state.killer
    killer = torch.where(self_dead, seats.view(1, -1), killer)
    killer = torch.where(body_dead, _first_in_order(body_hit, rank), killer)
    killer = torch.where(head_dead, _first_in_order(head_hit, rank), killer)
    cause = state.cause
    for mask, code in ((starved, OUT_OF_HEALTH), (walled, WALL), (self_dead, SELF), (body_dead, BODY), (head_dead, HEAD)):
        cause = torch.where(mask, code, cause)
    died = starved | walled | self_dead | body_dead | head_dead
    state.killer = torch.where(starved | walled, NO_KILLER, killer)
    state.cause = cause
    state.elim_turn = torch.where(died, (state.turn + 1).unsqueeze(1), state.elim_turn)
    state.alive = alive & ~died
    state.occ.mul_(state.alive.to(torch.int8).unsqueeze(2))


def game_over(state: BatchState) -> torch.Tensor:
    """Games that are over: at most one snake left (none left in a solo game)."""
    left = state.alive.sum(1)
    return left == 0 if state.n_seats == 1 else left <= 1


def spawn_food(state: BatchState, settings: FoodSettings, active: torch.Tensor) -> None:
    """Standard-map food spawning in the ``active`` games (RULES.md §5).

    Minimum food first, else one item with the official (chance - 1)% quirk; candidates are free
    board cells not next to a live head. Which candidate is drawn from the game's random key, the
    turn and the cell only, so the same game spawns the same way in any batch.
    """
    n_food = (state.food > 0).sum(1)
    need = (settings.minimum_food - n_food).clamp(min=0)
    roll = mix(state.keys, state.turn, _SPAWN_ROLL) % 100
    lucky = (need == 0) & ((100 - roll) < settings.food_spawn_chance)
    count = torch.where(active, need + lucky.to(torch.int64), 0)
    rows = torch.nonzero(count > 0).flatten()
    if rows.numel() == 0:
        return
    grid = state.grid
    alive = state.alive[rows]
    heads = torch.where(alive, state.head[rows], 0)  # cell 0 is a border corner: harmless
    taken = (state.occ[rows].sum(1) > 0) | (state.food[rows] > 0)
    near_head = _cells_near_heads(grid.n_cells, heads, alive, grid.move_offsets)
    candidate = grid.on_board.unsqueeze(0) & ~taken & ~near_head
    cells = torch.arange(grid.n_cells, device=rows.device)
    keys = mix(state.keys[rows].unsqueeze(1), state.turn[rows].unsqueeze(1), _SPAWN_CELL + cells)
    keys = torch.where(candidate, keys, -1)
    wanted = count[rows]
    top_keys, top_cells = keys.topk(int(wanted.max()), dim=1)
    for j in range(top_cells.shape[1]):
        ok = (j < wanted) & (top_keys[:, j] >= 0)
        games, cells_j = rows[ok], top_cells[ok, j]
        state.food[games, cells_j] = state.food_counter[games]
        state.food_counter[games] += 1


def _cells_near_heads(n_cells: int, heads: torch.Tensor, alive: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Bool [R, P]: cells that are a live head or orthogonally next to one."""
    spots = torch.cat([heads.unsqueeze(2), heads.unsqueeze(2) + offsets.view(1, 1, -1)], dim=2)
    spots = spots.clamp(0, n_cells - 1).flatten(1)
    weight = alive.unsqueeze(2).expand(-1, -1, 5).flatten(1).to(torch.int64)
    return torch.zeros(heads.shape[0], n_cells, dtype=torch.int64, device=heads.device).scatter_add_(1, spots, weight) > 0


def step(state: BatchState, moves: torch.Tensor, settings: FoodSettings) -> torch.Tensor:
    """Play one turn in every game of ``state`` (in place); returns the games now over."""
    move_snakes(state, moves)
    reduce_health(state)
    feed_snakes(state)
    eliminate_snakes(state)
    over = game_over(state)
    spawn_food(state, settings, ~over)
    state.turn = state.turn + 1
    return over
