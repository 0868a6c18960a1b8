"""The bot's policy layer: how aggressive it feels, whether it is outmatched, how much food is worth.

Additions happen in the bot's order: its thresholds (``> 0.5``, ``> 0.6``) meet sums such as
``0.5 + 0.3 - 0.2`` whose float rounding decides the comparison.
"""

from __future__ import annotations

from optuna_clank.arena.snakes.gbc._ref_board import Board, Coord, manhattan
from optuna_clank.arena.snakes.gbc.schema import GbcConfig

HEALTH_CRITICAL = 30
HEALTH_LOW = 50
AGGRESSION_HEALTH = 60  # at or above: +0.3 aggression
AGGRESSION_LENGTH_MARGIN = 2
OUTMATCHED_MARGIN = 4  # an enemy longer than us by more than this, near us, outmatches us
OUTMATCHED_RADIUS = 3
MEDIUM_HEALTH_LIMIT = 70  # below: the medium-health food weight


def aggression_score(board: Board, my_space: float) -> float:
    """The bot's ``CalculateAggressionScore`` (only its clamped total is ever read)."""
    you = board.you
    score = 0.5
    if you.health >= AGGRESSION_HEALTH:
        score += 0.3
    elif you.health < HEALTH_CRITICAL:
        score -= 0.3

    if board.width > 0 and board.height > 0:
        half_board = (board.width + board.height) // 2
        if you.length >= half_board:
            score += 0.2
        elif you.length >= half_board * 3 // 4:
            score += 0.1

    if len(board.snakes) > 1:
        lengths = [s.length for s in board.enemies()]
        if lengths:
            average = float(sum(lengths)) / float(len(lengths))
            longest = max(0, *lengths)
            if you.length > longest + AGGRESSION_LENGTH_MARGIN:
                score += 0.4
            elif you.length > longest:
                score += 0.2
            elif you.length < longest - AGGRESSION_LENGTH_MARGIN:
                score -= 0.2
            if float(you.length) > average + 1:
                score += 0.15

    if my_space > 0.4:
        score += 0.1
    elif my_space < 0.2:
        score -= 0.2

    if wall_distance(board, you.head) <= 1:
        score -= 0.1

    return min(max(score, 0.0), 1.0)


def wall_distance(board: Board, pos: Coord) -> int:
    x, y = pos
    return min(x, board.width - 1 - x, y, board.height - 1 - y)


def is_outmatched(board: Board) -> bool:
    """An enemy head within 3 of ours whose snake is longer than ours by more than 4."""
    you = board.you
    return any(
        manhattan(you.head, s.head) <= OUTMATCHED_RADIUS and s.length > you.length + OUTMATCHED_MARGIN
        for s in board.enemies()
    )


def food_weight(board: Board, outmatched: bool, config: GbcConfig) -> float:
    """The bot's ``GetFoodWeight``: a weight by health band, shrunk once the snake is long."""
    you = board.you
    size_factor = 1.0
    if board.width > 0 and board.height > 0:
        half_board = (board.width + board.height) // 2
        if you.length >= half_board:
            size_factor = 0.4
        elif you.length >= half_board * 3 // 4:
            size_factor = 0.7

    if you.health >= config.number("food_weights.healthy_ceiling"):
        return config.number("food_weights.healthy_ceiling_weight") * size_factor
    if you.health < HEALTH_CRITICAL:
        if outmatched:
            return config.number("food_weights.critical_health_outmatched")
        return config.number("food_weights.critical_health")
    if you.health < HEALTH_LOW:
        softened = size_factor * 0.5 + 0.5
        if outmatched:
            return config.number("food_weights.low_health_outmatched") * softened
        return config.number("food_weights.low_health") * softened
    if you.health < MEDIUM_HEALTH_LIMIT:
        base = config.number("food_weights.medium_health")
        if outmatched:
            return base * config.number("food_weights.medium_health_outmatched") * size_factor
        return base * size_factor
    base = config.number("food_weights.healthy_base") * config.number("food_weights.healthy_multiplier")
    if board.turn < 50:
        base = config.number("food_weights.healthy_early_game") * config.number("food_weights.healthy_early_multiplier")
    if outmatched:
        return base * config.number("food_weights.healthy_outmatched") * size_factor
    return base * size_factor
