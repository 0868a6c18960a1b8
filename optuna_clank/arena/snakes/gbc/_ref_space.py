"""The bot's space terms: trap level by space/length ratio, food death traps, dead ends, trapping.

Two of them can never fire as the bot wrote them, and are kept that way: the dead-end look-ahead and
the trap opportunity both flood-fill from the cell our simulated head now stands on, which the fill
treats as blocked (0 cells). So the dead-end penalty lands on every move with a free cell beyond it,
and the trap bonus is always 0.
"""

from __future__ import annotations

from optuna_clank.arena.snakes.gbc._ref_board import (
    ALL_MOVES,
    Board,
    Coord,
    fdiv,
    flood_fill,
    flood_fill_after_eating,
    flood_fill_for_snake,
    step,
)

# Trap levels by space / length (the bot's SpaceTrapPenalties: hard-coded, traps.* keys unused).
RATIO_CRITICAL, RATIO_SEVERE, RATIO_MODERATE = 0.4, 0.6, 0.8
PENALTY_CRITICAL, PENALTY_SEVERE, PENALTY_MODERATE = 600.0, 450.0, 250.0
FOOD_TRAP_SHARE = 0.7  # space after eating below this share of our length is a food death trap
DEAD_END_SHARE = 0.8
DEAD_END_PENALTY = 200.0
TRAP_SPACE_SHARE = 0.15  # an enemy must lose more than this share of the board
TRAP_SAFETY_MARGIN = 1.2
TRAP_GAIN_SHORTER, TRAP_GAIN_SLIGHTLY_LONGER = 2.0, 1.0


def space_trap_penalty(board: Board, pos: Coord, max_depth: int) -> float:
    """The bot's ``EvaluateSpaceRatio`` + ``GetSpaceTrapPenalty`` (before the caller halves it)."""
    ratio = fdiv(float(flood_fill(board, pos, max_depth)), float(board.you.length))
    if ratio < RATIO_CRITICAL:
        return PENALTY_CRITICAL
    if ratio < RATIO_SEVERE:
        return PENALTY_SEVERE
    if ratio < RATIO_MODERATE:
        return PENALTY_MODERATE
    return 0.0


def space_share(board: Board, pos: Coord, max_depth: int) -> float:
    """The bot's ``EvaluateSpace``: reachable cells over board cells."""
    return float(flood_fill(board, pos, max_depth)) / float(board.width * board.height)


def is_food_trap(board: Board, pos: Coord, max_depth: int) -> bool:
    """Eating at ``pos`` leaves less room than 70% of our length (int-truncated), tails kept."""
    after = flood_fill_after_eating(board, pos, max_depth)
    return after < int(float(board.you.length) * FOOD_TRAP_SHARE)


def dead_end_penalty(board: Board, pos: Coord, max_depth: int) -> float:
    """The bot's ``EvaluateDeadEndAhead`` from ``pos`` (before the caller halves it)."""
    key = ("dead_end", pos, max_depth)
    if key not in board.memo:
        board.memo[key] = _dead_end_penalty(board, pos, max_depth)
    return board.memo[key]


def _dead_end_penalty(board: Board, pos: Coord, max_depth: int) -> float:
    here = flood_fill(board, pos, max_depth)
    length = float(board.you.length)
    ratio = fdiv(float(here), length)
    if here == 0:
        return 0.0
    worst = ratio
    for move in ALL_MOVES:
        nxt = step(pos, move)
        if not board.is_free(nxt):
            continue
        future = flood_fill(board.with_you_moved(nxt), nxt, max_depth)
        future_ratio = fdiv(float(future), length)
        worst = min(worst, future_ratio)  # keeps ``worst`` unless strictly lower, as the bot's "<"
    return DEAD_END_PENALTY if worst < ratio * DEAD_END_SHARE else 0.0


def trap_opportunity(board: Board, pos: Coord, max_depth: int) -> float:
    """The bot's ``EvaluateTrapOpportunity`` (before the caller's ``200 * aggression`` weight)."""
    total = float(board.width * board.height)
    score = 0.0
    moved = board.with_you_moved(pos)
    my_share = space_share(moved, pos, max_depth)  # 0: ``pos`` is our head in ``moved``
    if my_share <= 0.0:
        return score  # an enemy's fill counts its own head, so "my_share > its share * 1.2" cannot hold
    for enemy in board.enemies():
        before = flood_fill_for_snake(board, enemy.id, enemy.head, max_depth)
        after = flood_fill_for_snake(moved, enemy.id, enemy.head, max_depth)
        share_lost = float(before - after) / total
        if share_lost <= TRAP_SPACE_SHARE:
            continue
        if my_share > (float(after) / total) * TRAP_SAFETY_MARGIN:
            if enemy.length <= board.you.length:
                score += share_lost * TRAP_GAIN_SHORTER
            elif enemy.length <= board.you.length + 2:
                score += share_lost * TRAP_GAIN_SLIGHTLY_LONGER
    return score
