"""Terms the bot's greedy search computes itself: straight-line bonus, wall penalties, wall-approach
space check, the emergency wall escape, centre pull, and the count of exits.
"""

from __future__ import annotations

from optuna_clank.arena.snakes.gbc._ref_board import (
    ALL_MOVES,
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Board,
    Coord,
    flood_fill,
    manhattan,
    step,
)

ESCAPE_BONUS, ESCAPE_CLOSE_BONUS, ESCAPE_AWAY_PENALTY = 50.0, 75.0, 40.0  # emergency_wall_escape.* unused
ESCAPE_MIN_DISTANCE, ESCAPE_MAX_DISTANCE, ESCAPE_CLOSE_DISTANCE = 2, 3, 2
WALL_APPROACH_RANGE = 2
WALL_APPROACH_SPACE_RATIO = 1.5
WALL_APPROACH_PER_CELL = 2.0
_WALL_PENALTY_BY_DISTANCE = {0: 1.0, 1: 0.8, 2: 0.5, 3: 0.2}
CORNER_RANGE = 2
CORNER_PENALTY_PER_WALL = 0.3
_TOWARD_WALL = {"left": LEFT, "right": RIGHT, "bottom": DOWN, "top": UP}
_AWAY_FROM_WALL = {"left": RIGHT, "right": LEFT, "bottom": UP, "top": DOWN}


def heading(head: Coord, neck: Coord) -> str:
    """The greedy search's ``getCurrentDirection``: x before y, and "up" when head and neck coincide."""
    dx, dy = head[0] - neck[0], head[1] - neck[1]
    if dx > 0:
        return RIGHT
    if dx < 0:
        return LEFT
    if dy > 0:
        return UP
    if dy < 0:
        return DOWN
    return UP


def enemies_within(board: Board, radius: int) -> bool:
    return any(manhattan(board.you.head, s.head) <= radius for s in board.enemies())


def centre_closeness(board: Board, pos: Coord) -> float:
    cx, cy = board.width // 2, board.height // 2
    furthest = cx + cy
    if furthest == 0:
        return 1.0
    return 1.0 - float(manhattan(pos, (cx, cy))) / float(furthest)


def exits(board: Board, pos: Coord) -> int:
    """Free cells next to ``pos`` on the current board (our head counts as blocked)."""
    return sum(board.is_free(step(pos, m)) for m in ALL_MOVES)


def wall_avoidance(board: Board, pos: Coord) -> float:
    x, y = pos
    distances = (x, board.width - 1 - x, y, board.height - 1 - y)
    penalty = _WALL_PENALTY_BY_DISTANCE.get(min(distances), 0.0)
    near = sum(d <= CORNER_RANGE for d in distances)
    if near >= 2:
        penalty += CORNER_PENALTY_PER_WALL * float(near)
    return penalty


def wall_approach(board: Board, head: Coord, pos: Coord, move: str, max_depth: int) -> float:
    """The bot's ``evaluateWallApproachSpace`` (a negative number or 0)."""
    x, y = pos
    left, right, bottom, top = x, board.width - 1 - x, y, board.height - 1 - y
    nearest, wall = left, "left"
    if right < nearest:
        nearest, wall = right, "right"
    if bottom < nearest:
        nearest, wall = bottom, "bottom"
    if top < nearest:
        nearest, wall = top, "top"
    if nearest > WALL_APPROACH_RANGE or _TOWARD_WALL[wall] != move:
        return 0.0
    sideways = (LEFT, RIGHT) if move in (UP, DOWN) else (UP, DOWN)
    side_spaces = [flood_fill(board, step(head, m), max_depth) for m in sideways]
    straight_on = flood_fill(board, pos, max_depth)
    best_side = max(side_spaces)
    if float(best_side) > float(straight_on) * WALL_APPROACH_SPACE_RATIO and best_side > board.you.length * 2:
        return -float(best_side - straight_on) * WALL_APPROACH_PER_CELL
    return 0.0


def wall_escape(board: Board, head: Coord, move: str) -> float:
    """The bot's ``evaluateWallEscapeEmergency``: on a wall, a longer enemy head-on, no sideways exit."""
    you = board.you
    x, y = head
    nearest, wall = x, "left"
    for distance, side in ((board.width - 1 - x, "right"), (y, "bottom"), (board.height - 1 - y, "top")):
        if distance < nearest:
            nearest, wall = distance, side
    if nearest > 0:
        return 0.0
    threat = False
    closest = 100
    for enemy in board.enemies():
        distance = manhattan(head, enemy.head)
        if distance < ESCAPE_MIN_DISTANCE or distance > ESCAPE_MAX_DISTANCE:
            continue
        if enemy.length <= you.length or len(you.body) < 2 or len(enemy.body) < 2:
            continue
        ours = heading(you.head, you.body[1])
        theirs = heading(enemy.head, enemy.body[1])
        head_on = False
        if {ours, theirs} == {UP, DOWN} and head[0] == enemy.head[0]:
            head_on = True
        if {ours, theirs} == {LEFT, RIGHT} and head[1] == enemy.head[1]:
            head_on = True
        if head_on:
            threat = True
            closest = min(closest, distance)
    if not threat:
        return 0.0
    sideways = (UP, DOWN) if wall in ("left", "right") else (LEFT, RIGHT)
    if any(board.is_free(step(head, m)) for m in sideways):
        return 0.0
    if move == _TOWARD_WALL[wall]:
        return ESCAPE_CLOSE_BONUS if closest <= ESCAPE_CLOSE_DISTANCE else ESCAPE_BONUS
    if move == _AWAY_FROM_WALL[wall]:
        return -ESCAPE_AWAY_PENALTY
    return 0.0
