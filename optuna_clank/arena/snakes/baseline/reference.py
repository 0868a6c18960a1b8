"""Scalar reference of go-battleclank's Rust benchmark snake, readable line by line against its source.

The bot's trainer measured every config against the snake in the bot repository's ``baseline/``
folder. This module is our own re-implementation of its behaviour (``baseline/src/scoring.rs``,
``direction.rs``, ``size.rs`` and the ``/move`` handler of ``main.rs``), kept in the Rust code's order
so a reader can follow both side by side; the batched ``baseline`` player is tested equal to it, and
it is tested against moves and scores recorded from the Rust code itself.

What the Rust code does that a port must keep: each move's integer terms are added in a fixed order,
but a fatal move (wall, own body, another body) returns exactly ``-1000`` before any other term; the
flood fill counts its start cell even when a body covers it and stops at ``min(width * height, 121)``
cells; head-to-head and pursuit terms add up over every enemy while the breakdown map keeps one
entry per key (so two ``lose_head_to_head`` show once, counted twice in the total); ties go to the
*last* best of up, down, left, right (``max_by_key``); a best total of ``-1000`` or less answers
``up``, even into a wall.

Example::

    >>> request = {"game": {"ruleset": {"name": "standard"}}, "turn": 0, "board": {"width": 7,
    ...     "height": 7, "food": [], "hazards": [], "snakes": [{"id": "a", "health": 100,
    ...     "body": [{"x": 1, "y": 1}] * 3, "length": 3}]},
    ...     "you": {"id": "a", "health": 100, "body": [{"x": 1, "y": 1}] * 3, "length": 3}}
    >>> choose_move(request)
    'right'
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna_clank.arena.snakes.baseline.weights import (
    CRITICAL_RATIO,
    DEAD_END_PENALTY,
    DEAD_END_SHRINK,
    FATAL,
    HEALTHY_HAZARD_ABOVE,
    HUNGRY_BELOW,
    MODERATE_RATIO,
    PURSUIT_BONUS,
    SEARCH_CAP,
    SEVERE_RATIO,
    STARVING_BELOW,
    URGENCY_RANGE,
    ScoringWeights,
    centre_score,
    f32,
    food_score,
    min_food_space,
    weights_for,
)

__all__ = ["ACTIONS", "Board", "ScoredMove", "Snake", "choose_move", "read_request", "score_moves", "select_best_move"]

ACTIONS: tuple[str, ...] = ("up", "down", "left", "right")
"""The order the Rust code scores moves in (and so the order its ties are broken over)."""

Coord = tuple[int, int]


@dataclass(frozen=True)
class Snake:
    """One ``board.snakes`` entry; ``length`` is the request's field, as the Rust code reads it."""

    id: str
    body: tuple[Coord, ...]
    health: int
    length: int

    @property
    def head(self) -> Coord:
        return self.body[0]


@dataclass(frozen=True)
class Board:
    width: int
    height: int
    food: tuple[Coord, ...]
    hazards: tuple[Coord, ...]
    snakes: tuple[Snake, ...]


@dataclass(frozen=True)
class ScoredMove:
    """One move's ``total_score`` and its breakdown (one entry per key: a repeated key keeps its last value)."""

    action: str
    total_score: int
    score_breakdown: dict[str, int] = field(default_factory=dict)


def read_request(request: Mapping[str, Any]) -> tuple[str, Board, Snake]:
    """A ``/move`` body as (ruleset name, board, you)."""

    def coords(points: Sequence[Mapping[str, int]] | None) -> tuple[Coord, ...]:
        return tuple((int(p["x"]), int(p["y"])) for p in points or ())

    def snake(raw: Mapping[str, Any]) -> Snake:
        body = coords(raw["body"])
        return Snake(str(raw["id"]), body, int(raw["health"]), int(raw.get("length", len(body))))

    raw_board = request["board"]
    board = Board(
        width=int(raw_board["width"]),
        height=int(raw_board["height"]),
        food=coords(raw_board.get("food")),
        hazards=coords(raw_board.get("hazards")),
        snakes=tuple(snake(s) for s in raw_board["snakes"]),
    )
    ruleset = str(((request.get("game") or {}).get("ruleset") or {}).get("name", ""))
    return ruleset, board, snake(request["you"])


def choose_move(request: Mapping[str, Any]) -> str:
    """The move the Rust snake answers to a ``/move`` request."""
    return select_best_move(score_request(request))


def score_request(request: Mapping[str, Any]) -> list[ScoredMove]:
    """``direction::calculate_action``'s scored moves: weights by ruleset, then every move scored."""
    ruleset, board, you = read_request(request)
    weights = weights_for(ruleset, longest=you.id == longest(board.snakes))
    return score_moves(you, board, snake_direction(you), weights)


def longest(snakes: Sequence[Snake]) -> str:
    """``size::longest``: the id of the first snake of greatest length ("" when all are empty)."""
    best_id, best_length = "", 0
    for snake in snakes:
        if best_length < snake.length:
            best_id, best_length = snake.id, snake.length
    return best_id


def snake_direction(snake: Snake) -> str | None:
    """The heading from neck to head (``None`` for a one-cell body or a stacked neck)."""
    if len(snake.body) < 2:
        return None
    neck, head = snake.body[1], snake.head
    if neck == head:
        return None
    if neck[0] < head[0]:
        return "right"
    if neck[0] > head[0]:
        return "left"
    if neck[1] < head[1]:
        return "up"
    return "down"


def score_moves(snake: Snake, board: Board, current_direction: str | None, weights: ScoringWeights) -> list[ScoredMove]:
    """Every move scored, in up, down, left, right order."""
    moves = []
    for action in ACTIONS:
        breakdown: dict[str, int] = {}
        total = _move_score(
            snake, board, action, current_direction=current_direction, weights=weights, breakdown=breakdown
        )
        moves.append(ScoredMove(action, total, breakdown))
    return moves


def select_best_move(scored_moves: Sequence[ScoredMove]) -> str:
    """The last best move (``max_by_key``), or ``up`` when even the best is fatal."""
    best = None
    for scored in scored_moves:
        if best is None or scored.total_score >= best.total_score:
            best = scored
    if best is not None and best.total_score > FATAL:
        return best.action
    return "up"


def _move_score(
    snake: Snake,
    board: Board,
    action: str,
    *,
    current_direction: str | None,
    weights: ScoringWeights,
    breakdown: dict[str, int],
) -> int:
    """``calculate_move_score``: one move's total, its terms written into ``breakdown``."""
    score = 0
    next_pos = next_coord(snake.head, action, board.width, board.height)
    if next_pos is None:
        breakdown["wall_collision"] = weights.wall_collision
        return weights.wall_collision

    already_growing = len(snake.body) >= 2 and snake.body[-1] == snake.body[-2]
    if next_pos in snake.body:
        will_grow = next_pos in board.food
        tail_will_move = not already_growing and not will_grow
        if snake.body[-1] != next_pos or not tail_will_move:
            breakdown["self_collision"] = weights.self_collision
            return weights.self_collision

    for other in board.snakes:
        if other.id == snake.id:
            continue
        if next_pos in other.body:
            tail_will_stay = len(other.body) >= 2 and other.body[-1] == other.body[-2]
            if other.body[-1] != next_pos or tail_will_stay:
                breakdown["other_snake_collision"] = weights.other_snake_collision
                return weights.other_snake_collision
        dist = distance(next_pos, other.head)
        if dist == 1:
            if snake.length > other.length:
                breakdown["win_head_to_head"] = weights.win_head_to_head
                score += weights.win_head_to_head
            else:
                breakdown["lose_head_to_head"] = weights.lose_head_to_head
                score += weights.lose_head_to_head
        if snake.length > other.length and dist <= 5:
            pursuit_bonus = PURSUIT_BONUS.get(dist, 0)
            if pursuit_bonus > 0:
                breakdown[f"hunt_snake_{other.id}"] = pursuit_bonus
                score += pursuit_bonus

    open_squares = count_accessible_squares(next_pos, snake, board, will_grow=False)
    space_score = open_squares * weights.open_space
    breakdown["open_space"] = space_score
    score += space_score

    body_length = snake.length
    space_ratio = f32(open_squares) / f32(body_length)
    if space_ratio < CRITICAL_RATIO:
        breakdown["critical_trap"] = weights.critical_trap_penalty
        score += weights.critical_trap_penalty
    elif space_ratio < SEVERE_RATIO:
        breakdown["severe_trap"] = weights.severe_trap_penalty
        score += weights.severe_trap_penalty
    elif space_ratio < MODERATE_RATIO:
        breakdown["trap_penalty"] = weights.trap_penalty
        score += weights.trap_penalty

    if open_squares > 0:  # look one move further: does every next step shrink the space?
        current_ratio = f32(open_squares) / f32(body_length)
        worst_next_ratio = current_ratio
        for next_action in ACTIONS:
            future_pos = next_coord(next_pos, next_action, board.width, board.height)
            if future_pos is not None:
                future_spaces = count_accessible_squares(future_pos, snake, board, will_grow=False)
                worst_next_ratio = min(worst_next_ratio, f32(future_spaces) / f32(body_length))
        if worst_next_ratio < current_ratio * DEAD_END_SHRINK:
            breakdown["dead_end_ahead"] = DEAD_END_PENALTY
            score += DEAD_END_PENALTY

    food = _food_term(snake, board, next_pos, already_growing, weights)
    if food:
        name, points = food
        breakdown[name] = points
        score += points

    if snake.health < HUNGRY_BELOW:
        urgency = weights.food_when_starving if snake.health < STARVING_BELOW else weights.food_when_hungry
        if any(distance(next_pos, f) < URGENCY_RANGE for f in board.food):
            breakdown["health_urgency"] = urgency
            score += urgency

    center_score = centre_score(next_pos[0], next_pos[1], board.width, board.height, weights)
    if center_score != 0:
        breakdown["center_control"] = center_score
        score += center_score

    if current_direction is not None and action == current_direction:
        breakdown["maintain_direction"] = weights.maintain_direction
        score += weights.maintain_direction

    if wall_distance(next_pos, board) <= 1:
        breakdown["near_wall_penalty"] = weights.near_wall_penalty
        score += weights.near_wall_penalty

    if board.hazards and next_pos in board.hazards:
        penalty = weights.hazard_when_healthy if snake.health > HEALTHY_HAZARD_ABOVE else weights.hazard_penalty
        breakdown["hazard"] = penalty
        score += penalty

    return score


def _food_term(
    snake: Snake, board: Board, next_pos: Coord, already_growing: bool, weights: ScoringWeights
) -> tuple[str, int] | None:
    """The food-trap penalty when eating here leaves too little room (own tail staying), else food proximity."""
    if next_pos in board.food and not already_growing:
        spaces_after_eating = count_accessible_squares(next_pos, snake, board, will_grow=True)
        if spaces_after_eating < min_food_space(snake.length):
            return "food_death_trap", weights.food_death_trap
    food_score = score_food_proximity(snake, next_pos, board, weights)
    return ("food_proximity", food_score) if food_score != 0 else None


def score_food_proximity(snake: Snake, pos: Coord, board: Board, weights: ScoringWeights) -> int:
    """The best food's points by Manhattan distance, scaled by hunger (0 with no food)."""
    best_score = 0
    for food in board.food:
        best_score = max(best_score, food_score(distance(pos, food), snake.health, weights))
    return best_score


def count_accessible_squares(start: Coord, snake: Snake, board: Board, *, will_grow: bool) -> int:
    """Breadth-first count of the cells reachable from ``start`` (counted even if a body covers it).

    Blocking: the own body but its last segment (all of it when ``will_grow``), every other snake's
    body but its last segment; the count stops at ``min(width * height, 121)``.
    """
    visited = {start}
    queue = deque([start])
    max_search = min(board.width * board.height, SEARCH_CAP)
    own_blocking = set(snake.body) if will_grow else set(snake.body[:-1])
    others_blocking = {cell for other in board.snakes if other.id != snake.id for cell in other.body[:-1]}
    count = 0
    while queue:
        pos = queue.popleft()
        count += 1
        if count >= max_search:
            break
        for action in ACTIONS:
            nxt = next_coord(pos, action, board.width, board.height)
            if nxt is None or nxt in visited:
                continue
            if nxt not in own_blocking and nxt not in others_blocking:
                queue.append(nxt)
                visited.add(nxt)
    return count


def wall_distance(pos: Coord, board: Board) -> int:
    """Steps to the nearest board edge."""
    x, y = pos
    return min(x, board.width - 1 - x, y, board.height - 1 - y)


def next_coord(start: Coord, action: str, width: int, height: int) -> Coord | None:
    """The cell one step away, or ``None`` off the board (up is y + 1)."""
    x, y = start
    if action == "down":
        return (x, y - 1) if y >= 1 else None
    if action == "up":
        return (x, y + 1) if y + 1 < height else None
    if action == "left":
        return (x - 1, y) if x >= 1 else None
    return (x + 1, y) if x + 1 < width else None


def distance(a: Coord, b: Coord) -> int:
    """Manhattan distance."""
    return abs(a[0] - b[0]) + abs(a[1] - b[1])
