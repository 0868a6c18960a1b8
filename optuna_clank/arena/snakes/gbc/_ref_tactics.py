"""The bot's tactical terms around enemies: danger zones, head-to-head risk, cut-offs, interception,
parallel-edge avoidance, and the cutoff kill that bypasses scoring altogether.
"""

from __future__ import annotations

from optuna_clank.arena.snakes.gbc._ref_board import ALL_MOVES, DOWN, LEFT, RIGHT, UP, Board, Coord, manhattan, step
from optuna_clank.arena.snakes.gbc.schema import GbcConfig

DANGER_MUCH_LONGER, DANGER_SAME_OR_LONGER, DANGER_SHORTER = 700.0, 400.0, 100.0
HEAD_RISK_LONGER, HEAD_RISK_SHORTER = 1.0, 0.3
CUTOFF_TRAPPED, CUTOFF_ONE_EXIT, CUTOFF_BOXED = 10.0, 5.0, 2.0
INTERCEPT_REACH = 5  # an enemy this close to a wall it heads for can be intercepted
INTERCEPT_LEAD = 2  # aim this many steps ahead of the enemy head
INTERCEPT_SLACK = 3
INTERCEPT_PER_STEP = 30.0
EDGE_PARALLEL_DISTANCE = 2


def strict_direction(head: Coord, neck: Coord) -> str:
    """The bot's tactics ``getDirection``: a unit step or "" (a stacked neck has no direction)."""
    dx, dy = head[0] - neck[0], head[1] - neck[1]
    if (dx, dy) == (1, 0):
        return RIGHT
    if (dx, dy) == (-1, 0):
        return LEFT
    if (dx, dy) == (0, 1):
        return UP
    if (dx, dy) == (0, -1):
        return DOWN
    return ""


def danger_level(board: Board, pos: Coord) -> float:
    """The bot's ``PredictEnemyDangerZones`` + ``GetDangerLevel`` for one cell."""
    you_length = board.you.length
    danger = 0.0
    for enemy in board.enemies():
        reaches = any(step(enemy.head, m) == pos and board.is_free(pos) for m in ALL_MOVES)
        if not reaches:
            continue
        if enemy.length > you_length + 1:
            danger += DANGER_MUCH_LONGER
        elif enemy.length >= you_length:
            danger += DANGER_SAME_OR_LONGER
        else:
            danger += DANGER_SHORTER
    return danger


def head_to_head_risk(board: Board, pos: Coord) -> float:
    """The bot's ``IsHeadToHeadRisky``: enemy heads one step from ``pos`` (walls and bodies ignored)."""
    risk = 0.0
    for enemy in board.enemies():
        for move in ALL_MOVES:
            if step(enemy.head, move) == pos:
                risk += HEAD_RISK_LONGER if enemy.length >= board.you.length else HEAD_RISK_SHORTER
    return risk


def cutoff_penalty(board: Board, pos: Coord) -> float:
    """The bot's ``DetectCutoff``: how few free cells surround ``pos``."""
    valid = 0
    blocked_by_enemies = 0
    for move in ALL_MOVES:
        nxt = step(pos, move)
        if not board.in_bounds(nxt):
            continue
        owner = _first_owner(board, nxt)
        if owner is None:
            valid += 1
        elif owner != board.you.id:
            blocked_by_enemies += 1
    if valid == 0:
        return CUTOFF_TRAPPED
    if valid == 1:
        return CUTOFF_ONE_EXIT
    if valid == 2 and blocked_by_enemies >= 2:
        return CUTOFF_BOXED
    return 0.0


def _first_owner(board: Board, pos: Coord) -> str | None:
    """Id of the first snake (board order) with a non-skipped segment on ``pos``."""
    if pos not in board.occupied:
        return None
    for snake in board.snakes:
        last = len(snake.body) - 1
        for i, segment in enumerate(snake.body):
            if i == last and snake.health != 100:
                continue
            if segment == pos:
                return snake.id
    return None


def _wall_side(board: Board, pos: Coord) -> str:
    x, y = pos
    on_left, on_right = x == 0, x == board.width - 1
    on_top, on_bottom = y == board.height - 1, y == 0
    if on_left + on_right + on_top + on_bottom >= 2:
        return "corner"
    if on_left:
        return "left"
    if on_right:
        return "right"
    if on_top:
        return "top"
    if on_bottom:
        return "bottom"
    return ""


def cutoff_kill(board: Board) -> str:
    """The bot's ``DetectCutoffKill``: the move that seals an enemy against its wall, or ""."""
    you = board.you
    if len(you.body) < 2:
        return ""
    head = you.head
    direction = strict_direction(head, you.body[1])
    if not direction:
        return ""
    for enemy in board.enemies():
        if len(enemy.body) < 2 or strict_direction(enemy.head, enemy.body[1]) != direction:
            continue
        enemy_wall = _wall_side(board, enemy.head)
        if enemy_wall == "corner":
            continue
        move = ""
        if direction in (UP, DOWN):
            if enemy_wall == "left" and head[0] == 1:
                move = LEFT
            elif enemy_wall == "right" and head[0] == board.width - 2:
                move = RIGHT
        elif enemy_wall == "bottom" and head[1] == 1:
            move = DOWN
        elif enemy_wall == "top" and head[1] == board.height - 2:
            move = UP
        if not move:
            continue
        if _advance(direction, head, enemy.head) < 2:
            continue
        reach = max([0, *(_advance(direction, segment, enemy.head) for segment in you.body)])
        if reach < 2:
            continue
        if not board.is_free(step(head, move)):
            continue
        if _wall_side(board, head) == "corner":
            continue
        return move
    return ""


def _advance(direction: str, ours: Coord, theirs: Coord) -> int:
    """How far ``ours`` is ahead of ``theirs`` along ``direction``."""
    if direction == UP:
        return ours[1] - theirs[1]
    if direction == DOWN:
        return theirs[1] - ours[1]
    if direction == LEFT:
        return theirs[0] - ours[0]
    return ours[0] - theirs[0]


def wall_interception(board: Board, pos: Coord) -> float:
    """The bot's ``EvaluateWallInterception``: reward closing on the cell ahead of a wall-bound enemy."""
    you = board.you
    if you.health < 50:
        return 0.0
    score = 0.0
    for enemy in board.enemies():
        if len(enemy.body) < 2:
            continue
        ex, ey = enemy.head
        dx, dy = ex - enemy.body[1][0], ey - enemy.body[1][1]
        wall: Coord | None = None
        if dx < 0 and ex <= INTERCEPT_REACH:
            wall = (0, ey)
        if dx > 0 and ex >= board.width - 1 - INTERCEPT_REACH:
            wall = (board.width - 1, ey)
        if dy < 0 and ey <= INTERCEPT_REACH:
            wall = (ex, 0)
        if dy > 0 and ey >= board.height - 1 - INTERCEPT_REACH:
            wall = (ex, board.height - 1)
        if wall is None:
            continue
        target = (
            min(max(ex + dx * INTERCEPT_LEAD, 0), board.width - 1),
            min(max(ey + dy * INTERCEPT_LEAD, 0), board.height - 1),
        )
        mine = manhattan(you.head, target)
        enemy_to_wall = manhattan(enemy.head, wall)
        after = manhattan(pos, target)
        if mine > enemy_to_wall + INTERCEPT_SLACK or after >= mine:
            continue
        trap_factor = 2.0 if enemy_to_wall <= 3 else 1.0
        size = 1.0
        if you.length > enemy.length + 2:
            size = 1.5
        elif you.length <= enemy.length:
            size = 0.5
        score += float(mine - after) * INTERCEPT_PER_STEP * trap_factor * size
    return score


def parallel_edge_penalty(board: Board, pos: Coord, config: GbcConfig) -> float:
    """The bot's ``EvaluateParallelEdgeAvoidance``: turning toward a same-direction enemy near an edge."""
    you = board.you
    if len(you.body) < 2:
        return 0.0
    head = you.head
    direction = strict_direction(head, you.body[1])
    if not direction:
        return 0.0
    penalty = 0.0
    for enemy in board.enemies():
        if len(enemy.body) < 2 or strict_direction(enemy.head, enemy.body[1]) != direction:
            continue
        if direction == UP:
            to_edge = board.height - 1 - head[1]
        elif direction == DOWN:
            to_edge = head[1]
        elif direction == LEFT:
            to_edge = head[0]
        else:
            to_edge = board.width - 1 - head[0]
        if to_edge > EDGE_PARALLEL_DISTANCE:
            continue
        vertical = direction in (UP, DOWN)
        lane = 0 if vertical else 1  # the axis across our movement
        along = 1 - lane
        offset = abs(head[lane] - enemy.head[lane])
        forward = direction in (UP, RIGHT)  # moving toward larger coordinates
        ahead = enemy.head[along] >= head[along] if forward else enemy.head[along] <= head[along]
        if offset != 1 or not ahead:
            continue
        if abs(pos[lane] - enemy.head[lane]) >= offset:
            continue
        base = config.number("tactics.parallel_edge_base_penalty")
        if to_edge <= 1:
            base = config.number("tactics.parallel_edge_close_penalty")
        if enemy.length >= you.length:
            base *= config.number("tactics.parallel_edge_larger_multiplier")
        penalty += base
    return penalty
