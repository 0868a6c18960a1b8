"""The bot's food term: nearest food (Manhattan, or A* when hungry), danger and path-quality discounts.

The A* search keeps the bot's exact binary heap (Go's ``container/heap`` ordered by f-score alone), so
which node it pops next — and therefore whether it finds a path within its node budget — matches.
A path's "distance" is its number of cells, start included: one more than the steps, unlike the
Manhattan fallback. Both quirks are the bot's.
"""

from __future__ import annotations

from dataclasses import dataclass

from optuna_clank.arena.snakes.gbc._ref_board import Board, Coord, flood_fill, manhattan

PATH_QUALITY_DEPTH = 93  # the bot's DefaultFloodFillDepth, not the config's max_depth
FOOD_DANGER_RADIUS = 2
DANGEROUS_FOOD_FACTOR = 0.1
ASTAR_HEALTH_LIMIT = 50  # A* only below this health
CONSTRAINED_SPACE = 10  # below this much space the path-quality check is skipped
CORNER_SPACE_SHARE = 0.3
CORNER_FACTOR = 0.7
HIGH_REDUCTION, HIGH_REDUCTION_FACTOR = 0.4, 0.7
MODERATE_REDUCTION, MODERATE_REDUCTION_FACTOR = 0.25, 0.85


def food_proximity(board: Board, pos: Coord, use_astar: bool, max_astar_nodes: int) -> float:
    """The bot's ``EvaluateFoodProximity`` from ``pos`` (the cell a move leads to)."""
    if not board.food:
        return 0.0
    target: Coord | None = None
    distance = 0
    if use_astar and board.you.health < ASTAR_HEALTH_LIMIT:
        found = _nearest_food_astar(board, pos, max_astar_nodes)
        if found is not None:
            target, distance = found
    if target is None:
        target, distance = _nearest_food_manhattan(board, pos)

    if _is_food_dangerous(board, target):
        if distance == 0:
            return DANGEROUS_FOOD_FACTOR
        return (1.0 / float(distance)) * DANGEROUS_FOOD_FACTOR
    base = 1.0 if distance == 0 else 1.0 / float(distance)
    return base * _path_quality(board, pos, target)


def _nearest_food_manhattan(board: Board, pos: Coord) -> tuple[Coord, int]:
    best, best_distance = board.food[0], manhattan(pos, board.food[0])
    for food in board.food[1:]:
        d = manhattan(pos, food)
        if d < best_distance:
            best, best_distance = food, d
    return best, best_distance


def _is_food_dangerous(board: Board, food: Coord) -> bool:
    you = board.you
    my_distance = manhattan(you.head, food)
    critical = you.health < 30
    for enemy in board.enemies():
        if any(manhattan(food, segment) <= FOOD_DANGER_RADIUS for segment in enemy.body):
            return True
        enemy_distance = manhattan(enemy.head, food)
        if enemy_distance < my_distance - 2:
            return True
        if abs(enemy_distance - my_distance) <= 1:
            advantage = enemy.length - you.length
            if advantage >= (3 if critical else 2):
                return True
    return False


def _path_quality(board: Board, start: Coord, food: Coord) -> float:
    """The bot's ``EvaluatePathQuality``: discount food whose first step toward it loses space."""
    here = flood_fill(board, start, PATH_QUALITY_DEPTH)
    if here < CONSTRAINED_SPACE:
        return 1.0
    fx, fy = food
    if min(fx, board.width - 1 - fx, fy, board.height - 1 - fy) == 0:
        walls = int(fx in (0, board.width - 1)) + int(fy in (0, board.height - 1))
        if walls >= 2 and float(here) > CORNER_SPACE_SHARE * float(board.width * board.height):
            return CORNER_FACTOR
    dx, dy = fx - start[0], fy - start[1]
    if abs(dx) + abs(dy) <= 2:
        return 1.0
    if abs(dx) > abs(dy):
        toward = (start[0] + (1 if dx > 0 else -1), start[1])
    else:
        toward = (start[0], start[1] + (1 if dy > 0 else -1))
    if not board.is_free(toward):
        return 1.0
    there = flood_fill(board, toward, PATH_QUALITY_DEPTH)
    reduction = float(here - there) / float(here)
    if reduction > HIGH_REDUCTION:
        return HIGH_REDUCTION_FACTOR
    if reduction > MODERATE_REDUCTION:
        return MODERATE_REDUCTION_FACTOR
    return 1.0


def _nearest_food_astar(board: Board, start: Coord, max_nodes: int) -> tuple[Coord, int] | None:
    """First food (in list order) with the strictly shortest A* path; ``(food, cells in path)``."""
    best: tuple[Coord, int] | None = None
    for food in board.food:
        cells = _astar_path_cells(board, start, food, max_nodes)
        if cells is not None and (best is None or cells < best[1]):
            best = (food, cells)
    return best


@dataclass
class _Node:
    pos: Coord
    g: int
    f: int


def _astar_path_cells(board: Board, start: Coord, goal: Coord, max_nodes: int) -> int | None:
    """Cells on the path the bot's ``aStarSearch`` returns, or None where it gives up."""
    key = ("astar", start, goal, max_nodes)
    if key not in board.memo:
        board.memo[key] = _astar_search(board, start, goal, max_nodes)
    return board.memo[key]


def _astar_search(board: Board, start: Coord, goal: Coord, max_nodes: int) -> int | None:
    if board.is_occupied(goal):
        return None
    if start == goal:
        return 1
    heap: list[_Node] = []
    _heap_push(heap, _Node(start, 0, manhattan(start, goal)))
    closed: dict[Coord, int] = {}  # g-score of each popped cell (the bot's "visited")
    explored = 0
    while heap and explored < max_nodes:
        current = _heap_pop(heap)
        explored += 1
        if current.pos == goal:
            return current.g + 1
        closed[current.pos] = current.g
        for neighbour in board.neighbours(current.pos):
            if board.is_occupied(neighbour):
                continue
            g = current.g + 1
            previous = closed.get(neighbour)
            if previous is not None and previous <= g:
                continue
            _heap_push(heap, _Node(neighbour, g, g + manhattan(neighbour, goal)))
    return None


# Go's container/heap, ordered by f-score only; Python's heapq breaks ties differently.


def _heap_push(heap: list[_Node], node: _Node) -> None:
    heap.append(node)
    j = len(heap) - 1
    while j > 0:
        parent = (j - 1) // 2
        if not heap[j].f < heap[parent].f:
            break
        heap[parent], heap[j] = heap[j], heap[parent]
        j = parent


def _heap_pop(heap: list[_Node]) -> _Node:
    n = len(heap) - 1
    heap[0], heap[n] = heap[n], heap[0]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        right = left + 1
        if right < n and heap[right].f < heap[left].f:
            child = right
        if not heap[child].f < heap[i].f:
            break
        heap[i], heap[child] = heap[child], heap[i]
        i = child
    return heap.pop()
