"""go-battleclank's greedy move score, batched: every term of its ScoreMove, in its order.

Scores are float64 and the terms are added one by one in the bot's order, so sums round exactly as
the bot's do and ties break the same way (first best of up, down, left, right). A fatal move
scores a flat -10000 whatever the other terms say, as in the bot. Two parts of the bot provably
cannot change a score for a snake of two or more cells (every snake of a legal game starts at
three), so they are reduced to what they amount to: the trap-opportunity bonus is 0 (its safety
check measures space from the snake's own new head, which the bot's fill counts as 0), and the
one-move look-ahead's space is 0 for the same reason, which leaves a flat dead-end penalty whenever
the candidate cell has a free neighbour. For a one-cell snake the look-ahead is handled; the trap
bonus is not (a known gap, outside legal play).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from optuna_clank.arena.snakes._seat_values import SeatValues, column
from optuna_clank.arena.snakes.gbc._board import fill, region_sizes
from optuna_clank.arena.snakes.gbc._food import food_factor
from optuna_clank.arena.snakes.gbc._ref_policy import HEALTH_CRITICAL, HEALTH_LOW
from optuna_clank.arena.snakes.gbc._seats import GbcSeats, manhattan, where
from optuna_clank.arena.snakes.gbc._tactics import (
    cutoff_kill,
    parallel_edge,
    wall_approach,
    wall_escape,
    wall_interception,
)
from optuna_clank.arena.snakes.gbc.reference import FATAL_SCORE as FATAL_MOVE_SCORE

TERMS: tuple[str, ...] = (
    "straight",
    "space_trap",
    "space_reduction",
    "dead_end",
    "danger",
    "wall_escape",
    "space",
    "food_trap",
    "food",
    "head_collision",
    "center",
    "wall",
    "cutoff",
    "wall_interception",
    "survival",
    "exits",
    "length_lead",
    "health",
    "wall_approach",
    "parallel_edge",
)
"""Signed contributions to a move's score, in the order the bot adds them."""


def score_terms(c: GbcSeats, config: Mapping[str, Any] | SeatValues) -> dict[str, torch.Tensor]:
    """Float64 [n, 4] per term (fatal moves included; the caller overrides them).

    ``config`` is one config for every seat, or :class:`SeatValues` giving each seat its own.
    """
    f64 = torch.float64
    p = SeatValues.of(config)

    def number(key: str) -> float | torch.Tensor:  # per seat, shaped against [n, 4]
        return column(p.number(key))

    max_depth = column(p.integer("search.max_depth"))
    length, health = c.length.unsqueeze(1), c.health.unsqueeze(1)
    board_cells = float(c.width * c.height)
    moves = torch.arange(4, device=c.cells.device).unsqueeze(0)
    terms: dict[str, torch.Tensor] = {}

    terms["straight"] = where(c.heading.unsqueeze(1) == moves, number("weights.straight_movement"), 0.0)

    reachable = fill(c.region, max_depth)
    ratio = reachable.to(f64) / length.to(f64)
    trap_level = where(ratio < 0.4, 600.0, where(ratio < 0.6, 450.0, where(ratio < 0.8, 250.0, 0.0)))
    terms["space_trap"] = -(trap_level * 0.5)

    head_region = c.at(c.board.region, c.head.unsqueeze(1))  # 0: the head is occupied
    my_space = fill(head_region, max_depth).to(f64) / board_cells
    next_space = reachable.to(f64) / board_cells
    roomy = my_space > number("traps.space_reduction_min_base")
    cut60 = (next_space < my_space * number("traps.space_reduction_ratio_60")) & roomy
    cut50 = (next_space < my_space * number("traps.space_reduction_ratio_50")) & roomy
    terms["space_reduction"] = where(
        cut60, -number("traps.space_reduction_60"), where(cut50, -number("traps.space_reduction_50"), 0.0)
    )

    # A one-cell snake with health below 100 is its own tail: the look-ahead head does not block, the
    # look-ahead fill sees the same region, and the rule never fires.
    own_tail_head = (length == 1) & (health != 100)
    terms["dead_end"] = where((reachable > 0) & (c.exits > 0) & ~own_tail_head, -(200.0 * 0.5), 0.0)

    aggression = _aggression(c, my_space.squeeze(1))
    outmatched = (c.enemy & (c.head_distance <= 3) & (c.e_length > c.length.unsqueeze(1) + 4)).any(1)

    adjacent = (c.cell_distance == 1) & c.enemy.unsqueeze(1)  # [n, 4, S]
    e_length = c.e_length.unsqueeze(1)
    own = length.unsqueeze(2)
    per_enemy = where(e_length > own + 1, 700.0, where(e_length >= own, 400.0, 100.0))
    danger = where(adjacent & c.free.unsqueeze(2), per_enemy, 0.0).sum(2)
    multiplier = where((c.health < HEALTH_CRITICAL) | outmatched, 1.5, 1.0).unsqueeze(1)
    terms["danger"] = -(danger * multiplier)

    terms["wall_escape"] = wall_escape(c)

    nearby = (c.enemy & (c.head_distance <= 3)).any(1).unsqueeze(1)
    weight = number("weights.space")
    space_weight = where(
        nearby, weight * number("weights.space_enemy_multiplier"), weight * number("weights.space_base_multiplier")
    )
    thriving = (health > HEALTH_LOW) & (next_space > 0.4)
    space_weight = where(thriving, space_weight * number("weights.space_healthy_multiplier"), space_weight)
    terms["space"] = next_space * space_weight

    on_food = c.at(c.view.state.food, c.cells) > 0
    trapped = _food_trapped(c, on_food & c.free, max_depth)
    trap_penalty = where(
        health < HEALTH_CRITICAL,
        number("traps.food_trap_critical"),
        where(health < HEALTH_LOW, number("traps.food_trap_low"), number("traps.food_trap")),
    )
    terms["food_trap"] = where(on_food & trapped, -trap_penalty, 0.0)

    food = food_factor(c, p.flag("search.use_astar"))
    terms["food"] = food * _food_weight(c, p, outmatched).unsqueeze(1)

    risk = torch.zeros_like(food)
    for e in range(c.enemy.shape[1]):
        touching = adjacent[:, :, e]
        risk = risk + where(touching, where(e_length[:, :, e] >= length, 1.0, 0.3), 0.0)
    terms["head_collision"] = -(risk * number("weights.head_collision"))

    centre_x, centre_y = c.width // 2, c.height // 2
    furthest = centre_x + centre_y
    centre = 1.0 - manhattan(c.cx, c.cy, centre_x, centre_y).to(f64) / float(furthest) if furthest else 1.0
    centre_control = p.number("weights.center_control")
    centre_weight = where(c.turn >= 50, centre_control * 1.5, centre_control).unsqueeze(1)
    centred = ((c.turn < 50) | ((c.health > HEALTH_LOW) & ~outmatched)).unsqueeze(1)
    terms["center"] = where(centred, centre * centre_weight, 0.0)

    walls = (c.n_snakes > 1).unsqueeze(1)
    terms["wall"] = where(walls, -(_wall_avoidance(c) * number("weights.wall_penalty")), 0.0)

    terms["cutoff"] = -(_cutoff(c) * number("weights.cutoff"))

    intercepting = ((aggression > 0.5) & (c.health > 50)).unsqueeze(1)
    terms["wall_interception"] = where(intercepting, wall_interception(c), 0.0)

    survival = where(health < HEALTH_LOW, 200.0, 120.0)
    terms["survival"] = where(next_space > 0.3, survival, where(next_space > 0.2, 60.0, 0.0))

    exits = c.exits
    terms["exits"] = where(exits >= 3, 50.0, where(exits == 2, 20.0, where(exits == 1, -80.0, 0.0))).to(f64)

    shorter = (c.enemy & (c.e_length < c.length.unsqueeze(1))).sum(1, keepdim=True)
    terms["length_lead"] = where(shorter > 0, shorter.to(f64) * 30.0, 0.0).expand(-1, 4)
    terms["health"] = where(health > 80, 20.0, 0.0).to(f64).expand(-1, 4)

    terms["wall_approach"] = wall_approach(c, max_depth)
    terms["parallel_edge"] = -parallel_edge(
        c,
        number("tactics.parallel_edge_base_penalty"),
        number("tactics.parallel_edge_close_penalty"),
        number("tactics.parallel_edge_larger_multiplier"),
    )
    return {name: terms[name].to(f64).expand(-1, 4) for name in TERMS}


def total_score(c: GbcSeats, terms: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Float64 [n, 4]: the terms summed in the bot's order; fatal moves at FATAL_MOVE_SCORE."""
    score = torch.zeros(c.cells.shape, dtype=torch.float64, device=c.cells.device)
    for name in TERMS:
        score = score + terms[name]
    return where(c.free, score, FATAL_MOVE_SCORE)


def best_moves(c: GbcSeats, score: torch.Tensor) -> torch.Tensor:
    """Int64 [n]: the bot's FindBestMove: a cutoff kill if one applies, else the first best score."""
    kill = cutoff_kill(c)
    return where(kill >= 0, kill, score.argmax(1))


def _food_trapped(c: GbcSeats, eats: torch.Tensor, max_depth: int | torch.Tensor) -> torch.Tensor:
    """Bool [n, 4]: EvaluateFoodTrapRatio, for the moves that eat (labelled only in their games)."""
    trapped = torch.zeros_like(eats)
    rows = torch.nonzero(eats.any(1)).flatten()
    if rows.numel() == 0:
        return trapped
    blocked = c.board.every_segment.index_select(0, c.games.index_select(0, rows))
    region = region_sizes(blocked, c.view.grid.stride).gather(1, c.cells[rows])
    needed = (c.length[rows].to(torch.float64) * 0.7).to(torch.int64).unsqueeze(1)
    cap = max_depth.index_select(0, rows) if isinstance(max_depth, torch.Tensor) else max_depth
    trapped[rows] = fill(region, cap) < needed
    return trapped


def _aggression(c: GbcSeats, my_space: torch.Tensor) -> torch.Tensor:
    """Float64 [n]: CalculateAggressionScore, summed in the bot's order and clamped to [0, 1]."""
    length = c.length
    score = torch.full(length.shape, 0.5, dtype=torch.float64, device=length.device)
    score = score + where(c.health >= 60, 0.3, where(c.health < HEALTH_CRITICAL, -0.3, 0.0))
    half = (c.width + c.height) // 2
    score = score + where(length >= half, 0.2, where(length >= half * 3 // 4, 0.1, 0.0))
    enemies = c.enemy.sum(1)
    longest = where(c.enemy, c.e_length, 0).amax(1)
    total = where(c.enemy, c.e_length, 0).sum(1)
    has_enemy = (c.n_snakes > 1) & (enemies > 0)
    by_longest = where(length > longest + 2, 0.4, where(length > longest, 0.2, where(length < longest - 2, -0.2, 0.0)))
    score = score + where(has_enemy, by_longest, 0.0)
    average = total.to(torch.float64) / enemies.clamp(min=1).to(torch.float64)
    score = score + where(has_enemy & (length.to(torch.float64) > average + 1), 0.15, 0.0)
    score = score + where(my_space > 0.4, 0.1, where(my_space < 0.2, -0.2, 0.0))
    to_wall = torch.minimum(torch.minimum(c.hx, c.width - 1 - c.hx), torch.minimum(c.hy, c.height - 1 - c.hy))
    score = score + where(to_wall <= 1, -0.1, 0.0)
    return score.clamp(0.0, 1.0)


def _food_weight(c: GbcSeats, p: SeatValues, outmatched: torch.Tensor) -> torch.Tensor:
    """Float64 [n]: GetFoodWeight, the food term's weight by health band, size and threat."""
    half = (c.width + c.height) // 2
    size = where(c.length >= half, 0.4, where(c.length >= half * 3 // 4, 0.7, 1.0)).to(torch.float64)
    health = c.health

    def w(name: str) -> float | torch.Tensor:  # per seat: [n]
        return p.number(f"food_weights.{name}")

    ceiling = w("healthy_ceiling_weight") * size
    critical = where(outmatched, w("critical_health_outmatched"), w("critical_health")).to(torch.float64)
    softened = size * 0.5 + 0.5
    low = where(outmatched, w("low_health_outmatched") * softened, w("low_health") * softened)
    medium_outmatched = w("medium_health") * w("medium_health_outmatched") * size
    medium = where(outmatched, medium_outmatched, w("medium_health") * size)
    base = where(
        c.turn < 50,
        w("healthy_early_game") * w("healthy_early_multiplier"),
        w("healthy_base") * w("healthy_multiplier"),
    ).to(torch.float64)
    healthy = where(outmatched, base * w("healthy_outmatched") * size, base * size)
    weight = where(
        health < HEALTH_CRITICAL,
        critical,
        where(health < HEALTH_LOW, low, where(health < 70, medium, healthy)),
    )
    return where(health >= p.integer("food_weights.healthy_ceiling"), ceiling, weight)


def _wall_avoidance(c: GbcSeats) -> torch.Tensor:
    """Float64 [n, 4]: evaluateWallAvoidance of each candidate cell."""
    left, right = c.cx, c.width - 1 - c.cx
    bottom, top = c.cy, c.height - 1 - c.cy
    edge = torch.minimum(torch.minimum(left, right), torch.minimum(bottom, top))
    penalty = where(edge == 0, 1.0, where(edge == 1, 0.8, where(edge == 2, 0.5, where(edge == 3, 0.2, 0.0)))).to(
        torch.float64
    )
    near = (left <= 2).long() + (right <= 2).long() + (bottom <= 2).long() + (top <= 2).long()
    return where(near >= 2, penalty + 0.3 * near.to(torch.float64), penalty)


def _cutoff(c: GbcSeats) -> torch.Tensor:
    """Float64 [n, 4]: DetectCutoff's boxed-in penalty of each candidate cell."""
    grid = c.view.grid
    state = c.view.state
    tail = state.tail()[c.games, c.seats.seats]
    moving = (~c.board.kept_tail[c.games, c.seats.seats]).to(torch.int16)
    own = c.own_segments.clone()
    own.scatter_add_(1, tail.unsqueeze(1), -moving.unsqueeze(1))
    by_enemy = c.blocked & grid.on_board.unsqueeze(0) & (own <= 0)
    around = (c.cells.unsqueeze(2) + grid.move_offsets.view(1, 1, 4)).clamp(0, grid.n_cells - 1)
    enemy_blocked = by_enemy.gather(1, around.view(around.shape[0], -1)).view(around.shape).sum(2)
    exits = c.exits
    return where(exits == 0, 10.0, where(exits == 1, 5.0, where((exits == 2) & (enemy_blocked >= 2), 2.0, 0.0))).to(
        torch.float64
    )
