"""A ``/move`` body read straight from its bytes: typed decoding for the requests that are valid.

``serve`` reads every request of every turn. Parsing a 1.5 KB body into dicts (``orjson.loads``)
and then checking those dicts (:func:`~optuna_clank.arena.http.api.read_request`) cost it about 25
microseconds a request, more than its batched snake spends on the move. A typed decoder
(msgspec) checks the types while it parses and builds only the fields a move needs, in a third
of that time.

It is only a fast path. A body it rejects, or one that fails a check beyond types (a point off
the board, a duplicate id, ...), is read again the general way, so every invalid body gets
exactly the reason :func:`~optuna_clank.arena.http.api.read_request` gives, and every valid one the
same :class:`~optuna_clank.arena.http.api.MoveRequest`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
import orjson

from optuna_clank.arena.http.api import MAX_BOARD_SIDE, MAX_SNAKES, MoveRequest, RequestError, game_id_key, read_request

# orjson reads integers beyond [-2**63, 2**64 - 1] as floats, which the general path rejects: the typed
# path must not accept them (it takes int64, and leaves the rare larger ints to the general path)
_JsonInt = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_Turn = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class _Point(msgspec.Struct):
    x: int
    y: int


class _Snake(msgspec.Struct):
    id: str
    health: _JsonInt
    body: list[_Point]


class _Board(msgspec.Struct):
    width: int
    height: int
    snakes: list[_Snake]
    food: list[_Point] = []
    hazards: list[_Point] = []


class _You(msgspec.Struct):
    id: str


class _Game(msgspec.Struct):
    id: str | None = None  # any other type is read the general way (its key is CRC-32 of str(id))


class _Request(msgspec.Struct):
    turn: _Turn
    board: _Board
    you: _You
    game: _Game = msgspec.field(default_factory=_Game)


_DECODER = msgspec.json.Decoder(_Request)


def read_move_body(body: bytes) -> MoveRequest:
    """The :class:`MoveRequest` of a ``/move`` body; :class:`RequestError` with the reason if it is not one."""
    try:
        typed = _DECODER.decode(body)
    except ValueError:  # msgspec's errors, and UnicodeDecodeError for a string that is not UTF-8
        read = None
    else:
        read = _read_typed(typed)
    if read is not None:
        return read
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the body is not JSON: {exc}") from exc
    return read_request(request)


def _read_typed(request: _Request) -> MoveRequest | None:
    """The request in grid cells, or ``None`` if a check fails (the general path then says which)."""
    board = request.board
    width, height = board.width, board.height
    if not (1 <= width <= MAX_BOARD_SIDE and 1 <= height <= MAX_BOARD_SIDE):
        return None
    if not 1 <= len(board.snakes) <= MAX_SNAKES:
        return None
    stride = width + 2
    food = _cells(board.food, width, height, stride)
    if food is None or _cells(board.hazards, width, height, stride) is None:
        return None
    ids: list[str] = []
    bodies: list[list[int]] = []
    healths: list[int] = []
    longest = width * height + 2
    for snake in board.snakes:
        if not 0 < len(snake.body) <= longest or snake.id in ids:
            return None
        cells = _cells(snake.body, width, height, stride)
        if cells is None:
            return None
        bodies.append(cells)
        ids.append(snake.id)
        healths.append(snake.health)
    if request.you.id not in ids:
        return None
    key = game_id_key(request.game.id)
    return MoveRequest(width, height, request.turn, key, ids, ids.index(request.you.id), bodies, healths, food)


def _cells(points: list[_Point], width: int, height: int, stride: int) -> list[int] | None:
    cells = []
    for point in points:
        x, y = point.x, point.y
        if not (0 <= x < width and 0 <= y < height):
            return None
        cells.append((y + 1) * stride + x + 1)
    return cells
