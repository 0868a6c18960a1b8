"""JSON-shaped boards: their types and the small helpers every part of the rules shares."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.rules.errors import ERR_ZERO_LENGTH, RulesError
from optuna_clank.arena.standard import MOVE_DELTAS

if TYPE_CHECKING:
    from typing import TypeAlias

    from optuna_clank.arena.rng import GoRandom

    Board: TypeAlias = dict[str, Any]
    Snake: TypeAlias = dict[str, Any]
    Point: TypeAlias = Mapping[str, int]
    Square: TypeAlias = tuple[int, int]


def xy(point: Point) -> Square:
    """A point as a hashable ``(x, y)``, so extra keys on a point never break comparisons."""
    return point["x"], point["y"]


def new_point(square: Square) -> dict[str, int]:
    """A fresh JSON-shaped point, so boards never share point objects."""
    return {"x": square[0], "y": square[1]}


def clone(board: Board) -> Board:
    """A deep copy, because every public function must leave its input untouched."""
    return copy.deepcopy(board)


def is_alive(snake: Snake) -> bool:
    """A snake is in play until it has an elimination cause."""
    return snake.get("eliminated_cause", "") == ""


def live_snakes(board: Board) -> list[Snake]:
    """The snakes still in play, in list order (the order every stage walks them)."""
    return [snake for snake in board["snakes"] if is_alive(snake)]


def eliminate(snake: Snake, cause: str, by: str, turn: int) -> None:
    """Record an elimination the way the official ``EliminateSnake`` does."""
    snake["eliminated_cause"] = cause
    snake["eliminated_by"] = by
    snake["eliminated_on_turn"] = turn


def require_body(snake: Snake) -> None:
    """Reject a live snake without a body, as several official stages do."""
    if not snake["body"]:
        raise RulesError(ERR_ZERO_LENGTH, f"snake {snake['id']!r}")


def go_half(value: int) -> int:
    """``value / 2`` with Go's truncation toward zero (differs from ``//`` for negative values)."""
    return value // 2 if value >= 0 else -((-value) // 2)


def centre_square(board: Board) -> Square:
    """The official centre square ``((W-1)/2, (H-1)/2)``."""
    return go_half(board["width"] - 1), go_half(board["height"] - 1)


def shuffle_in_place(rng: GoRandom, items: list[Any]) -> None:
    """Shuffle a list through the RNG's swap callback, as Go's ``rand.Shuffle`` is used."""

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    rng.shuffle(len(items), swap)


def free_squares(board: Board, *, clear_of_heads: bool) -> list[Square]:
    """On-board squares without food or live snake segments, x-major (official order).

    With ``clear_of_heads`` the four squares next to every live head are excluded as well, which is
    how food is kept from spawning where a snake could take it on the very next move.
    """
    taken = {xy(food) for food in board["food"]}
    for snake in live_snakes(board):
        taken.update(xy(segment) for segment in snake["body"])
        if clear_of_heads and snake["body"]:
            head_x, head_y = xy(snake["body"][0])
            taken.update((head_x + dx, head_y + dy) for dx, dy in MOVE_DELTAS.values())
    return [(x, y) for x in range(board["width"]) for y in range(board["height"]) if (x, y) not in taken]
