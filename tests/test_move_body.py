"""arena.move_body: the typed fast path reads exactly what the general path reads, and refuses the same."""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from optuna_clank.arena.http.api import MoveRequest, RequestError, encoded_move_requests, game_object, read_request
from optuna_clank.arena.http.move_body import _DECODER, _read_typed, read_move_body
from tests._games import game_positions


@functools.cache
def _bodies(n_snakes: int) -> tuple[bytes, ...]:
    """``/move`` bodies of real games (played once per snake count)."""
    ids = [f"snake-{i}" for i in range(n_snakes)]
    bodies = []
    for state, seats in game_positions(n_games=4, turns=60, n_snakes=n_snakes):
        games = [orjson.dumps(game_object(f"game-{g}")) for g in seats.games.tolist()]
        bodies += encoded_move_requests(state, seats, [ids] * len(seats), games)
    return tuple(bodies)


def _general(body: bytes) -> MoveRequest:
    """What serve did before the typed path: parse to dicts, then check and read them."""
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestError(f"the body is not JSON: {exc}") from exc
    return read_request(request)


def _outcome(read: Callable[[bytes], MoveRequest], body: bytes) -> MoveRequest | str:
    try:
        return read(body)
    except RequestError as exc:
        return f"refused: {exc}"


@pytest.mark.parametrize("n_snakes", [2, 4])
def test_valid_bodies_take_the_typed_path_and_read_the_same(n_snakes: int) -> None:
    bodies = _bodies(n_snakes)
    assert len(bodies) > 20
    for body in bodies:
        assert _read_typed(_DECODER.decode(body)) is not None  # no valid body falls back
        assert read_move_body(body) == _general(body)


def _valid() -> dict[str, Any]:
    return orjson.loads(_bodies(2)[3])


def _changed(change: Callable[[dict[str, Any]], object]) -> bytes:
    request = copy.deepcopy(_valid())
    replaced = change(request)
    return json.dumps(request if replaced is None else replaced).encode()  # orjson writes no ints past 64 bits


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(request: dict[str, Any]) -> None:
        node: Any = request
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(request: dict[str, Any]) -> None:
        node: Any = request
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        del node[last]

    return change


def _append(path: str, item: object) -> Callable[[dict[str, Any]], None]:
    def change(request: dict[str, Any]) -> None:
        node: Any = request
        for key in path.split("."):
            node = node[int(key)] if isinstance(node, list) else node[key]
        node.append(item)

    return change


def _add_snake(request: dict[str, Any], snake_id: str) -> dict[str, Any]:
    """``request`` with one more snake (a copy of the first) called ``snake_id``."""
    request["board"]["snakes"].append({**request["board"]["snakes"][0], "id": snake_id})
    return request


_DICT_CHANGES: dict[str, Callable[[dict[str, Any]], object]] = {
    "not an object": lambda r: [r],
    "no board": _drop("board"),
    "bool turn": _set("turn", True),
    "float turn": _set("turn", 3.0),
    "negative turn": _set("turn", -1),
    "turn past int64 (orjson: an int)": _set("turn", 2**63),
    "turn past uint64 (orjson: a float)": _set("turn", 2**64),
    "health past uint64": _set("board.snakes.0.health", 2**64),
    "health past int64": _set("board.snakes.0.health", 2**63),
    "lowest int64 health": _set("board.snakes.0.health", -(2**63)),
    "string health": _set("board.snakes.0.health", "90"),
    "huge board": _set("board.width", 40),
    "zero height": _set("board.height", 0),
    "bool width": _set("board.width", True),
    "food off board": _append("board.food", {"x": 11, "y": 0}),
    "food below the board": _append("board.food", {"x": 0, "y": -1}),
    "hazard off board": _append("board.hazards", {"x": 0, "y": 11}),
    "no food key": _drop("board.food"),
    "no hazards key": _drop("board.hazards"),
    "null food": _set("board.food", None),
    "point with an extra key": _append("board.food", {"x": 1, "y": 2, "z": 3}),
    "point with a string x": _append("board.food", {"x": "1", "y": 2}),
    "point with a bool y": _append("board.food", {"x": 1, "y": False}),
    "point that is a list": _append("board.food", [1, 2]),
    "empty body": _set("board.snakes.0.body", []),
    "body longer than the board": _set("board.snakes.0.body", [{"x": 0, "y": 0}] * 124),
    "body not a list": _set("board.snakes.0.body", None),
    "duplicate id (of you)": lambda r: _add_snake(r, r["you"]["id"]),
    "duplicate id (not you)": lambda r: _add_snake(_add_snake(r, "twin"), "twin"),
    "int snake id": _set("board.snakes.1.id", 7),
    "no snake id": _drop("board.snakes.1.id"),
    "no snakes": _set("board.snakes", []),
    "seventeen snakes": lambda r: r["board"].update(
        snakes=[{**r["board"]["snakes"][0], "id": str(i)} for i in range(17)]
    ),
    "stranger you": _set("you", {"id": "nobody"}),
    "list as you id": lambda r: r.update(you={"id": [r["board"]["snakes"][0]["id"]]}),
    "null you id": _set("you.id", None),
    "no you": _drop("you"),
    "null game": _set("game", None),
    "game that is a list": _set("game", []),
    "integer game id (its key is CRC-32 of '7')": _set("game.id", 7),
    "null game id": _set("game.id", None),
    "no game": _drop("game"),
    "unknown top-level key": _set("extra", {"anything": [1, 2]}),
}


@pytest.mark.parametrize("change", list(_DICT_CHANGES))
def test_a_changed_body_reads_or_fails_as_the_general_path_says(change: str) -> None:
    body = _changed(_DICT_CHANGES[change])
    assert _outcome(read_move_body, body) == _outcome(_general, body)


def _raw_changes() -> dict[str, bytes]:
    body = orjson.dumps(_valid())
    first_id = _valid()["board"]["snakes"][0]["id"].encode()
    return {
        "a later duplicate key wins (valid)": body[:-1] + b',"turn":4}',
        "a later duplicate key wins (invalid)": body[:-1] + b',"turn":"4"}',
        "an earlier invalid duplicate is overwritten": b'{"turn":"x",' + body[1:],
        "truncated": body[:-7],
        "trailing garbage": body + b"x",
        "padded with whitespace": b"  " + body + b"\n",
        "byte order mark": b"\xef\xbb\xbf" + body,
        "lone surrogate in an id": body.replace(b'"' + first_id + b'"', b'"\\ud800"'),
        "invalid UTF-8 in an id": body.replace(b'"' + first_id + b'"', b'"\xff"'),
        "NaN health": body.replace(b'"health":', b'"health":NaN,"was":', 1),
        "empty": b"",
        "null": b"null",
    }


@pytest.mark.parametrize("change", list(_raw_changes()))
def test_broken_bytes_read_or_fail_as_the_general_path_says(change: str) -> None:
    body = _raw_changes()[change]
    assert _outcome(read_move_body, body) == _outcome(_general, body)
