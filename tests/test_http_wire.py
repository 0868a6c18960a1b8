"""The lean HTTP client against real loopback servers that reply in every way HTTP allows (and some it does not)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import orjson
import pytest

from optuna_clank.arena.http.client import SnakeClient
from optuna_clank.arena.http.wire import ConnectError, ConnectionPool, HttpError

Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]]
"""Answers one request already read; returns whether to keep the connection open."""

MOVE = orjson.dumps({"move": "left"})
BODY = {"game": {"id": "g", "timeout": 2000}, "turn": 0}


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return await reader.readexactly(length)


class RawServer:
    """A loopback server writing raw bytes; counts connections and requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while await _read_request(reader) is not None:
                self.requests += 1
                if not await self.reply(reader, writer):
                    break
        finally:
            writer.close()


def _reply_bytes(raw: bytes, *, keep: bool = True) -> Reply:
    async def reply(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        return keep

    return reply


def _framed(body: bytes, *extra: str, status: str = "200 OK", version: str = "HTTP/1.1") -> bytes:
    headers = "".join(f"{line}\r\n" for line in extra)
    return f"{version} {status}\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


async def _moves(url: str, count: int) -> list[tuple[str | None, str]]:
    async with SnakeClient(url, timeout_ms=2000, max_connections=4) as client:
        answers = [await client.move(BODY) for _ in range(count)]
    return [(a.move, a.fault) for a in answers]


def test_keep_alive_reuses_one_connection_for_sequential_requests() -> None:
    async def main() -> None:
        raw = RawServer(_reply_bytes(_framed(MOVE)))
        async with raw as url:
            assert await _moves(url, 5) == [("left", "")] * 5
        assert (raw.connections, raw.requests) == (1, 5)

    asyncio.run(main())


def test_connection_close_and_http_1_0_replies_open_a_new_connection_each_time() -> None:
    async def main() -> None:
        for reply in (_framed(MOVE, "Connection: close"), _framed(MOVE, version="HTTP/1.0")):
            raw = RawServer(_reply_bytes(reply, keep=False))
            async with raw as url:
                assert await _moves(url, 3) == [("left", "")] * 3
            assert (raw.connections, raw.requests) == (3, 3)

    asyncio.run(main())


def test_chunked_replies_with_extensions_and_trailers_are_read_whole() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"5;ext=1\r\n"
        + MOVE[:5]
        + b"\r\n"
        + f"{len(MOVE) - 5:x}\r\n".encode()
        + MOVE[5:]
        + b"\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )

    async def main() -> None:
        raw = RawServer(_reply_bytes(chunked))
        async with raw as url:
            assert await _moves(url, 3) == [("left", "")] * 3
        assert raw.connections == 1

    asyncio.run(main())


def test_an_unframed_reply_is_read_to_the_end_of_the_connection() -> None:
    async def main() -> None:
        raw = RawServer(_reply_bytes(b"HTTP/1.1 200 OK\r\n\r\n" + MOVE, keep=False))
        async with raw as url:
            assert await _moves(url, 2) == [("left", "")] * 2
        assert raw.connections == 2

    asyncio.run(main())


def test_interim_1xx_replies_are_skipped() -> None:
    async def main() -> None:
        raw = RawServer(_reply_bytes(b"HTTP/1.1 100 Continue\r\n\r\n" + _framed(MOVE)))
        async with raw as url:
            assert await _moves(url, 2) == [("left", "")] * 2

    asyncio.run(main())


def test_a_server_dying_mid_reply_is_an_error_and_the_next_request_reconnects() -> None:
    replies = iter([_framed(MOVE)[:-4], _framed(MOVE)])  # the first reply is cut short, then the server closes

    async def reply(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        data = next(replies)
        writer.write(data)
        await writer.drain()
        return data == _framed(MOVE)

    async def main() -> None:
        raw = RawServer(reply)
        async with raw as url:
            assert await _moves(url, 2) == [(None, "error"), ("left", "")]
        assert raw.connections == 2

    asyncio.run(main())


def _once_per_connection() -> Reply:
    """Answers the first request of each connection, then hangs up on the next without a byte of reply."""
    answered: set[asyncio.StreamWriter] = set()

    async def reply(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        if writer in answered:
            return False
        answered.add(writer)
        writer.write(_framed(MOVE))
        await writer.drain()
        return True

    return reply


def test_a_server_closing_an_idle_keep_alive_connection_costs_no_fault() -> None:
    """Each connection gets one answer, then is closed unanswered: the request is retried on a fresh one."""

    async def main() -> None:
        raw = RawServer(_once_per_connection())
        async with raw as url:
            assert await _moves(url, 3) == [("left", "")] * 3
        assert (raw.connections, raw.requests) == (3, 5)

    asyncio.run(main())


def test_a_batch_on_idle_connections_closed_by_the_server_is_retried_on_fresh_ones() -> None:
    """``move_batch`` sends on idle connections directly; each closed one is retried once, costing no fault."""

    async def main() -> None:
        raw = RawServer(_once_per_connection())
        async with raw as url, SnakeClient(url, timeout_ms=2000, max_connections=4) as client:
            body = orjson.dumps(BODY)
            first = await client.move_batch([body, body], 2000)
            second = await client.move_batch([body, body], 2000)
        assert [(a.move, a.fault) for a in first + second] == [("left", "")] * 4
        assert (raw.connections, raw.requests) == (4, 6)

    asyncio.run(main())


def test_garbage_and_error_statuses_are_faults() -> None:
    async def main() -> None:
        for raw_reply, fault in (
            (b"SNAKE 200 OK\r\n\r\n", "error"),
            (_framed(b"{}", status="500 Oops"), "error"),
            (_framed(b"not json"), "invalid"),
            (_framed(b'{"move": "LEFT"}'), "invalid"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "error"),
        ):
            async with RawServer(_reply_bytes(raw_reply, keep=False)) as url:
                assert await _moves(url, 1) == [(None, fault)], raw_reply

    asyncio.run(main())


def test_a_silent_server_times_out_and_a_refused_one_is_down() -> None:
    async def silent(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> bool:
        await reader.read()  # never answers
        return False

    async def main() -> None:
        async with RawServer(silent) as url, SnakeClient(url, timeout_ms=200) as client:
            answer = await client.move({"turn": 0})
            assert (answer.move, answer.fault, answer.latency_ms) == (None, "timeout", 200)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        async with SnakeClient(f"http://127.0.0.1:{port}") as client:
            assert (await client.move(BODY)).fault == "down"
            with pytest.raises(ConnectError):
                await ConnectionPool(f"http://127.0.0.1:{port}").request("GET", "/")

    asyncio.run(main())


def test_requests_carry_the_url_path_and_a_json_body() -> None:
    seen: list[bytes] = []

    async def main() -> None:
        server = await asyncio.start_server(record, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = ConnectionPool(f"http://127.0.0.1:{port}/snake/")
        assert await pool.request("POST", "/move", b'{"a":1}') == (200, b"{}")
        pool.close()
        server.close()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head + await reader.readexactly(7))
        writer.write(_framed(b"{}"))
        await writer.drain()
        writer.close()

    asyncio.run(main())
    (request,) = seen
    assert request.startswith(b"POST /snake/move HTTP/1.1\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in request
    assert request.endswith(b'\r\n\r\n{"a":1}')


def test_urls_that_are_not_http_are_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        ConnectionPool("ftp://127.0.0.1:1")
    assert issubclass(ConnectError, HttpError)
