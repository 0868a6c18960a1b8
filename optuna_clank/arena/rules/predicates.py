"""The official rule predicates: default move, health, bounds, collisions and game over."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.arena.rules.board import live_snakes, xy

if TYPE_CHECKING:
    from collections.abc import Sequence

    from optuna_clank.arena.rules.board import Board, Point


def default_move(body: Sequence[Point]) -> str:
    """The move applied when a snake's move is not one of ``MOVES``: keep going the same way.

    The direction runs from the neck to the head (with the official wrapped-board fallbacks);
    ``up`` when the body is shorter than two segments or the head is stacked on the neck.
    """
    if len(body) < 2:
        return "up"
    (head_x, head_y), (neck_x, neck_y) = xy(body[0]), xy(body[1])
    if head_x == neck_x + 1:
        return "right"
    if head_x == neck_x - 1:
        return "left"
    if head_y == neck_y + 1:
        return "up"
    if head_y == neck_y - 1:
        return "down"
    if head_x == 0 and neck_x > 0:
        return "right"
    if neck_x == 0 and head_x > 0:
        return "left"
    if head_y == 0 and neck_y > 0:
        return "up"
    if neck_y == 0 and head_y > 0:
        return "down"
    return "up"


def is_out_of_health(health: int) -> bool:
    """Health at or below zero eliminates a snake."""
    return health <= 0


def is_out_of_bounds(width: int, height: int, body: Sequence[Point]) -> bool:
    """Whether any segment (not only the head) lies off the ``width`` x ``height`` board."""
    return any(not (0 <= x < width and 0 <= y < height) for x, y in map(xy, body))


def has_body_collided(snake_body: Sequence[Point], other_body: Sequence[Point]) -> bool:
    """Whether the head of ``snake_body`` lies on ``other_body`` past its head (tail included).

    Pass the same body twice for the self-collision test.
    """
    if not snake_body:
        return False
    head = xy(snake_body[0])
    return any(xy(segment) == head for segment in other_body[1:])


def has_lost_head_to_head(snake_body: Sequence[Point], other_body: Sequence[Point]) -> bool:
    """Whether the heads meet and ``snake_body`` is not strictly longer (equal lengths lose)."""
    if not snake_body or not other_body:
        return False
    return xy(snake_body[0]) == xy(other_body[0]) and len(snake_body) <= len(other_body)


def is_game_over(board: Board, *, solo: bool = False) -> bool:
    """Over when at most one snake is left (``solo``: when none is left)."""
    alive = len(live_snakes(board))
    return alive == 0 if solo else alive <= 1
