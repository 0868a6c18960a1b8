"""``serve`` under hostile clients: slow requests, idle crowds and memory hogs cannot hold the server.

The same :class:`HttpServer` that ``serve`` runs, in this process on a loopback port, with small
bounds so that the tests are quick; real sockets on the client side.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from _study import cli_env

from optuna_clank.arena.http.server import HttpServer, json_reply

READ_S = 0.5
IDLE_S = 0.8
WAIT_S = 30.0
"""How long a test waits for the server to act at most (the machine may be busy): never a measured time."""


def _app(method: bytes, path: bytes, body: bytes) -> tuple[int, bytes]:
    return json_reply(200, {"method": method.decode(), "path": path.decode(), "length": len(body)})


async def _with_server(talk: Callable[[HttpServer, str, int], Awaitable[Any]], **limits: Any) -> Any:
    server = HttpServer(_app, read_timeout=READ_S, idle_timeout=IDLE_S, **limits)
    port = await server.start("127.0.0.1", 0)
    try:
        return await talk(server, "127.0.0.1", port)
    finally:
        await server.close(grace_seconds=1.0)


async def _until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server writes until it closes the connection."""
    return await asyncio.wait_for(reader.read(), timeout=WAIT_S)


async def _get(host: str, port: int) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    reply = await _until_closed(reader)
    writer.close()
    return int(reply.split()[1])


def test_a_request_that_arrives_too_slowly_gets_408_and_its_connection_closed() -> None:
    async def talk(server: HttpServer, host: str, port: int) -> list[bytes]:
        replies = []
        for partial in (b"POST /move HTTP/1.1\r\nContent-Le", b"POST /move HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}"):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(partial)  # and then nothing more
            replies.append(await _until_closed(reader))
            writer.close()
        return replies

    head, body = asyncio.run(_with_server(talk))
    for reply in (head, body):
        assert reply.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in reply
        assert b"did not arrive within 0.5 s" in reply


def test_an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_not() -> None:
    async def talk(server: HttpServer, host: str, port: int) -> tuple[bytes, int]:
        idle_reader, idle_writer = await asyncio.open_connection(host, port)
        idle_writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")  # answered, then kept alive and left idle
        everything = await _until_closed(idle_reader)
        idle_writer.close()
        return everything, await _get(host, port)

    everything, status = asyncio.run(_with_server(talk))
    assert everything.startswith(b"HTTP/1.1 200 ") and everything.count(b"HTTP/1.1") == 1
    assert status == 200


def test_connections_are_bounded_the_longest_idle_goes_first_and_a_full_house_answers_503() -> None:
    async def talk(server: HttpServer, host: str, port: int) -> dict[str, Any]:
        crowd = [await asyncio.open_connection(host, port) for _ in range(40)]  # idle, say nothing
        await asyncio.sleep(0.1)
        held = len(server._connections)
        first_closed = await asyncio.wait_for(crowd[0][0].read(), timeout=WAIT_S)  # evicted for a newer one
        fresh = await _get(host, port)  # still served: an idle connection makes room
        slow = []
        for _ in range(3):  # every slot now holds a request still arriving: none is idle
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /move HTTP/1.1\r\nContent-Length: 10\r\n\r\n")
            slow.append((reader, writer))
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection(host, port)
        refused = await _until_closed(reader)
        for _, w in [*crowd, *slow, (reader, writer)]:
            w.close()
        return {"held": held, "first_closed": first_closed, "fresh": fresh, "refused": refused}

    seen = asyncio.run(_with_server(talk, max_connections=3))
    assert seen["held"] <= 3
    assert seen["first_closed"] == b""  # closed without a word: it had asked nothing
    assert seen["fresh"] == 200
    assert seen["refused"].startswith(b"HTTP/1.1 503 ") and b"too many connections" in seen["refused"]


def test_request_bytes_held_over_all_connections_are_bounded() -> None:
    """Clients each sending most of a big body and then nothing cannot make the server hold more than the cap."""
    cap = 256 * 1024

    async def talk(server: HttpServer, host: str, port: int) -> list[bytes]:
        replies = []
        writers = []
        for _ in range(4):  # 4 x 100 KiB held would pass the 256 KiB cap
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /move HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + b"x" * 100_000)
            await writer.drain()
            writers.append(writer)
            await asyncio.sleep(0.05)
            replies.append(reader)
        await asyncio.sleep(0.2)
        assert server._limits.buffered <= cap
        done = [await _until_closed(reader) for reader in replies]
        for writer in writers:
            writer.close()
        return done

    replies = asyncio.run(_with_server(talk, max_buffered=cap))
    busy = [r for r in replies if r.startswith(b"HTTP/1.1 503 ")]
    assert busy and all(b"too much request data" in r for r in busy)
    assert all(r.startswith((b"HTTP/1.1 503 ", b"HTTP/1.1 408 ")) for r in replies)


def test_conflicting_content_lengths_are_a_400_and_repeated_equal_ones_are_fine() -> None:
    async def talk(server: HttpServer, host: str, port: int) -> tuple[bytes, bytes]:
        answers = []
        for lengths in (b"Content-Length: 2\r\nContent-Length: 5\r\n", b"Content-Length: 2\r\nContent-Length: 2\r\n"):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /move HTTP/1.1\r\nHost: x\r\n" + lengths + b"Connection: close\r\n\r\n{}")
            answers.append(await _until_closed(reader))
            writer.close()
        return answers[0], answers[1]

    conflicting, equal = asyncio.run(_with_server(talk))
    assert conflicting.startswith(b"HTTP/1.1 400 ") and b"conflicting Content-Length" in conflicting
    assert equal.startswith(b"HTTP/1.1 200 ") and json.loads(equal.split(b"\r\n\r\n", 1)[1])["length"] == 2


def test_the_connection_bound_stays_under_half_the_open_file_limit() -> None:
    script = (
        "import resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))\n"
        "from optuna_clank.arena.http.server import HttpServer\n"
        "print(HttpServer(lambda m, p, b: (200, b'{}'))._limits.max_connections)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], env=cli_env(), capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr
    assert int(run.stdout) == 32
