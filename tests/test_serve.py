"""``serve`` and ``moves`` through the real command line, over real loopback HTTP.

The server is driven as a real subprocess (``served``) and in-process on a loopback port
(``_in_process``: the same :class:`HttpServer` and :class:`SnakeApp` that ``serve`` runs), with
our own HTTP client, ``urllib`` and raw sockets for what a client library would not send.
"""

from __future__ import annotations

import asyncio
import json
import signal
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch
from _servers import run_with_stdin, served
from _study import run_cli, start_cli

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.http.api import game_key, game_object, request_state
from optuna_clank.arena.http.server import MAX_BODY, HttpServer
from optuna_clank.arena.http.wire import ConnectionPool
from optuna_clank.arena.match import play_match
from optuna_clank.arena.move_oracle import answer_moves
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.state import state_from_boards
from optuna_clank.serve.snake_http import SnakeApp


def _recorded_requests(games: int = 3) -> list[dict[str, Any]]:
    """/move requests of real positions: every frame of a few recorded games, each snake as ``you``."""
    result = play_match(None, "baseline", games=games, seed=4, record=range(games), max_turns=60)
    requests = []
    for game, frames in result.history.items():
        for frame in frames:
            for you in frame["board"]["snakes"]:
                requests.append(
                    {"game": game_object(f"g{game}"), "turn": frame["turn"], "board": frame["board"], "you": you}
                )
    return requests


MALFORMED: list[bytes] = [
    b"",
    b"{not json",
    b"[1, 2, 3]",
    b"{}",
    json.dumps({"turn": 3, "board": {"width": 11, "height": 11, "snakes": []}, "you": {}}).encode(),
    json.dumps({"turn": -1}).encode(),
    b"\xff\xfe\x00",
    json.dumps({"turn": 0, "board": "eleven", "you": None}).encode(),
]


def _break(request: dict[str, Any], index: int) -> bytes:
    """A request made wrong in one of several ways (some only slightly)."""
    if index % 3 == 0:
        return MALFORMED[index % len(MALFORMED)]
    broken = json.loads(json.dumps(request))
    if index % 3 == 1:
        broken["board"]["snakes"][0]["body"][0] = {"x": 99, "y": 0}
    else:
        broken["you"] = {"id": "nobody"}
    return json.dumps(broken).encode()


async def _post_all(url: str, bodies: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """POST every body to ``/move`` at once, each on its own keep-alive connection."""
    pool = ConnectionPool(url)
    try:

        async def post(body: bytes) -> tuple[int, dict[str, Any]]:
            status, reply = await pool.request("POST", "/move", body)
            return status, json.loads(reply)

        return list(await asyncio.gather(*(post(b) for b in bodies)))
    finally:
        pool.close()


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/", timeout=60) as reply:
        assert reply.status == 200
        return json.loads(reply.read())


def test_serve_answers_valid_requests_among_200_concurrent_malformed_ones(tmp_path: Path) -> None:
    valid = _recorded_requests()[:100]
    assert len(valid) == 100
    expected = answer_moves("baseline", valid)
    bodies: list[bytes] = []
    for i, request in enumerate(valid):
        bodies += [json.dumps(request).encode(), _break(request, i)]
    with served(["--snake", "baseline"], cwd=tmp_path) as (url, process):
        info = _get(url)
        replies = asyncio.run(_post_all(url, bodies))
        again = asyncio.run(_post_all(url, [json.dumps(r).encode() for r in valid[:10]]))
        assert process.poll() is None
    assert info["apiversion"] == "1" and {"author", "color", "head", "tail", "version"} <= set(info)
    good, bad = replies[0::2], replies[1::2]
    assert [status for status, _ in good] == [200] * 100
    assert [reply["move"] for _, reply in good] == expected
    assert all(status == 400 and reply["error"] for status, reply in bad)
    assert [reply["move"] for _, reply in again] == expected[:10]


def test_moves_answers_each_line_and_reports_bad_ones(tmp_path: Path) -> None:
    requests = _recorded_requests(games=2)[:30]
    lines = [json.dumps(r) for r in requests]
    lines.insert(3, "{not json")
    lines.insert(10, json.dumps({"turn": 1}))
    lines.insert(20, "")  # blank lines are skipped
    stdin = tmp_path / "requests.jsonl"
    stdin.write_text("\n".join(lines) + "\n")
    expected = answer_moves("baseline", requests)
    expected.insert(3, "-")
    expected.insert(10, "-")

    def moves(snake: str, *options: str) -> tuple[int, list[str], str]:
        result = run_with_stdin(["moves", "--snake", snake, *options], stdin, cwd=tmp_path)
        return result.returncode, result.stdout.splitlines(), result.stderr

    code, out, err = moves("baseline")
    assert code == 2
    assert out == expected
    assert err.splitlines()[0].startswith("error: line 4: not JSON")
    assert err.splitlines()[1].startswith("error: line 11: ")
    assert len(err.splitlines()) == 2
    with served(["--snake", "baseline"], cwd=tmp_path) as (url, _):
        assert moves(url, "--timeout-ms", "120000") == (code, out, err)


def test_serve_on_a_taken_port_is_one_clear_line_and_sigint_stops_it(tmp_path: Path) -> None:
    with served(["--snake", "baseline"], cwd=tmp_path) as (url, _):
        port = url.rsplit(":", 1)[1]
        second = run_cli(["serve", "--snake", "baseline", "--port", port], cwd=tmp_path)
    assert second.returncode == 2
    assert second.stderr.startswith("error: cannot listen on 127.0.0.1:") and len(second.stderr.splitlines()) == 1
    process = start_cli(["serve", "--port", "0"], cwd=tmp_path)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("serving heuristic at http://127.0.0.1:")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err


class _PoisonedBaseline(BaselineSnake):
    """Baseline, except that it fails on any batch holding a position of turn 13."""

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        if bool((view.state.turn[seats.games] == POISON_TURN).any()):
            raise RuntimeError("cannot play turn 13")
        return super().choose(view, seats)


POISON_TURN = 13


async def _in_process(player: Player, talk: Callable[[str], Awaitable[Any]]) -> Any:
    """``talk(url)`` with ``player`` served in this process on a free loopback port."""
    server = HttpServer(SnakeApp(player))
    port = await server.start("127.0.0.1", 0)
    try:
        return await talk(f"http://127.0.0.1:{port}")
    finally:
        await server.close()


async def _serve_in_process_and_post(player: Player, bodies: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
    return await _in_process(player, lambda url: _post_all(url, bodies))


def test_a_position_the_snake_fails_on_fails_only_its_own_request() -> None:
    valid = _recorded_requests()[:120]
    poisoned = [i for i, r in enumerate(valid) if r["turn"] == POISON_TURN]
    assert poisoned
    replies = asyncio.run(_serve_in_process_and_post(_PoisonedBaseline(), [json.dumps(r).encode() for r in valid]))
    expected = answer_moves("baseline", valid)
    for i, (status, reply) in enumerate(replies):
        if i in poisoned:
            assert status == 500 and "turn 13" in reply["error"]
        else:
            assert (status, reply["move"]) == (200, expected[i])


async def _raw(url: str, data: bytes, *, half_close: bool = False) -> bytes:
    """Send ``data`` on a fresh connection (then end the sending side if ``half_close``);
    everything the server writes until it closes the connection."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    if half_close:
        writer.write_eof()
    try:
        return await asyncio.wait_for(reader.read(), timeout=60)
    finally:
        writer.close()


def _replies(raw: bytes, *, no_body: tuple[int, ...] = ()) -> list[tuple[int, dict[str, str], bytes]]:
    """The ``(status, headers, body)`` of each reply in ``raw`` (Content-Length framed; the
    replies numbered in ``no_body`` answer ``HEAD`` and have none)."""
    replies = []
    while raw:
        head, _, raw = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        size = 0 if len(replies) in no_body else int(headers.get("content-length", "0"))
        replies.append((int(status_line.split()[1]), headers, raw[:size]))
        raw = raw[size:]
    return replies


def _request(method: str, path: str, body: bytes = b"", *, extra: str = "") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


def test_the_server_speaks_http_1_1_on_keep_alive_connections() -> None:
    valid = [json.dumps(r).encode() for r in _recorded_requests(games=1)[:3]]
    expected = answer_moves("baseline", [json.loads(b) for b in valid])
    pipelined = b"".join(
        [
            _request("GET", "/?x=1"),
            _request("POST", "/start", b"{}"),
            *(_request("POST", "/move", body) for body in valid),
            b"\r\n",  # a stray line end between requests is allowed
            _request("HEAD", "/"),
            _request("GET", "/nowhere"),
            _request("GET", "/move"),
            _request("POST", "/move", b"{not json"),
            _request("POST", "/end", b"{}", extra="Connection: close\r\n"),
            _request("GET", "/", extra="X-Never: answered\r\n"),  # after the close
        ]
    )
    raw = asyncio.run(_in_process(BaselineSnake(), lambda url: _raw(url, pipelined)))
    replies = _replies(raw, no_body=(5,))
    assert [status for status, _, _ in replies] == [200, 200, 200, 200, 200, 200, 404, 405, 400, 200]
    assert json.loads(replies[0][2])["apiversion"] == "1"
    assert json.loads(replies[1][2]) == {}
    assert [json.loads(body)["move"] for _, _, body in replies[2:5]] == expected
    _, head_headers, head_body = replies[5]
    assert head_body == b"" and int(head_headers["content-length"]) == len(replies[0][2])
    assert "no such path" in json.loads(replies[6][2])["error"]
    assert json.loads(replies[7][2])["error"] == "/move takes POST"
    assert json.loads(replies[8][2])["error"].startswith("the body is not JSON")
    assert replies[9][1]["connection"] == "close" and json.loads(replies[9][2]) == {}
    assert all(headers["content-type"] == "application/json" for _, headers, _ in replies)


def test_requests_the_server_cannot_read_get_400_with_the_reason_and_a_closed_connection() -> None:
    cases = {
        b"NOT HTTP AT ALL\r\n\r\n": "not an HTTP/1.x request line",
        b"POST /move HTTP/1.1\r\nContent-Length: ten\r\n\r\n": "bad Content-Length",
        b"POST /move HTTP/1.1\r\nContent-Length: -1\r\n\r\n": "bad Content-Length",
        b"POST /move HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n": "Transfer-Encoding",
        _request("POST", "/move", b"x" * (MAX_BODY + 1)): "byte limit",
        b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n": "request head is over",
    }

    async def send_all(url: str) -> list[bytes]:
        return [await _raw(url, data) for data in cases]

    for raw, reason in zip(asyncio.run(_in_process(BaselineSnake(), send_all)), cases.values(), strict=True):
        ((status, headers, body),) = _replies(raw)  # one reply, then the server closed the connection
        assert status == 400 and headers["connection"] == "close"
        assert reason in json.loads(body)["error"]


def test_expect_100_continue_and_http_1_0_are_honoured() -> None:
    (request,) = _recorded_requests(games=1)[:1]
    body = json.dumps(request).encode()

    async def talk(url: str) -> tuple[bytes, bytes]:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        head = _request("POST", "/move", body, extra="Expect: 100-continue\r\n")[: -len(body)]
        writer.write(head)  # the body only once the server says to go on
        await writer.drain()
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
        writer.write(body)
        reply_head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
        size = int(reply_head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        reply = reply_head + await reader.readexactly(size)
        writer.close()
        return interim, reply + await _raw(url, b"GET / HTTP/1.0\r\n\r\n")

    interim, rest = asyncio.run(_in_process(BaselineSnake(), talk))
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    move, info = _replies(rest)
    assert move[0] == 200 and json.loads(move[2])["move"] == answer_moves("baseline", [request])[0]
    assert info[0] == 200 and info[1]["connection"] == "close"  # HTTP/1.0 without keep-alive


def test_requests_become_the_state_the_arena_builds_from_the_same_boards() -> None:
    requests = [r for r in _recorded_requests(games=4) if len(r["board"]["snakes"]) == 2]
    state, you_seats, ids = request_state(requests, 11, 11, 2)
    boards = [
        {
            "turn": r["turn"],
            "width": 11,
            "height": 11,
            "food": r["board"]["food"],
            "snakes": [{"id": s["id"], "body": s["body"], "health": s["health"]} for s in r["board"]["snakes"]],
        }
        for r in requests
    ]
    expected = state_from_boards(
        boards,
        game_ids=range(len(requests)),
        keys=[game_key(r) for r in requests],
        seat_players=[[0, 0]] * len(requests),
    )
    for field in fields(expected):
        mine, theirs = getattr(state, field.name), getattr(expected, field.name)
        if isinstance(theirs, torch.Tensor):
            assert mine.dtype == theirs.dtype and torch.equal(mine, theirs), field.name
    assert ids == [[s["id"] for s in r["board"]["snakes"]] for r in requests]
    assert you_seats == [ids[k].index(r["you"]["id"]) for k, r in enumerate(requests)]


class _ClosingBaseline(BaselineSnake):
    """Baseline that asks its server to shut down while it computes its first batch."""

    server: HttpServer | None = None
    closing: asyncio.Task[None] | None = None

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        if self.closing is None and self.server is not None:
            self.closing = asyncio.get_running_loop().create_task(self.server.close())
        return super().choose(view, seats)


def test_a_shutdown_answers_the_requests_being_computed_then_stops_listening() -> None:
    (request,) = _recorded_requests(games=1)[:1]
    body = json.dumps(request).encode()

    async def talk() -> tuple[bytes, BaseException | None]:
        player = _ClosingBaseline()
        server = player.server = HttpServer(SnakeApp(player))
        url = f"http://127.0.0.1:{await server.start('127.0.0.1', 0)}"
        raw = await _raw(url, _request("POST", "/move", body))  # keep-alive: returns once the server closes
        assert player.closing is not None
        await player.closing
        try:
            await _raw(url, _request("GET", "/"))
        except OSError as exc:
            return raw, exc
        return raw, None

    raw, refused = asyncio.run(talk())
    ((status, headers, reply),) = _replies(raw)
    assert status == 200 and headers["connection"] == "close"
    assert json.loads(reply)["move"] == answer_moves("baseline", [request])[0]
    assert isinstance(refused, ConnectionRefusedError)


def test_a_client_that_half_closes_after_its_request_still_gets_the_reply() -> None:
    requests = _recorded_requests(games=1)[:2]
    data = b"".join(_request("POST", "/move", json.dumps(r).encode()) for r in requests)
    raw = asyncio.run(_in_process(BaselineSnake(), lambda url: _raw(url, data, half_close=True)))
    replies = _replies(raw)
    assert [status for status, _, _ in replies] == [200, 200]
    assert [json.loads(body)["move"] for _, _, body in replies] == answer_moves("baseline", requests)
