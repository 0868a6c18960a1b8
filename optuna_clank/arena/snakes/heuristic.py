"""The tunable heuristic snake: a one-ply scorer of the four moves, batched.

Each move gets a score from terms modelled on what the go-battleclank bot looks at:
fatal moves excluded, free space vs own length with trap penalties, head-to-head avoidance and
hunting, danger near longer heads, food by path distance with health-band weights, food traps,
centre, walls, cutoff, pursuit of shorter heads, taking escape space from shorter snakes, and
keeping the heading. Every key listed in :mod:`optuna_clank.arena.params` feeds one of them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import torch

from optuna_clank.arena.config import Config, default_config, flatten
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes._context import FAR, SeatContext, pick_best
from optuna_clank.arena.snakes._seat_values import SeatValues, table_for

EARLY_GAME_TURNS = 50
"""Turns during which ``food_weights.healthy_early_game`` replaces ``healthy_base``."""

_FATAL = -1e9
_HUNT_SHARE = 0.25  # bonus for a cell a shorter head can enter, as a share of head_collision
_TRAP_RATIOS = (0.4, 0.6, 0.8)
_HUNGRY = 30
_NEAR = 3

Value = float | torch.Tensor
"""A config value as the scoring code uses it: a Python number (one config for every seat) or a
float32 tensor shaped against what it meets (seats of several configs), see :class:`_Weights`."""


class HeuristicSnake(Player):
    """The snake a study tunes, driven by a go-battleclank shaped config."""

    def __init__(self, config: Config | None = None, *, name: str = "heuristic") -> None:
        self.config = config if config is not None else default_config()
        self.name = name
        self._p: dict[str, float | int | bool | str] = flatten(self.config)

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        return pick_best(self.scores(view, seats))

    @property
    def family(self) -> Hashable:
        return type(self)

    @classmethod
    def choose_mixed(cls, players: Sequence[Player], view: TurnView, seats: Seats, which: torch.Tensor) -> torch.Tensor:
        """Every seat scored with its own player's config, in one vectorised call."""
        if len(players) == 1:
            return players[0].choose(view, seats)
        configs = [player._p for player in players if isinstance(player, HeuristicSnake)]
        if len(configs) != len(players):
            raise TypeError("choose_mixed of heuristic snakes got a player of another kind")
        return pick_best(_scores(view, seats, table_for(configs).for_seats(which)))

    def scores(self, view: TurnView, seats: Seats) -> torch.Tensor:
        """Float [n, 4]: the score of each move of each seat (fatal moves at -1e9)."""
        return _scores(view, seats, SeatValues(self._p))


class _Weights:
    """The config values the way the scoring code meets them.

    With one config every value is the Python number, so torch rounds it to float32 where it meets
    a float32 tensor; with seats of several configs a value that differs is a tensor per seat,
    rounded to float32 the same way, after any arithmetic on config values alone was done in double
    precision as Python does it. Integer thresholds stay integers.
    """

    def __init__(self, values: SeatValues) -> None:
        self.values = values

    def __call__(self, key: str, dims: int = 1) -> Value:
        """``key``'s value as float32, a tensor shaped [n] followed by ``dims`` ones."""
        return _single(self.values.number(key), dims)

    def derived(self, value: float | torch.Tensor, dims: int = 1) -> Value:
        """A double-precision expression of config values, as float32 shaped like :meth:`__call__`."""
        return _single(value, dims)

    def number(self, key: str) -> float | torch.Tensor:
        """Double precision, [n], for arithmetic on config values before they meet a tensor."""
        return self.values.number(key)

    def integer(self, key: str, dims: int = 1) -> int | torch.Tensor:
        value = self.values.integer(key)
        return value.view(-1, *([1] * dims)) if isinstance(value, torch.Tensor) else value


def _single(value: float | torch.Tensor, dims: int) -> Value:
    if isinstance(value, torch.Tensor):
        return value.to(torch.float32).view(-1, *([1] * dims))
    return value


def _scores(view: TurnView, seats: Seats, values: SeatValues) -> torch.Tensor:
    """Float [n, 4]: the score of each move of each seat under each seat's config (fatal moves at -1e9)."""
    p = _Weights(values)
    c = SeatContext(view, seats)
    grid = view.grid
    length = c.length.to(torch.float32).unsqueeze(1)
    turn = c.turn.unsqueeze(1)
    caution = torch.where(turn >= p.integer("late_game.turn_threshold"), p("late_game.caution_multiplier"), 1.0)
    space = c.space.to(torch.float32)
    # Room to turn around: a pocket must hold about twice the body to be left again.
    ratio = space / (2.0 * length)

    score = p("weights.space") * space / grid.n_board_cells
    score = score - caution * _trap_penalty(ratio, p)
    score = score + _head_to_head(c, p, caution)
    score = score + _food(c, p, view, space=space, length=length, caution=caution)
    score = score + p("weights.center_control") * (1.0 - c.centre_distance / ((grid.width + grid.height - 2) / 2))
    score = score - caution * p("weights.wall_penalty") * c.on_edge.to(torch.float32)
    score = score - p("weights.cutoff") * (2 - c.free_neighbours).clamp(min=0).to(torch.float32) / 2
    score = score + _pursuit(c, p)
    score = score + _trapping(c, p, view)
    straight = c.direction.unsqueeze(1) == torch.arange(4, device=score.device).unsqueeze(0)
    score = score + p("weights.straight_movement") * straight.to(torch.float32)
    score = score + _press(c, p)
    return torch.where(c.free, score, _FATAL)


def _press(c: SeatContext, p: _Weights) -> torch.Tensor:
    """Once longest (after a turn threshold), a steady pull toward the nearest shorter head,
    squeezing its space; unlike pursuit it acts at any range."""
    grid = c.view.grid
    longest = c.enemy.any(1) & ~c.longer_enemy.any(1)
    pressing = (longest & (c.turn >= p.integer("tactics.aggressive_space_turn_threshold", 0))).unsqueeze(1)
    prey = torch.where(c.shorter_enemy.unsqueeze(1), c.enemy_distance, FAR).amin(2)
    closeness = (1.0 - prey.to(torch.float32) / (grid.width + grid.height)).clamp(min=0.0)
    return torch.where(pressing, p("tactics.aggressive_space_control_weight") * closeness, 0.0)


def _head_to_head(c: SeatContext, p: _Weights, caution: torch.Tensor) -> torch.Tensor:
    """Avoid cells a longer (or equal) head can enter; hunt where only shorter heads can."""
    adjacent = c.enemy_distance == 1
    threat = (adjacent & c.longer_enemy.unsqueeze(1)).any(2).to(torch.float32)
    prey = (adjacent & c.shorter_enemy.unsqueeze(1)).any(2).to(torch.float32)
    weight = p("weights.head_collision")
    hunt = p.derived(_HUNT_SHARE * p.number("weights.head_collision"))
    score = -caution * weight * threat + hunt * prey * (1.0 - threat)
    # One turn further out: a strictly longer head that could meet ours head-on next turn,
    # weighted by how much longer it is (equal heads are the head_collision term's business).
    own = c.length.to(torch.float32).unsqueeze(1)
    excess = ((c.enemy_length.to(torch.float32) - own) / own).clamp(min=0.0, max=2.0)
    bigger = c.enemy & (c.enemy_length > c.length.unsqueeze(1))
    near = ((c.turns_to_meet == 2) & bigger.unsqueeze(1)).to(torch.float32)
    pressure = (near * excess.unsqueeze(1)).sum(2)
    hungry = torch.where(c.health < _HUNGRY, 1.5, 1.0).unsqueeze(1)
    return score - p("tactics.predictive_avoidance_weight") * pressure * hungry


def _food(
    c: SeatContext,
    p: _Weights,
    view: TurnView,
    *,
    space: torch.Tensor,
    length: torch.Tensor,
    caution: torch.Tensor,
) -> torch.Tensor:
    """Food pull by path distance, weighted by health band; a penalty for food that traps."""
    grid = view.grid
    distance = c.at_cells(view.food_distance(grid.width + grid.height)).to(torch.float32)
    outmatched = (torch.where(c.longer_enemy.unsqueeze(1), c.enemy_distance, FAR).amin(2) <= _NEAR).any(1)
    longest = c.enemy.any(1) & ~c.longer_enemy.any(1)
    healthy = torch.where(
        c.turn < EARLY_GAME_TURNS,
        p("food_weights.healthy_early_game", 0),
        p("food_weights.healthy_base", 0),
    )
    healthy = healthy * torch.where(outmatched, p("food_weights.healthy_outmatched", 0), 1.0)
    healthy = healthy * torch.where(longest, p("food_weights.healthy_multiplier", 0), 1.0)
    medium = p("food_weights.medium_health", 0) * torch.where(
        outmatched, p("food_weights.medium_health_outmatched", 0), 1.0
    )
    health = c.health
    band = torch.where(
        health <= 20,
        p("food_weights.critical_health", 0),
        torch.where(
            health <= 40,
            p("food_weights.low_health", 0),
            torch.where(health <= 60, medium, healthy),
        ),
    )
    pull = p.derived(p.number("weights.food") / 100.0) * band.unsqueeze(1) / (1.0 + distance)
    # Eating leaves the tail in place for a turn: the pocket must hold the grown snake
    # with room to turn, so the food is a trap below threshold x twice the new length.
    room = space / (2.0 * (length + 1.0))
    trap = (distance == 0) & (room < p("traps.food_trap_threshold"))
    return pull - caution * p("traps.food_trap") * trap.to(torch.float32)


def _pursuit(c: SeatContext, p: _Weights) -> torch.Tensor:
    """Bonus for closing in on the nearest shorter head, ``pursuit.distance_k`` when a
    head-on meeting is k turns away (k = 2..5; one turn away is the hunt in _head_to_head)."""
    prey_distance = torch.where(c.shorter_enemy.unsqueeze(1), c.turns_to_meet, FAR).amin(2)
    bonus = torch.zeros(prey_distance.shape, dtype=torch.float32, device=prey_distance.device)
    for distance in (2, 3, 4, 5):
        bonus = torch.where(prey_distance == distance, p(f"pursuit.distance_{distance}"), bonus)
    return bonus


def _trapping(c: SeatContext, p: _Weights, view: TurnView) -> torch.Tensor:
    """Taking escape cells from shorter snakes, and closing in on one that is cut off.

    A move onto a shorter head's escape cell earns ``trapping.weight`` x (a base share, plus
    the escape space it takes vs the enemy's length, plus a full share when the enemy keeps
    fewer than ``trapped_ratio`` of its four ways out). A shorter snake confined to less
    than ``space_cutoff_threshold`` of the free board draws us closer (half a share).
    """
    grid = view.grid
    games = c.seats.games.view(-1, 1, 1)
    offsets = grid.move_offsets.view(1, 1, 4)
    escapes = (c.enemy_head.unsqueeze(2) + offsets).clamp(0, grid.n_cells - 1)  # [n, S, 4]
    escape_space = view.space[games, escapes].to(torch.float32)  # 0 where blocked
    taken = c.cells.view(-1, 4, 1, 1) == escapes.unsqueeze(1)  # [n, 4 moves, S, 4 escapes]
    blocks = taken.any(3) & c.shorter_enemy.unsqueeze(1)  # [n, 4, S]
    left = torch.where(taken, 0.0, escape_space.unsqueeze(1)).amax(3)  # best escape left
    before = escape_space.amax(2)  # [n, S]
    exits_left = ((escape_space > 0).unsqueeze(1) & ~taken).sum(3).to(torch.float32)
    enemy_length = c.enemy_length.to(torch.float32).unsqueeze(1)
    trapped = exits_left / 4.0 < p("trapping.trapped_ratio", 2)
    lost = ((before.unsqueeze(1) - left) / enemy_length).clamp(max=1.0)
    gain = (0.25 + lost + trapped.to(torch.float32)) * blocks.to(torch.float32)

    free_cells = view.free_cells[c.seats.games].to(torch.float32).view(-1, 1).clamp(min=1.0)
    cut_off = c.shorter_enemy & (before / free_cells < p("trapping.space_cutoff_threshold"))
    dx = grid.cell_x[c.head].unsqueeze(1) - grid.cell_x[c.enemy_head]
    now = dx.abs() + (grid.cell_y[c.head].unsqueeze(1) - grid.cell_y[c.enemy_head]).abs()
    closer = c.enemy_distance < now.unsqueeze(1)  # [n, 4, S]
    gain = gain + 0.5 * (closer & cut_off.unsqueeze(1)).to(torch.float32)
    return p("trapping.weight") * gain.sum(2)


def _trap_penalty(ratio: torch.Tensor, p: _Weights) -> torch.Tensor:
    """Penalty for moves whose free space is small against the snake's length."""
    critical, severe, moderate = _TRAP_RATIOS
    return torch.where(
        ratio < critical,
        p("traps.critical"),
        torch.where(
            ratio < severe,
            p("traps.severe"),
            torch.where(ratio < moderate, p("traps.moderate"), 0.0),
        ),
    )
