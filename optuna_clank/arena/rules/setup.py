"""Board setup: the snakes' start squares and the starting food (official ``StandardMap.SetupBoard``).

Random numbers are drawn in the official order, so a seeded source gives the official boards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.arena.rules.board import (
    centre_square,
    clone,
    free_squares,
    go_half,
    new_point,
    require_body,
    shuffle_in_place,
    xy,
)
from optuna_clank.arena.rules.errors import (
    ERR_NO_POSITIONS,
    ERR_NO_ROOM_FOR_FOOD,
    ERR_NO_ROOM_FOR_SNAKE,
    ERR_TOO_MANY_SNAKES,
    RulesError,
)
from optuna_clank.arena.standard import SNAKE_MAX_HEALTH, SNAKE_START_SIZE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from optuna_clank.arena.rng import GoRandom
    from optuna_clank.arena.rules.board import Board, Snake, Square

_MAX_SNAKES = 16  # StandardMap's MaxPlayers
_FIXED_START_MAX_SNAKES = 8
_SMALL_BOARD = 7
_MEDIUM_BOARD = 11


def _new_snake(snake_id: str) -> Snake:
    """A live, full-health snake that has not been placed yet."""
    return {
        "id": snake_id,
        "body": [],
        "health": SNAKE_MAX_HEALTH,
        "eliminated_cause": "",
        "eliminated_by": "",
        "eliminated_on_turn": 0,
    }


def _stacked_body(square: Square) -> list[dict[str, int]]:
    """A starting body: all segments stacked on one square."""
    return [new_point(square) for _ in range(SNAKE_START_SIZE)]


def _place_fixed(board: Board, rng: GoRandom) -> None:
    """Up to 8 snakes on the shuffled corners and edge midpoints, corners first half the time."""
    snakes = board["snakes"]
    low, mid, high = 1, go_half(board["width"] - 1), board["width"] - 2
    corners = [(low, low), (low, high), (high, low), (high, high)]
    cardinals = [(low, mid), (mid, low), (mid, high), (high, mid)]
    if len(snakes) > len(corners) + len(cardinals):
        raise RulesError(ERR_TOO_MANY_SNAKES)
    shuffle_in_place(rng, corners)
    shuffle_in_place(rng, cardinals)
    starts = corners + cardinals if rng.intn(2) == 0 else cardinals + corners
    for snake, square in zip(snakes, starts, strict=False):
        snake["body"] = _stacked_body(square)


def _quadrant_starts(width: int, height: int) -> list[list[Square]]:
    """Four candidate squares per quadrant: one pattern, mirrored into the other three quadrants."""
    quad_w, quad_h = width // 2, height // 2
    off_x, off_y = quad_w // 3, quad_h // 3
    first = [
        (off_x, off_y),
        (quad_w - off_x, off_y),
        (off_x, quad_h - off_y),
        (quad_w - off_x, quad_h - off_y),
    ]
    return [
        first,
        [(width - x - 1, y) for x, y in first],
        [(x, height - y - 1) for x, y in first],
        [(width - x - 1, height - y - 1) for x, y in first],
    ]


def _take_random(rng: GoRandom, bucket: list[Square]) -> Square:
    """Remove and return a random square, filling its slot with the last one (official order)."""
    if not bucket:
        raise RulesError(ERR_NO_POSITIONS)
    index = rng.intn(len(bucket))
    square = bucket[index]
    bucket[index] = bucket[-1]
    bucket.pop()
    return square


def _place_distributed(board: Board, rng: GoRandom) -> None:
    """9..16 snakes dealt round-robin over the quadrants, starting at a random quadrant."""
    snakes = board["snakes"]
    if len(snakes) > _MAX_SNAKES:
        raise RulesError(ERR_TOO_MANY_SNAKES)
    quadrants = _quadrant_starts(board["width"], board["height"])
    quadrant = rng.intn(len(quadrants))
    for snake in snakes:
        snake["body"] = _stacked_body(_take_random(rng, quadrants[quadrant]))
        quadrant = (quadrant + 1) % len(quadrants)


def _place_randomly(board: Board, rng: GoRandom) -> None:
    """One snake at a time on a free square with even ``x + y``, never the centre."""
    centre = centre_square(board)
    for snake in board["snakes"]:
        options = [
            square
            for square in free_squares(board, clear_of_heads=False)
            if (square[0] + square[1]) % 2 == 0 and square != centre
        ]
        if not options:
            raise RulesError(ERR_NO_ROOM_FOR_SNAKE)
        snake["body"] = _stacked_body(options[rng.intn(len(options))])


def place_snakes(board: Board, rng: GoRandom) -> Board:
    """Official ``PlaceSnakesAutomatically``: (re)create the board's snakes, by id, and place them.

    Square boards of width >= 7 with up to 8 snakes use the fixed start squares; square boards of
    width >= 11 with 9..16 snakes use quadrant placement; square boards narrower than 7 refuse more
    than 8 snakes; everything else is placed randomly. Raises :class:`RulesError`.
    """
    state = clone(board)
    state["snakes"] = [_new_snake(snake["id"]) for snake in state["snakes"]]
    width, height, count = state["width"], state["height"], len(state["snakes"])
    if width == height:
        if count > _FIXED_START_MAX_SNAKES and width < _SMALL_BOARD:
            raise RulesError(ERR_TOO_MANY_SNAKES)
        if count <= _FIXED_START_MAX_SNAKES and width >= _SMALL_BOARD:
            _place_fixed(state, rng)
            return state
        if width >= _MEDIUM_BOARD:
            _place_distributed(state, rng)
            return state
    _place_randomly(state, rng)
    return state


def _is_away_from_centre(square: Square, head: Square, centre: Square) -> bool:
    """Whether ``square`` lies farther from the centre than the head on at least one axis."""
    return any(
        spot < own < middle or middle < own < spot for spot, own, middle in zip(square, head, centre, strict=True)
    )


def _is_corner(board: Board, square: Square) -> bool:
    """Whether ``square`` is one of the four board corners."""
    x, y = square
    return x in (0, board["width"] - 1) and y in (0, board["height"] - 1)


def _food_options_near(board: Board, head: Square, centre: Square) -> list[Square]:
    """Diagonal neighbours of a head fit for its starting food, in the official order."""
    head_x, head_y = head
    food_squares = {xy(food) for food in board["food"]}
    diagonals = [
        (head_x - 1, head_y - 1),
        (head_x - 1, head_y + 1),
        (head_x + 1, head_y - 1),
        (head_x + 1, head_y + 1),
    ]
    return [
        square
        for square in diagonals
        if square != centre
        and square not in food_squares
        and _is_away_from_centre(square, head, centre)
        and not _is_corner(board, square)
    ]


def _place_food_fixed(board: Board, rng: GoRandom) -> None:
    """One food two moves from each snake (when there is room for that), then one in the centre."""
    centre = centre_square(board)
    is_small = board["width"] * board["height"] < _MEDIUM_BOARD * _MEDIUM_BOARD
    if len(board["snakes"]) <= 4 or not is_small:
        for snake in board["snakes"]:
            require_body(snake)
            options = _food_options_near(board, xy(snake["body"][0]), centre)
            if not options:
                raise RulesError(ERR_NO_ROOM_FOR_FOOD)
            board["food"].append(new_point(options[rng.intn(len(options))]))
    if centre not in free_squares(board, clear_of_heads=False):
        raise RulesError(ERR_NO_ROOM_FOR_FOOD)
    board["food"].append(new_point(centre))


def _place_food_randomly(board: Board, rng: GoRandom, count: int) -> None:
    """Up to ``count`` food, each on a free square clear of heads (skipped when there is none)."""
    for _ in range(count):
        options = free_squares(board, clear_of_heads=True)
        if options:
            board["food"].append(new_point(options[rng.intn(len(options))]))


def place_food(board: Board, rng: GoRandom) -> Board:
    """Official ``PlaceFoodAutomatically``: the starting food for a board whose snakes are placed.

    Square boards of width >= 7 get fixed food (near each snake, then the centre); other boards get
    one random food per snake. Raises :class:`RulesError` when fixed food does not fit.
    """
    state = clone(board)
    if state["width"] == state["height"] and state["width"] >= _SMALL_BOARD:
        _place_food_fixed(state, rng)
    else:
        _place_food_randomly(state, rng, len(state["snakes"]))
    return state


def create_board(width: int, height: int, snake_ids: Sequence[str], rng: GoRandom) -> Board:
    """The turn-0 board of a standard game (official ``StandardMap.SetupBoard``).

    Snakes are placed first, then food, consuming ``rng`` in the official order. Raises
    :class:`RulesError` for more than 16 snakes or when snakes or food do not fit.

    Example::

        >>> from optuna_clank.arena.rng import SeededRandom
        >>> seed, game = 1234, 7
        >>> board = create_board(11, 11, ["you", "them"], SeededRandom(f"{seed}:{game}"))
        >>> [len(snake["body"]) for snake in board["snakes"]], len(board["food"])
        ([3, 3], 3)
    """
    if len(snake_ids) > _MAX_SNAKES:
        raise RulesError(ERR_TOO_MANY_SNAKES)
    empty = {
        "turn": 0,
        "width": width,
        "height": height,
        "food": [],
        "hazards": [],
        "snakes": [_new_snake(snake_id) for snake_id in snake_ids],
    }
    return place_food(place_snakes(empty, rng), rng)
