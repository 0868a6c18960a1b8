"""The Battlesnake standard ruleset on JSON-shaped boards: the readable, exact reference.

This module is the yardstick for the batched torch engine and the product's public single-board
step. It follows the official Go engine (github.com/BattlesnakeOfficial/rules, ``standard.go`` and
``maps/standard.go``) stage by stage and draws random numbers in the official order, so it
reproduces the official test vectors.

A board is a plain dict shaped like the boards of the official test vectors::

    {"turn": 0, "width": 11, "height": 11, "food": [{"x": 5, "y": 5}], "hazards": [],
     "snakes": [{"id": "a", "body": [{"x": 1, "y": 1}, ...], "health": 100,
                 "eliminated_cause": "", "eliminated_by": "", "eliminated_on_turn": 0}]}

Bodies are head first, ``(0, 0)`` is the bottom-left corner and ``up`` is ``y + 1``. Every public
function is pure: it returns a new board and never mutates its arguments. Eliminated snakes stay in
``snakes`` (frozen), food keeps its order (eaten food is removed, spawned food is appended).

Two deliberate simplifications, both invisible in real games: snakes are told apart by their
position in the list rather than by id (the official engine compares ids, which only differs when
two snakes share an id), and snakes of equal length keep their list order when sorted longest first
(the official ``sort.Slice`` is stable only up to 12 snakes).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TypeAlias

    from optuna_clank.arena.rng import GoRandom

    Board: TypeAlias = dict[str, Any]
    Snake: TypeAlias = dict[str, Any]
    Point: TypeAlias = Mapping[str, int]
    Square: TypeAlias = tuple[int, int]
    MovePairs: TypeAlias = list[tuple[str, Any]]
    Moves: TypeAlias = Mapping[str, str] | Sequence[Mapping[str, Any]] | None

__all__ = [
    "CAUSE_BODY",
    "CAUSE_HAZARD",
    "CAUSE_HEAD",
    "CAUSE_OUT_OF_HEALTH",
    "CAUSE_SELF",
    "CAUSE_WALL",
    "MOVES",
    "MOVE_DELTAS",
    "SNAKE_MAX_HEALTH",
    "SNAKE_START_SIZE",
    "RulesError",
    "create_board",
    "damage_hazards",
    "default_move",
    "eliminate_snakes",
    "execute",
    "feed_snakes",
    "has_body_collided",
    "has_lost_head_to_head",
    "is_game_over",
    "is_out_of_bounds",
    "is_out_of_health",
    "move_snakes",
    "place_food",
    "place_snakes",
    "reduce_health",
    "spawn_food",
    "step_board",
]

MOVES = ("up", "down", "left", "right")
MOVE_DELTAS: dict[str, tuple[int, int]] = {
    "up": (0, 1),
    "down": (0, -1),
    "left": (-1, 0),
    "right": (1, 0),
}

CAUSE_OUT_OF_HEALTH = "out-of-health"
CAUSE_WALL = "wall-collision"
CAUSE_SELF = "snake-self-collision"
CAUSE_BODY = "snake-collision"
CAUSE_HEAD = "head-collision"
CAUSE_HAZARD = "hazard"

SNAKE_MAX_HEALTH = 100
SNAKE_START_SIZE = 3

# Official error texts (constants.go and board.go of the official engine).
_ERR_NO_MOVE = "move not provided for snake"
_ERR_ZERO_LENGTH = "snake is length zero"
_ERR_NO_ROOM_FOR_SNAKE = "not enough space to place snake"
_ERR_NO_ROOM_FOR_FOOD = "not enough space to place food"
_ERR_TOO_MANY_SNAKES = "too many snakes for fixed start positions"
_ERR_NO_POSITIONS = "no more positions available"

_MAX_SNAKES = 16  # StandardMap's MaxPlayers
_FIXED_START_MAX_SNAKES = 8
_SMALL_BOARD = 7
_MEDIUM_BOARD = 11


class RulesError(ValueError):
    """An error the official engine reports; ``str(err)`` starts with the official text.

    ``official`` holds the bare official text, ``detail`` what we add to it (such as the snake id).
    """

    def __init__(self, official: str, detail: str = "") -> None:
        self.official = official
        self.detail = detail
        super().__init__(f"{official}: {detail}" if detail else official)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _xy(point: Point) -> Square:
    """A point as a hashable ``(x, y)``, so extra keys on a point never break comparisons."""
    return point["x"], point["y"]


def _point(square: Square) -> dict[str, int]:
    """A fresh JSON-shaped point, so boards never share point objects."""
    return {"x": square[0], "y": square[1]}


def _clone(board: Board) -> Board:
    """A deep copy, because every public function must leave its input untouched."""
    return copy.deepcopy(board)


def _is_alive(snake: Snake) -> bool:
    """A snake is in play until it has an elimination cause."""
    return snake.get("eliminated_cause", "") == ""


def _live_snakes(board: Board) -> list[Snake]:
    """The snakes still in play, in list order (the order every stage walks them)."""
    return [snake for snake in board["snakes"] if _is_alive(snake)]


def _eliminate(snake: Snake, cause: str, by: str, turn: int) -> None:
    """Record an elimination the way the official ``EliminateSnake`` does."""
    snake["eliminated_cause"] = cause
    snake["eliminated_by"] = by
    snake["eliminated_on_turn"] = turn


def _go_half(value: int) -> int:
    """``value / 2`` with Go's truncation toward zero (differs from ``//`` for negative values)."""
    return value // 2 if value >= 0 else -((-value) // 2)


def _centre(board: Board) -> Square:
    """The official centre square ``((W-1)/2, (H-1)/2)``."""
    return _go_half(board["width"] - 1), _go_half(board["height"] - 1)


def _move_pairs(moves: Moves) -> MovePairs:
    """The three accepted move forms as ``(snake_id, move)`` pairs, in their given order."""
    if moves is None:
        return []
    if isinstance(moves, Mapping):
        return list(moves.items())
    return [(entry["id"], entry.get("move")) for entry in moves]


def _is_initialisation(board: Board, pairs: MovePairs) -> bool:
    """The official "initialisation" call (turn <= 0 and no moves) skips most stages."""
    return board["turn"] <= 0 and not pairs


def _require_body(snake: Snake) -> None:
    """Reject a live snake without a body, as several official stages do."""
    if not snake["body"]:
        raise RulesError(_ERR_ZERO_LENGTH, f"snake {snake['id']!r}")


def _shuffle_in_place(rng: GoRandom, items: list[Any]) -> None:
    """Shuffle a list through the RNG's swap callback, as Go's ``rand.Shuffle`` is used."""

    def swap(i: int, j: int) -> None:
        items[i], items[j] = items[j], items[i]

    rng.shuffle(len(items), swap)


def _free_squares(board: Board, *, clear_of_heads: bool) -> list[Square]:
    """On-board squares without food or live snake segments, x-major (official order).

    With ``clear_of_heads`` the four squares next to every live head are excluded as well, which is
    how food is kept from spawning where a snake could take it on the very next move.
    """
    taken = {_xy(food) for food in board["food"]}
    for snake in _live_snakes(board):
        taken.update(_xy(segment) for segment in snake["body"])
        if clear_of_heads and snake["body"]:
            head_x, head_y = _xy(snake["body"][0])
            taken.update((head_x + dx, head_y + dy) for dx, dy in MOVE_DELTAS.values())
    return [(x, y) for x in range(board["width"]) for y in range(board["height"]) if (x, y) not in taken]


# ---------------------------------------------------------------------------------------------
# Predicates


def default_move(body: Sequence[Point]) -> str:
    """The move applied when a snake's move is not one of :data:`MOVES`: keep going the same way.

    The direction runs from the neck to the head (with the official wrapped-board fallbacks);
    ``up`` when the body is shorter than two segments or the head is stacked on the neck.
    """
    if len(body) < 2:
        return "up"
    (head_x, head_y), (neck_x, neck_y) = _xy(body[0]), _xy(body[1])
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
    return any(not (0 <= x < width and 0 <= y < height) for x, y in map(_xy, body))


def has_body_collided(snake_body: Sequence[Point], other_body: Sequence[Point]) -> bool:
    """Whether the head of ``snake_body`` lies on ``other_body`` past its head (tail included).

    Pass the same body twice for the self-collision test.
    """
    if not snake_body:
        return False
    head = _xy(snake_body[0])
    return any(_xy(segment) == head for segment in other_body[1:])


def has_lost_head_to_head(snake_body: Sequence[Point], other_body: Sequence[Point]) -> bool:
    """Whether the heads meet and ``snake_body`` is not strictly longer (equal lengths lose)."""
    if not snake_body or not other_body:
        return False
    return _xy(snake_body[0]) == _xy(other_body[0]) and len(snake_body) <= len(other_body)


def is_game_over(board: Board, *, solo: bool = False) -> bool:
    """Over when at most one snake is left (``solo``: when none is left)."""
    alive = len(_live_snakes(board))
    return alive == 0 if solo else alive <= 1


# ---------------------------------------------------------------------------------------------
# Stages, in place on a board the caller owns


def _check_moves_cover_live_snakes(board: Board, pairs: MovePairs) -> None:
    """Every live snake needs a body and a move; the first failure aborts the whole turn."""
    ids_with_moves = {snake_id for snake_id, _ in pairs}
    for snake in _live_snakes(board):
        _require_body(snake)
        if snake["id"] not in ids_with_moves:
            raise RulesError(_ERR_NO_MOVE, f"snake {snake['id']!r}")


def _advance(snake: Snake, move: Any) -> None:
    """Move one snake: new head in front, last segment dropped (a stacked tail loses one copy)."""
    body = snake["body"]
    applied = move if isinstance(move, str) and move in MOVE_DELTAS else default_move(body)
    dx, dy = MOVE_DELTAS[applied]
    head_x, head_y = _xy(body[0])
    snake["body"] = [_point((head_x + dx, head_y + dy)), *body[:-1]]


def _apply_movement(board: Board, pairs: MovePairs) -> None:
    """Stage 1: validate, then apply every move entry that names a live snake."""
    if _is_initialisation(board, pairs) or not pairs:
        return
    _check_moves_cover_live_snakes(board, pairs)
    for snake in _live_snakes(board):
        for snake_id, move in pairs:
            if snake_id == snake["id"]:
                _advance(snake, move)


def _apply_starvation(board: Board, pairs: MovePairs) -> None:
    """Stage 2: every live snake loses one health point (no clamp)."""
    if _is_initialisation(board, pairs):
        return
    for snake in _live_snakes(board):
        snake["health"] -= 1


def _apply_hazard_damage(board: Board, pairs: MovePairs, damage_per_turn: int) -> None:
    """Stage 3: each hazard entry under a live head hurts (clamped to 0..100), except on food."""
    if _is_initialisation(board, pairs):
        return
    food_squares = {_xy(food) for food in board["food"]}
    hazards = [_xy(hazard) for hazard in board.get("hazards") or []]
    for snake in _live_snakes(board):
        _require_body(snake)
        head = _xy(snake["body"][0])
        if head in food_squares:
            continue
        for hazard in hazards:
            if hazard != head:
                continue
            health = snake["health"] - damage_per_turn
            snake["health"] = min(max(health, 0), SNAKE_MAX_HEALTH)
            if is_out_of_health(snake["health"]):
                _eliminate(snake, CAUSE_HAZARD, "", board["turn"] + 1)


def _apply_feeding(board: Board) -> None:
    """Stage 4 (runs even at initialisation): every live head on a food eats it, all of them.

    Eating duplicates the tail segment and restores full health; eaten food disappears and the
    rest keeps its order.
    """
    remaining = []
    for food in board["food"]:
        square = _xy(food)
        eaters = [s for s in _live_snakes(board) if s["body"] and _xy(s["body"][0]) == square]
        for snake in eaters:
            snake["body"].append(dict(snake["body"][-1]))
            snake["health"] = SNAKE_MAX_HEALTH
        if not eaters:
            remaining.append(food)
    board["food"] = remaining


def _longest_first(snakes: list[Snake]) -> list[int]:
    """Snake indices, longest body first, ties in list order: collisions credit the longest."""
    return sorted(range(len(snakes)), key=lambda index: -len(snakes[index]["body"]))


def _collision_verdict(snakes: list[Snake], index: int, order: list[int]) -> tuple[str, str] | None:
    """Cause and culprit of snake ``index``'s collision, or None; the first matching rule wins."""
    body = snakes[index]["body"]
    if has_body_collided(body, body):
        return CAUSE_SELF, snakes[index]["id"]
    rivals = [other for other in order if other != index and _is_alive(snakes[other])]
    for other in rivals:
        if has_body_collided(body, snakes[other]["body"]):
            return CAUSE_BODY, snakes[other]["id"]
    for other in rivals:
        if has_lost_head_to_head(body, snakes[other]["body"]):
            return CAUSE_HEAD, snakes[other]["id"]
    return None


def _apply_elimination(board: Board, pairs: MovePairs) -> None:
    """Stage 5: starvation and walls at once, then collisions decided for all and applied together.

    Snakes removed by starvation or walls are no obstacle to anyone this turn; snakes removed by a
    collision still are (so both snakes of a swap die, each credited to the other).
    """
    if _is_initialisation(board, pairs):
        return
    snakes = board["snakes"]
    next_turn = board["turn"] + 1
    order = _longest_first(snakes)
    for snake in _live_snakes(board):
        _require_body(snake)
        if is_out_of_health(snake["health"]):
            _eliminate(snake, CAUSE_OUT_OF_HEALTH, "", next_turn)
        elif is_out_of_bounds(board["width"], board["height"], snake["body"]):
            _eliminate(snake, CAUSE_WALL, "", next_turn)
    verdicts = [
        (index, _collision_verdict(snakes, index, order)) for index, snake in enumerate(snakes) if _is_alive(snake)
    ]
    for index, verdict in verdicts:
        if verdict is not None:
            _eliminate(snakes[index], verdict[0], verdict[1], next_turn)


def _run_pipeline(board: Board, pairs: MovePairs, hazard_damage_per_turn: int) -> None:
    """Stages 1-5 of the standard ruleset, in their official order."""
    _apply_movement(board, pairs)
    _apply_starvation(board, pairs)
    _apply_hazard_damage(board, pairs, hazard_damage_per_turn)
    _apply_feeding(board)
    _apply_elimination(board, pairs)


# ---------------------------------------------------------------------------------------------
# Stages as pure functions


def move_snakes(board: Board, moves: Moves) -> Board:
    """Stage 1, movement; no-op at initialisation or without moves. Raises :class:`RulesError`."""
    state = _clone(board)
    _apply_movement(state, _move_pairs(moves))
    return state


def reduce_health(board: Board, moves: Moves) -> Board:
    """Stage 2: live snakes lose one health point (``moves`` only marks initialisation)."""
    state = _clone(board)
    _apply_starvation(state, _move_pairs(moves))
    return state


def damage_hazards(board: Board, moves: Moves, *, damage_per_turn: int) -> Board:
    """Stage 3, hazard damage; a negative ``damage_per_turn`` heals (capped at 100)."""
    state = _clone(board)
    _apply_hazard_damage(state, _move_pairs(moves), damage_per_turn)
    return state


def feed_snakes(board: Board) -> Board:
    """Stage 4, feeding (never skipped)."""
    state = _clone(board)
    _apply_feeding(state)
    return state


def eliminate_snakes(board: Board, moves: Moves) -> Board:
    """Stage 5, elimination, on a board that has already moved. Raises :class:`RulesError`."""
    state = _clone(board)
    _apply_elimination(state, _move_pairs(moves))
    return state


# ---------------------------------------------------------------------------------------------
# Whole turns


def execute(
    board: Board,
    moves: Moves,
    *,
    solo: bool = False,
    hazard_damage_per_turn: int = 0,
) -> tuple[bool, Board]:
    """The official ``Ruleset.Execute``: returns ``(game_over, next_board)``.

    The game-over test runs first, on the incoming board; when it is over nothing else happens. It
    never changes ``turn`` and never spawns food (see :func:`spawn_food`). Raises
    :class:`RulesError` for a missing move or a live snake without a body.
    """
    state = _clone(board)
    if is_game_over(state, solo=solo):
        return True, state
    _run_pipeline(state, _move_pairs(moves), hazard_damage_per_turn)
    return False, state


def step_board(board: Board, moves: Mapping[str, str]) -> Board:
    """Play one turn on one board and return the next board, with ``turn`` one higher.

    Movement, health, hazards (none on the standard map), feeding and elimination, exactly as the
    official engine; no food spawning and no game-over short-circuit. Eliminated snakes stay in the
    list with cause, culprit and turn. Move strings other than :data:`MOVES` get the
    :func:`default_move`. A live snake without a move raises :class:`RulesError` (a ``ValueError``)
    naming the snake.

    Example::

        >>> from optuna_clank.arena.rng import SeededRandom
        >>> board = create_board(11, 11, ["you", "them"], SeededRandom("1234:7"))
        >>> next_board = step_board(board, {"you": "up", "them": "left"})
        >>> next_board["turn"], [snake["health"] for snake in next_board["snakes"]]
        (1, [99, 99])
    """
    pairs = _move_pairs(moves)
    _check_moves_cover_live_snakes(board, pairs)
    state = _clone(board)
    _run_pipeline(state, pairs, 0)
    state["turn"] = board["turn"] + 1
    return state


# ---------------------------------------------------------------------------------------------
# Food spawning


def _append_random_food(board: Board, rng: GoRandom, count: int) -> None:
    """Shuffle the free squares (clear of heads) and append the first ``count`` as food."""
    candidates = _free_squares(board, clear_of_heads=True)
    _shuffle_in_place(rng, candidates)
    board["food"].extend(_point(square) for square in candidates[:count])


def spawn_food(
    board: Board,
    rng: GoRandom,
    *,
    minimum_food: int = 1,
    food_spawn_chance: int = 15,
) -> Board:
    """The standard map's food spawning after a turn (official ``StandardMap.PostUpdateBoard``).

    Tops food up to ``minimum_food``; otherwise spawns one item when
    ``100 - rng.intn(100) < food_spawn_chance``, which is the official roll and happens with
    probability ``food_spawn_chance - 1`` percent. New food avoids food, live snakes and the squares
    next to live heads, and is appended after the existing food.
    """
    state = _clone(board)
    missing = minimum_food - len(state["food"])
    if missing > 0:
        _append_random_food(state, rng, missing)
    elif food_spawn_chance > 0 and (100 - rng.intn(100)) < food_spawn_chance:
        _append_random_food(state, rng, 1)
    return state


# ---------------------------------------------------------------------------------------------
# Board setup


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
    return [_point(square) for _ in range(SNAKE_START_SIZE)]


def _place_fixed(board: Board, rng: GoRandom) -> None:
    """Up to 8 snakes on the shuffled corners and edge midpoints, corners first half the time."""
    snakes = board["snakes"]
    low, mid, high = 1, _go_half(board["width"] - 1), board["width"] - 2
    corners = [(low, low), (low, high), (high, low), (high, high)]
    cardinals = [(low, mid), (mid, low), (mid, high), (high, mid)]
    if len(snakes) > len(corners) + len(cardinals):
        raise RulesError(_ERR_TOO_MANY_SNAKES)
    _shuffle_in_place(rng, corners)
    _shuffle_in_place(rng, cardinals)
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
        raise RulesError(_ERR_NO_POSITIONS)
    index = rng.intn(len(bucket))
    square = bucket[index]
    bucket[index] = bucket[-1]
    bucket.pop()
    return square


def _place_distributed(board: Board, rng: GoRandom) -> None:
    """9..16 snakes dealt round-robin over the quadrants, starting at a random quadrant."""
    snakes = board["snakes"]
    if len(snakes) > _MAX_SNAKES:
        raise RulesError(_ERR_TOO_MANY_SNAKES)
    quadrants = _quadrant_starts(board["width"], board["height"])
    quadrant = rng.intn(len(quadrants))
    for snake in snakes:
        snake["body"] = _stacked_body(_take_random(rng, quadrants[quadrant]))
        quadrant = (quadrant + 1) % len(quadrants)


def _place_randomly(board: Board, rng: GoRandom) -> None:
    """One snake at a time on a free square with even ``x + y``, never the centre."""
    centre = _centre(board)
    for snake in board["snakes"]:
        options = [
            square
            for square in _free_squares(board, clear_of_heads=False)
            if (square[0] + square[1]) % 2 == 0 and square != centre
        ]
        if not options:
            raise RulesError(_ERR_NO_ROOM_FOR_SNAKE)
        snake["body"] = _stacked_body(options[rng.intn(len(options))])


def place_snakes(board: Board, rng: GoRandom) -> Board:
    """Official ``PlaceSnakesAutomatically``: (re)create the board's snakes, by id, and place them.

    Square boards of width >= 7 with up to 8 snakes use the fixed start squares; square boards of
    width >= 11 with 9..16 snakes use quadrant placement; square boards narrower than 7 refuse more
    than 8 snakes; everything else is placed randomly. Raises :class:`RulesError`.
    """
    state = _clone(board)
    state["snakes"] = [_new_snake(snake["id"]) for snake in state["snakes"]]
    width, height, count = state["width"], state["height"], len(state["snakes"])
    if width == height:
        if count > _FIXED_START_MAX_SNAKES and width < _SMALL_BOARD:
            raise RulesError(_ERR_TOO_MANY_SNAKES)
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
    food_squares = {_xy(food) for food in board["food"]}
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
    centre = _centre(board)
    is_small = board["width"] * board["height"] < _MEDIUM_BOARD * _MEDIUM_BOARD
    if len(board["snakes"]) <= 4 or not is_small:
        for snake in board["snakes"]:
            _require_body(snake)
            options = _food_options_near(board, _xy(snake["body"][0]), centre)
            if not options:
                raise RulesError(_ERR_NO_ROOM_FOR_FOOD)
            board["food"].append(_point(options[rng.intn(len(options))]))
    if centre not in _free_squares(board, clear_of_heads=False):
        raise RulesError(_ERR_NO_ROOM_FOR_FOOD)
    board["food"].append(_point(centre))


def _place_food_randomly(board: Board, rng: GoRandom, count: int) -> None:
    """Up to ``count`` food, each on a free square clear of heads (skipped when there is none)."""
    for _ in range(count):
        options = _free_squares(board, clear_of_heads=True)
        if options:
            board["food"].append(_point(options[rng.intn(len(options))]))


def place_food(board: Board, rng: GoRandom) -> Board:
    """Official ``PlaceFoodAutomatically``: the starting food for a board whose snakes are placed.

    Square boards of width >= 7 get fixed food (near each snake, then the centre); other boards get
    one random food per snake. Raises :class:`RulesError` when fixed food does not fit.
    """
    state = _clone(board)
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
        raise RulesError(_ERR_TOO_MANY_SNAKES)
    empty = {
        "turn": 0,
        "width": width,
        "height": height,
        "food": [],
        "hazards": [],
        "snakes": [_new_snake(snake_id) for snake_id in snake_ids],
    }
    return place_food(place_snakes(empty, rng), rng)
