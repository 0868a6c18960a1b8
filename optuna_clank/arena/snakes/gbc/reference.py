"""Scalar reference of go-battleclank's move choice (its greedy search), term by term.

This is the readable, exact port the batched ``gbc`` player is checked against. ``score_moves`` runs
the bot's ``FindBestMove``: first the cutoff-kill shortcut (which returns a move without scoring),
then every move's score in up, down, left, right order, keeping the first strictly best one. A fatal
move scores a flat -10000, so a safe move buried under penalties can lose to it — the bot does that.

Each move's total is accumulated in the bot's own order (float rounding included), and the breakdown
records every term's signed contribution so a disagreement with the real bot can be traced to a rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from optuna_clank.arena.snakes.gbc import _ref_food, _ref_greedy, _ref_policy, _ref_space, _ref_tactics
from optuna_clank.arena.snakes.gbc._ref_board import ALL_MOVES, Board, board_from_request, step
from optuna_clank.arena.snakes.gbc.schema import GbcConfig

__all__ = ["TERMS", "Board", "MoveScore", "ReferenceDecision", "board_from_request", "score_board", "score_moves"]

FATAL_SCORE = -10000.0
HALF_PENALTY = 0.5  # the bot halves its trap-level and dead-end penalties ("random opponents")
ENEMY_NEAR_RADIUS = 3
DANGER_MULTIPLIER = 1.5  # when critical on health or outmatched
SPACE_HEALTHY_SHARE = 0.4
EARLY_GAME_TURNS = 50
LATE_CENTRE_FACTOR = 1.5
TRAP_ATTEMPT_AGGRESSION = 0.6
TRAP_MIN_SPACE = 0.25
TRAP_WEIGHT_PER_AGGRESSION = 200.0
INTERCEPT_AGGRESSION, INTERCEPT_HEALTH = 0.5, 50
SURVIVAL_GOOD_SPACE, SURVIVAL_BONUS, SURVIVAL_BONUS_HUNGRY = 0.3, 120.0, 200.0
SURVIVAL_FAIR_SPACE, SURVIVAL_FAIR_BONUS = 0.2, 60.0
EXITS_3, EXITS_2, EXITS_1 = 50.0, 20.0, -80.0
LENGTH_LEAD_BONUS = 30.0
HEALTHY_ABOVE, HEALTHY_BONUS = 80, 20.0

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
    "trap_opportunity",
    "wall_interception",
    "survival",
    "exits",
    "length_lead",
    "health",
    "wall_approach",
    "parallel_edge",
)
"""Every term a non-fatal move's breakdown holds, in the order the bot adds them."""


@dataclass(frozen=True)
class MoveScore:
    """One move's score; ``terms`` maps each term to what it added (0 where it did not apply)."""

    move: str
    total: float
    terms: Mapping[str, float]
    fatal: bool
    facts: Mapping[str, float]  # inputs worth seeing when a move disagrees (space, aggression, ...)


@dataclass(frozen=True)
class ReferenceDecision:
    move: str
    cutoff_kill: bool  # True when the shortcut chose ``move`` and the scores were not consulted
    scores: Mapping[str, MoveScore]


def score_moves(request: Mapping[str, Any], config: GbcConfig) -> ReferenceDecision:
    """The bot's answer to one /move request under ``config``, with every move's scored breakdown."""
    return score_board(board_from_request(request), config)


def score_board(board: Board, config: GbcConfig) -> ReferenceDecision:
    """``score_moves`` on an already converted request (convert once to score it under many configs)."""
    scores = {move: score_move(board, move, config) for move in ALL_MOVES}
    kill = _ref_tactics.cutoff_kill(board)
    if kill:
        return ReferenceDecision(kill, True, MappingProxyType(scores))
    best_move, best = ALL_MOVES[0], -math.inf
    for move in ALL_MOVES:  # strict ">" from -MaxFloat64: the first best wins, NaN never does
        if scores[move].total > best:
            best_move, best = move, scores[move].total
    return ReferenceDecision(best_move, False, MappingProxyType(scores))


def score_move(board: Board, move: str, config: GbcConfig) -> MoveScore:
    """The bot's ``ScoreMove`` for one move."""
    you = board.you
    head = you.head
    pos = step(head, move)
    if not board.is_free(pos):
        return MoveScore(move, FATAL_SCORE, MappingProxyType({}), True, MappingProxyType({}))
    max_depth = int(config.number("search.max_depth"))
    terms: dict[str, float] = dict.fromkeys(TERMS, 0.0)
    score = 0.0

    def add(term: str, amount: float) -> None:
        nonlocal score
        score += amount
        terms[term] = amount

    def subtract(term: str, amount: float) -> None:
        nonlocal score
        score -= amount
        terms[term] = 0.0 - amount  # not -amount: a 0 penalty reads 0.0, not -0.0

    if len(you.body) >= 2 and _ref_greedy.heading(head, you.body[1]) == move:
        add("straight", config.number("weights.straight_movement"))

    subtract("space_trap", _ref_space.space_trap_penalty(board, pos, max_depth) * HALF_PENALTY)

    my_space = _ref_space.space_share(board, head, max_depth)
    next_space = _ref_space.space_share(board, pos, max_depth)
    min_base = config.number("traps.space_reduction_min_base")
    if next_space < my_space * config.number("traps.space_reduction_ratio_60") and my_space > min_base:
        subtract("space_reduction", config.number("traps.space_reduction_60"))
    elif next_space < my_space * config.number("traps.space_reduction_ratio_50") and my_space > min_base:
        subtract("space_reduction", config.number("traps.space_reduction_50"))

    subtract("dead_end", _ref_space.dead_end_penalty(board, pos, max_depth) * HALF_PENALTY)

    aggression = _ref_policy.aggression_score(board, my_space)
    outmatched = _ref_policy.is_outmatched(board)

    danger_multiplier = 1.0
    if you.health < _ref_policy.HEALTH_CRITICAL or outmatched:
        danger_multiplier = DANGER_MULTIPLIER
    subtract("danger", _ref_tactics.danger_level(board, pos) * danger_multiplier)

    add("wall_escape", _ref_greedy.wall_escape(board, head, move))

    space_weight = config.number("weights.space") * config.number("weights.space_base_multiplier")
    if _ref_greedy.enemies_within(board, ENEMY_NEAR_RADIUS):
        space_weight = config.number("weights.space") * config.number("weights.space_enemy_multiplier")
    if you.health > _ref_policy.HEALTH_LOW and next_space > SPACE_HEALTHY_SHARE:
        space_weight *= config.number("weights.space_healthy_multiplier")
    add("space", next_space * space_weight)

    if pos in board.food and _ref_space.is_food_trap(board, pos, max_depth):
        penalty = config.number("traps.food_trap")
        if you.health < _ref_policy.HEALTH_CRITICAL:
            penalty = config.number("traps.food_trap_critical")
        elif you.health < _ref_policy.HEALTH_LOW:
            penalty = config.number("traps.food_trap_low")
        subtract("food_trap", penalty)

    food_factor = _ref_food.food_proximity(
        board, pos, bool(config["search.use_astar"]), int(config.number("search.max_astar_nodes"))
    )
    food_weight = _ref_policy.food_weight(board, outmatched, config)
    add("food", food_factor * food_weight)

    subtract("head_collision", _ref_tactics.head_to_head_risk(board, pos) * config.number("weights.head_collision"))

    if board.turn < EARLY_GAME_TURNS or (you.health > _ref_policy.HEALTH_LOW and not outmatched):
        weight = config.number("weights.center_control")
        if board.turn >= EARLY_GAME_TURNS:
            weight = config.number("weights.center_control") * LATE_CENTRE_FACTOR
        add("center", _ref_greedy.centre_closeness(board, pos) * weight)

    if len(board.snakes) > 1:
        subtract("wall", _ref_greedy.wall_avoidance(board, pos) * config.number("weights.wall_penalty"))

    subtract("cutoff", _ref_tactics.cutoff_penalty(board, pos) * config.number("weights.cutoff"))

    if aggression > TRAP_ATTEMPT_AGGRESSION and next_space > TRAP_MIN_SPACE:
        trap = _ref_space.trap_opportunity(board, pos, max_depth)
        add("trap_opportunity", trap * (TRAP_WEIGHT_PER_AGGRESSION * aggression))

    if aggression > INTERCEPT_AGGRESSION and you.health > INTERCEPT_HEALTH:
        add("wall_interception", _ref_tactics.wall_interception(board, pos))

    if next_space > SURVIVAL_GOOD_SPACE:
        add("survival", SURVIVAL_BONUS_HUNGRY if you.health < _ref_policy.HEALTH_LOW else SURVIVAL_BONUS)
    elif next_space > SURVIVAL_FAIR_SPACE:
        add("survival", SURVIVAL_FAIR_BONUS)

    exits = _ref_greedy.exits(board, pos)
    if exits >= 3:
        add("exits", EXITS_3)
    elif exits == 2:
        add("exits", EXITS_2)
    elif exits == 1:
        add("exits", EXITS_1)

    shorter_enemies = sum(you.length > s.length for s in board.enemies())
    if shorter_enemies > 0:
        add("length_lead", float(shorter_enemies) * LENGTH_LEAD_BONUS)

    if you.health > HEALTHY_ABOVE:
        add("health", HEALTHY_BONUS)

    add("wall_approach", _ref_greedy.wall_approach(board, head, pos, move, max_depth))
    subtract("parallel_edge", _ref_tactics.parallel_edge_penalty(board, pos, config))

    facts = {
        "my_space": my_space,
        "next_space": next_space,
        "aggression": aggression,
        "outmatched": float(outmatched),
        "food_factor": food_factor,
        "food_weight": food_weight,
    }
    return MoveScore(move, score, MappingProxyType(terms), False, MappingProxyType(facts))
