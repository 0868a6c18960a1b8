"""The batched standard-ruleset engine: one function per stage, all games at once.

Every stage is ``stage(state, moves) -> games ended or None`` and :data:`STAGE_FUNCTIONS` maps
the shared stage names of :mod:`optuna_clank.arena.standard` to them, so a turn runs the same
stage list as the reference rules. The game-over stage runs right after the turn's other stages
(no extra round of moves, as in the official CLI's game loop), then food spawns in the games that
go on. No stage loops over games in Python.
Events that touch few snakes in a turn (eating, collisions, spawning) are applied to just the
affected rows, found with one cheap test over the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import torch

from optuna_clank.arena.counter_rng import mix
from optuna_clank.arena.grid import SPAWN_TABLES
from optuna_clank.arena.standard import (
    ELIMINATION,
    FEED_SNAKES,
    GAME_OVER,
    HAZARD_DAMAGE,
    MOVEMENT,
    SNAKE_MAX_HEALTH,
    STARVATION,
    TURN_STAGES,
)
from optuna_clank.arena.state import BODY, DISCONNECTED, HEAD, NO_KILLER, OUT_OF_HEALTH, SELF, WALL, BatchState

_SPAWN_ROLL = 0x51
_SPAWN_CELL = 0x5EED


@dataclass(frozen=True)
class FoodSettings:
    """Food spawning settings of the standard map (official CLI defaults)."""

    minimum_food: int = 1
    food_spawn_chance: int = 15

    def __post_init__(self) -> None:
        if self.minimum_food < 0 or not 0 <= self.food_spawn_chance <= 100:
            raise ValueError("minimum_food must be >= 0 and food_spawn_chance within 0..100")


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
    missing = alive & (moves < 0)
    if bool(missing.any()):
        moves = torch.where(missing, default_moves(state), moves)
    offsets = state.grid.move_offsets[moves.clamp(min=0)]
    new_head = torch.where(alive, state.head + offsets, state.head)
    n_rows = state.n_games * state.n_seats
    occ_rows = state.occ.view(n_rows, -1)
    step = alive.to(torch.int8)
    tail = state.tail()
    # body[1:] gains the old head and loses the old tail.
    occ_rows.scatter_add_(1, state.head.view(n_rows, 1), step.view(n_rows, 1))
    occ_rows.scatter_add_(1, tail.view(n_rows, 1), -step.view(n_rows, 1))
    step16 = step.to(torch.int16)
    state.cover.scatter_add_(1, state.head, step16)
    state.cover.scatter_add_(1, tail, -step16)
    state.head_ptr = (state.head_ptr - alive.to(torch.int64)) & state.ring_mask
    state.ring.scatter_(2, state.head_ptr.unsqueeze(2), new_head.to(torch.int16).unsqueeze(2))
    state.head = new_head


def reduce_health(state: BatchState, moves: torch.Tensor) -> None:
    """Stage 2: every live snake loses one health point (eating later restores it)."""
    state.health = state.health - state.alive.to(torch.int64)


def damage_hazards(state: BatchState, moves: torch.Tensor) -> None:
    """Stage 3: nothing to do, because the standard map has no hazards (a batch holds none)."""


def feed_snakes(state: BatchState, moves: torch.Tensor) -> None:
    """Stage 4: snakes whose head is on food grow by their tail and heal."""
    eat = state.alive & (state.food.gather(1, state.head) > 0)
    pairs = torch.nonzero(eat)
    if pairs.numel() == 0:
        return
    games, seats = pairs[:, 0], pairs[:, 1]
    head_ptr, length = state.head_ptr[games, seats], state.length[games, seats]
    last = state.ring[games, seats, (head_ptr + length - 1) & state.ring_mask]
    state.ring[games, seats, (head_ptr + length) & state.ring_mask] = last
    state.occ.index_put_((games, seats, last.long()), torch.ones_like(last, dtype=torch.int8), accumulate=True)
    state.cover.index_put_((games, last.long()), torch.ones_like(last), accumulate=True)
    state.length[games, seats] = length + 1
    state.health[games, seats] = SNAKE_MAX_HEALTH
    eaten = torch.unique(games * state.grid.n_cells + state.head[games, seats])  # shared food counts once
    eaten_games = eaten // state.grid.n_cells
    state.food[eaten_games, eaten % state.grid.n_cells] = 0
    state.food_count.index_put_((eaten_games,), torch.full_like(eaten_games, -1), accumulate=True)


def _order_rank(length: torch.Tensor) -> torch.Tensor:
    """Position of each snake when sorted longest first, ties by seat (the official order)."""
    n_seats = length.shape[1]
    seats = torch.arange(n_seats, device=length.device)
    other_len, own_len = length.unsqueeze(1), length.unsqueeze(2)  # [B, 1, S'], [B, S, 1]
    before = (other_len > own_len) | ((other_len == own_len) & (seats.view(1, 1, -1) < seats.view(1, -1, 1)))
    return before.sum(2)


def _first_in_order(candidates: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
    """For each snake, the first candidate opponent (``candidates``: [B, S, S']) in order."""
    big = torch.iinfo(torch.int64).max
    return torch.where(candidates, rank.unsqueeze(1), big).argmin(2)


def eliminate_snakes(state: BatchState, moves: torch.Tensor) -> None:
    """Stage 5: starvation and walls first, then collisions decided together (official ``EliminateSnakesStandard``)."""
    alive = state.alive.clone()  # the collisions write state.alive in place; the dead bodies are cleared by this
    starved = alive & (state.health <= 0)
    walled = alive & ~starved & ~state.grid.on_board[state.head]
    survivors = alive & ~starved & ~walled
    n_games, n_seats = state.n_games, state.n_seats
    # covers[b, o, s]: snake o has a segment of body[1:] on the head of snake s.
    covers = state.occ.gather(2, state.head.unsqueeze(1).expand(n_games, n_seats, n_seats)) > 0
    shared = (state.head.unsqueeze(2) == state.head.unsqueeze(1)).sum(2) > 1
    suspect = survivors & (covers.any(1) | shared)
    rows = torch.nonzero(suspect.any(1)).flatten()
    died = starved | walled
    if bool(died.any()):
        state.cause = torch.where(starved, OUT_OF_HEALTH, torch.where(walled, WALL, state.cause))
        state.elim_turn = torch.where(died, (state.turn + 1).unsqueeze(1), state.elim_turn)
        state.alive = alive & ~died
    if rows.numel():
        _eliminate_collisions(state, rows, survivors[rows], covers[rows].transpose(1, 2))
    if rows.numel() or bool(died.any()):
        _clear_dead_bodies(state, alive & ~state.alive)


def _clear_dead_bodies(state: BatchState, newly_dead: torch.Tensor) -> None:
    """Eliminated snakes stop being obstacles: drop their segments from occ and cover."""
    pairs = torch.nonzero(newly_dead)
    games, seats = pairs[:, 0], pairs[:, 1]
    state.cover.index_put_((games,), -state.occ[games, seats].to(torch.int16), accumulate=True)
    state.occ[games, seats] = 0


def _eliminate_collisions(state: BatchState, rows: torch.Tensor, survivors: torch.Tensor, hits: torch.Tensor) -> None:
    """Self, body and head-to-head collisions of the games ``rows`` (hits[b, s, o] as above)."""
    n_seats = state.n_seats
    seats = torch.arange(n_seats, device=rows.device)
    eye = seats.view(1, -1, 1) == seats.view(1, 1, -1)
    others = ~eye & survivors.unsqueeze(1)
    head, length = state.head[rows], state.length[rows]
    own_body = (hits & eye).any(2)
    body_hit = hits & others
    head_hit = (head.unsqueeze(2) == head.unsqueeze(1)) & others & (length.unsqueeze(1) >= length.unsqueeze(2))
    rank = _order_rank(length)
    self_dead = survivors & own_body
    body_dead = survivors & ~self_dead & body_hit.any(2)
    head_dead = survivors & ~self_dead & ~body_dead & head_hit.any(2)
    killer = state.killer[rows]
    killer = torch.where(self_dead, seats.view(1, -1), killer)
    killer = torch.where(body_dead, _first_in_order(body_hit, rank), killer)
    killer = torch.where(head_dead, _first_in_order(head_hit, rank), killer)
    cause = state.cause[rows]
    for mask, code in ((self_dead, SELF), (body_dead, BODY), (head_dead, HEAD)):
        cause = torch.where(mask, code, cause)
    died = self_dead | body_dead | head_dead
    state.killer[rows] = killer
    state.cause[rows] = cause
    state.elim_turn[rows] = torch.where(died, (state.turn[rows] + 1).unsqueeze(1), state.elim_turn[rows])
    state.alive[rows] = state.alive[rows] & ~died


def game_over(state: BatchState, moves: torch.Tensor) -> torch.Tensor:
    """Stage 0: the games that are over: at most one snake left (none left in a solo game)."""
    left = state.alive.sum(1)
    return left == 0 if state.n_seats == 1 else left <= 1


def spawn_food(state: BatchState, settings: FoodSettings, active: torch.Tensor) -> None:
    """Standard-map food spawning in the ``active`` games (official ``StandardMap.PostUpdateBoard``).

    Minimum food first, else one item with the official (chance - 1)% quirk; candidates are free
    board cells not next to a live head. The draw depends on the game's random key and the turn
    only, so the same game spawns the same way in any batch.
    """
    need = (settings.minimum_food - state.food_count).clamp(min=0)
    roll = mix(state.keys, state.turn, _SPAWN_ROLL)
    lucky = (need == 0) & ((100 - roll % 100) < settings.food_spawn_chance)
    count = torch.where(active, need + lucky.to(torch.int64), 0)
    rows = torch.nonzero(count > 0).flatten()
    if rows.numel() == 0:
        return
    grid = state.grid
    alive = state.alive[rows]
    heads = torch.where(alive, state.head[rows], 0)  # cell 0 is a border corner: harmless
    taken = (state.cover[rows] > 0) | (state.food[rows] > 0)
    near_head = _cells_near_heads(grid.n_cells, heads, alive, grid.move_offsets)
    candidate = grid.on_board.unsqueeze(0) & ~taken & ~near_head
    table = mix(roll[rows], _SPAWN_CELL) % SPAWN_TABLES
    ranks = grid.spawn_ranks[table] * candidate  # 0 = not a candidate
    wanted = count[rows]
    top_ranks, top_cells = ranks.topk(int(wanted.max()), dim=1)
    for j in range(top_cells.shape[1]):
        ok = (j < wanted) & (top_ranks[:, j] > 0)
        games, cells = rows[ok], top_cells[ok, j]
        state.food[games, cells] = state.food_counter[games]
        state.food_counter[games] += 1
        state.food_count[games] += 1


def _cells_near_heads(n_cells: int, heads: torch.Tensor, alive: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """Bool [R, P]: cells that are a live head or orthogonally next to one."""
    spots = torch.cat([heads.unsqueeze(2), heads.unsqueeze(2) + offsets.view(1, 1, -1)], dim=2)
    spots = spots.clamp(0, n_cells - 1).flatten(1)
    weight = alive.unsqueeze(2).expand(-1, -1, 5).flatten(1).to(torch.int16)
    near = torch.zeros(heads.shape[0], n_cells, dtype=torch.int16, device=heads.device)
    return near.scatter_add_(1, spots, weight) > 0


BatchStage: TypeAlias = Callable[[BatchState, torch.Tensor], "torch.Tensor | None"]
"""One stage: works in place; returns the games it ends (bool [B]), None where it ends none."""

STAGE_FUNCTIONS: Mapping[str, BatchStage] = {
    GAME_OVER: game_over,
    MOVEMENT: move_snakes,
    STARVATION: reduce_health,
    HAZARD_DAMAGE: damage_hazards,
    FEED_SNAKES: feed_snakes,
    ELIMINATION: eliminate_snakes,
}
"""Each shared stage name's implementation here (listed in the official order)."""


def step(state: BatchState, moves: torch.Tensor, settings: FoodSettings) -> torch.Tensor:
    """Play one turn in every running game of ``state`` (in place); returns the games now over.

    The turn's stages run in the shared order; the game-over stage, which the official engine runs
    first in the next ``Execute``, runs right away, so a finished game is asked for no more moves.
    """
    for name in TURN_STAGES:
        STAGE_FUNCTIONS[name](state, moves)
    ended = STAGE_FUNCTIONS[GAME_OVER](state, moves)
    assert ended is not None  # the game-over stage always answers
    over = ended & state.running
    going_on = state.running & ~over
    spawn_food(state, settings, going_on)
    state.turn = state.turn + state.running.to(torch.int64)
    return over


def forfeit(state: BatchState, snakes: torch.Tensor) -> None:
    """Eliminate the live ``snakes`` (bool [B, S]) as ``disconnected`` before a turn is played.

    Not part of the official rules: it is how the arena takes a snake whose server is gone out
    of its games. They are eliminated on the coming turn, like any other elimination of it.
    """
    gone = snakes & state.alive
    if not bool(gone.any()):
        return
    state.cause = torch.where(gone, DISCONNECTED, state.cause)
    state.killer = torch.where(gone, NO_KILLER, state.killer)
    state.elim_turn = torch.where(gone, (state.turn + 1).unsqueeze(1), state.elim_turn)
    state.alive = state.alive & ~gone
    _clear_dead_bodies(state, gone)


def retire(state: BatchState, games: torch.Tensor) -> None:
    """Take finished games out of play without copying the batch (their snakes stop moving)."""
    rows = torch.nonzero(games & state.running).flatten()
    if rows.numel() == 0:
        return
    state.running[rows] = False
    state.alive[rows] = False
    state.occ[rows] = 0
    state.cover[rows] = 0
