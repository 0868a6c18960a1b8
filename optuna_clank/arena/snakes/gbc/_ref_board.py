"""The bot's view of a /move request: its board, its occupancy test and its flood fills.

Coordinates are ``(x, y)`` tuples with ``y`` up, as in the Battlesnake API. Everything here follows the
bot's own board package: a snake's last body cell counts as free unless that snake's health is 100
(it "just ate"), even where a stacked duplicate of the tail makes the cell occupied anyway.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Coord = tuple[int, int]

UP, DOWN, LEFT, RIGHT = "up", "down", "left", "right"
ALL_MOVES: tuple[str, ...] = (UP, DOWN, LEFT, RIGHT)  # the bot's AllMoves order: ties go to the first
_STEP: Mapping[str, Coord] = {UP: (0, 1), DOWN: (0, -1), LEFT: (-1, 0), RIGHT: (1, 0)}

FULL_HEALTH = 100  # a snake at this health keeps its tail next turn


def step(pos: Coord, move: str) -> Coord:
    dx, dy = _STEP[move]
    return (pos[0] + dx, pos[1] + dy)


def manhattan(a: Coord, b: Coord) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


@dataclass(frozen=True)
class Snake:
    id: str
    health: int
    body: tuple[Coord, ...]
    head: Coord
    length: int  # the API's "length" field, which the bot trusts over len(body)


@dataclass(frozen=True)
class Board:
    """One position as the bot holds it; ``you`` is the request's ``you`` object, not a board entry."""

    width: int
    height: int
    turn: int
    food: tuple[Coord, ...]
    snakes: tuple[Snake, ...]
    you: Snake
    occupied: frozenset[Coord] = field(init=False, repr=False, compare=False)
    memo: dict[tuple[Any, ...], Any] = field(init=False, repr=False, compare=False)
    """Results of pure functions of this board (and their arguments), shared by every config scored on it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "occupied", frozenset(_occupied_cells(self.snakes)))
        object.__setattr__(self, "memo", {})

    def in_bounds(self, pos: Coord) -> bool:
        return 0 <= pos[0] < self.width and 0 <= pos[1] < self.height

    def is_occupied(self, pos: Coord) -> bool:
        """The bot's ``IsOccupied(pos, skipTails=true)``, the only form its greedy search uses."""
        return pos in self.occupied

    def is_free(self, pos: Coord) -> bool:
        return self.in_bounds(pos) and pos not in self.occupied

    def region_size(self, pos: Coord) -> int:
        """Free cells 4-connected to the free cell ``pos`` (itself included)."""
        sizes = self.memo.get(("regions",))
        if sizes is None:
            sizes = self.memo[("regions",)] = _label_regions(self)
        return sizes[pos]

    def enemies(self) -> Iterable[Snake]:
        return (s for s in self.snakes if s.id != self.you.id)

    def neighbours(self, pos: Coord) -> list[Coord]:
        """In-bounds neighbours in up, down, left, right order (the bot's GetNeighbors)."""
        x, y = pos
        candidates = ((x, y + 1), (x, y - 1), (x - 1, y), (x + 1, y))
        return [c for c in candidates if self.in_bounds(c)]

    def with_you_moved(self, new_head: Coord) -> Board:
        """The bot's one-snake simulation: our head jumps to ``new_head``, our tail cell drops off.

        Health, length and every other snake stay as they were; food is not eaten.
        """
        snakes = []
        moved = self.you
        for snake in self.snakes:
            if snake.id == self.you.id:
                body = (new_head, *snake.body[:-1]) if snake.body else ()
                moved = Snake(snake.id, snake.health, body, new_head, snake.length)
                snakes.append(moved)
            else:
                snakes.append(snake)
        return Board(self.width, self.height, self.turn + 1, self.food, tuple(snakes), moved)


def _label_regions(board: Board) -> dict[Coord, int]:
    """Map every free cell to the size of its free region."""
    sizes: dict[Coord, int] = {}
    for x in range(board.width):
        for y in range(board.height):
            if (x, y) in sizes or (x, y) in board.occupied:
                continue
            region = [(x, y)]
            seen = {(x, y)}
            for cx, cy in region:  # grows while iterated: a BFS without a queue
                for nxt in ((cx, cy + 1), (cx, cy - 1), (cx - 1, cy), (cx + 1, cy)):
                    if nxt not in seen and board.is_free(nxt):
                        seen.add(nxt)
                        region.append(nxt)
            for cell in region:
                sizes[cell] = len(region)
    return sizes


def _occupied_cells(snakes: Iterable[Snake]) -> set[Coord]:
    cells: set[Coord] = set()
    for snake in snakes:
        last = len(snake.body) - 1
        for i, segment in enumerate(snake.body):
            if i == last and snake.health != FULL_HEALTH:
                continue
            cells.add(segment)
    return cells


def board_from_request(request: Mapping[str, Any]) -> Board:
    """Convert a /move body the way the bot's ``convertToInternalState`` does (hazards are unused)."""
    raw_board = request["board"]
    return Board(
        width=int(raw_board["width"]),
        height=int(raw_board["height"]),
        turn=int(request.get("turn", 0)),
        food=tuple(_coord(c) for c in raw_board.get("food") or ()),
        snakes=tuple(_snake(s) for s in raw_board.get("snakes") or ()),
        you=_snake(request["you"]),
    )


def _coord(raw: Mapping[str, Any]) -> Coord:
    return (int(raw["x"]), int(raw["y"]))


def _snake(raw: Mapping[str, Any]) -> Snake:
    body = tuple(_coord(c) for c in raw.get("body") or ())
    head = _coord(raw["head"]) if raw.get("head") is not None else (0, 0)
    return Snake(str(raw.get("id", "")), int(raw.get("health", 0)), body, head, int(raw.get("length", 0)))


def bfs_count(board: Board, start: Coord, max_depth: int, blocked: frozenset[Coord] | set[Coord]) -> int:
    """Cells a FIFO flood from ``start`` reaches through cells not in ``blocked``, capped like the bot.

    The bot counts a cell as it leaves the queue and stops once the count reaches ``max_depth``, so the
    result is ``min(reachable, max_depth)`` — and 1 for any ``max_depth`` of 1 or less (a YAML without
    ``search.max_depth`` reads it as 0). The caller checks the start cell itself.
    """
    seen = {start}
    queue = deque((start,))
    count = 0
    width, height = board.width, board.height
    while queue:
        x, y = queue.popleft()
        count += 1
        if count >= max_depth:
            break
        for nxt in ((x, y + 1), (x, y - 1), (x - 1, y), (x + 1, y)):
            if nxt in seen or not (0 <= nxt[0] < width and 0 <= nxt[1] < height) or nxt in blocked:
                continue
            seen.add(nxt)
            queue.append(nxt)
    return count


def flood_fill(board: Board, start: Coord, max_depth: int) -> int:
    """The bot's ``FloodFill``: 0 from a blocked or off-board start (our own head always is).

    Same number as ``bfs_count`` over ``board.occupied`` — ``min(region size, max(max_depth, 1))`` —
    read from the board's free-region sizes, which are labelled once per board.
    """
    if not board.is_free(start):
        return 0
    return min(board.region_size(start), max(max_depth, 1))


def flood_fill_for_snake(board: Board, snake_id: str, start: Coord, max_depth: int) -> int:
    """The bot's ``FloodFillForSnake``: that snake's tail is free whatever its health; start unchecked."""
    blocked: set[Coord] = set()
    for snake in board.snakes:
        last = len(snake.body) - 1
        for i, segment in enumerate(snake.body):
            if i == last and (snake.id == snake_id or snake.health != FULL_HEALTH):
                continue
            blocked.add(segment)
    return bfs_count(board, start, max_depth, blocked)


def flood_fill_after_eating(board: Board, pos: Coord, max_depth: int) -> int:
    """The bot's ``FloodFillAfterEating``: every body cell blocks (tails included) except ``pos``."""
    blocked = {segment for snake in board.snakes for segment in snake.body}
    blocked.discard(pos)
    return bfs_count(board, pos, max_depth, blocked)


def fdiv(a: float, b: float) -> float:
    """Go's float64 division: x/0 is ±Inf (NaN for 0/0) instead of an exception."""
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b
