"""A minimal HTTP/1.1 server on an asyncio Protocol: JSON replies to small requests on keep-alive connections.

A served snake answers thousands of small ``POST /move`` requests a second; a general-purpose
web framework's per-request machinery (request objects, header multidicts, middlewares, a task
per request) cost more than the batched move itself. This server does only what the protocol
needs: one request at a time per connection (pipelined requests wait their turn),
``Content-Length`` bodies up to a size cap, ``Expect: 100-continue``, keep-alive by default in
HTTP/1.1 (``Connection: close`` and HTTP/1.0 honoured), ``HEAD`` as ``GET`` without the body.

The application is one callable, ``handler(method, path, body)``, that returns a reply
``(status, json_bytes)`` or a future of one (a reply computed later, e.g. in a batch). A
request the server cannot read (bad request line, bad or conflicting ``Content-Length``, chunked
or oversized body, oversized head) is answered ``400`` with ``{"error": reason}`` and its
connection closed.

Hostile or broken clients cannot hold the server's memory or file descriptors: a request's head
and body must arrive within :data:`READ_TIMEOUT` (else ``408``), a keep-alive connection idle for
:data:`IDLE_TIMEOUT` is closed, at most ``max_connections`` are held (a new one beyond that closes
the longest-idle one, or is refused with ``503`` when none is idle), and the request bytes buffered
over all connections stay under :data:`MAX_BUFFERED` (the connection that would pass it gets ``503``).
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Callable
from typing import cast

import orjson

from optuna_clank.arena.http.wire import parse_headers

Reply = tuple[int, bytes]
"""Status and JSON body of a reply."""
Handler = Callable[[bytes, bytes, bytes], "Reply | asyncio.Future[Reply]"]
"""``handler(method, path, body)``: path without its query string; ``HEAD`` arrives as ``GET``."""

MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024
"""Largest request body accepted (a 25x25 board with 16 snakes is well under 100 KiB)."""
READ_TIMEOUT = 10.0
"""Seconds a request may take to arrive, head and body, from its first byte."""
IDLE_TIMEOUT = 60.0
"""Seconds a connection may wait for its next request before it is closed."""
MAX_CONNECTIONS = 1024
"""Connections held at once (and never more than half the process's open-file limit)."""
MAX_BUFFERED = 64 * 1024 * 1024
"""Request bytes held in memory over all connections (a few hundred clients' worth of real requests)."""
_SWEEP_SECONDS = 0.5

_HEAD_END = b"\r\n\r\n"
_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    500: b"Internal Server Error",
    503: b"Service Unavailable",
}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LINGER_SECONDS = 5.0


class _Malformed(Exception):
    """A request the server cannot read; the message is the reason sent back."""


def json_reply(status: int, data: object) -> Reply:
    return status, orjson.dumps(data)


def error_reply(status: int, reason: str) -> Reply:
    return status, orjson.dumps({"error": reason})


class _Head:
    """A parsed request head whose body may still be arriving."""

    __slots__ = ("body_start", "head_only", "keep_alive", "method", "path", "size")

    def __init__(self, method: bytes, path: bytes, size: int, keep_alive: bool, body_start: int) -> None:
        self.head_only = method == b"HEAD"
        self.method = b"GET" if self.head_only else method
        self.path = path
        self.size = size
        self.keep_alive = keep_alive
        self.body_start = body_start


class _Limits:
    """What the connections of one server share: themselves, and the bounds on what they hold."""

    def __init__(
        self, *, max_body: int, read_timeout: float, idle_timeout: float, max_connections: int, max_buffered: int
    ) -> None:
        self.connections: dict[HttpProtocol, None] = {}  # in the order they were made
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.max_buffered = max_buffered
        self.buffered = 0  # request bytes held over all connections


class HttpProtocol(asyncio.Protocol):
    """One client connection: parses requests, hands them to the handler, writes the replies in order."""

    def __init__(self, handler: Handler, limits: _Limits) -> None:
        self._handler = handler
        self._limits = limits
        self._max_body = limits.max_body
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._head: _Head | None = None  # of the request whose body is arriving
        self._waiting: _Head | None = None  # of the request whose reply is being computed
        self._paused = False
        self._closing = False  # close once the pending reply (if any) is written
        self._peer_done = False  # the client half-closed its side
        self._deadline = 0.0  # monotonic: when the request arriving (or the idleness) has lasted too long

    @property
    def busy(self) -> bool:
        """Whether a reply is being computed or not yet handed to the socket."""
        transport = self._transport
        return self._waiting is not None or (transport is not None and transport.get_write_buffer_size() > 0)

    @property
    def deadline(self) -> float:
        """When the request arriving, or the idleness, will have lasted too long (monotonic seconds)."""
        return self._deadline

    @property
    def idle(self) -> bool:
        """Waiting for the client's next request, none of it received."""
        return not self._buffer and not self.busy and not self._closing

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio classes
        connections = self._limits.connections
        if len(connections) >= self._limits.max_connections and not _close_longest_idle(connections):
            self._closing = True  # what it sends is dropped
            self._transport.write(_reply_bytes(*error_reply(503, "server busy: too many connections"), False))
            self._transport.close()
            return
        connections[self] = None
        self._deadline = time.monotonic() + self._limits.idle_timeout

    def connection_lost(self, exc: Exception | None) -> None:
        self._limits.connections.pop(self, None)
        self._limits.buffered -= len(self._buffer)
        self._buffer.clear()
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._closing and self._waiting is None:
            return  # lingering after the last reply: what still arrives is dropped
        if not self._buffer and self._waiting is None:
            self._deadline = time.monotonic() + self._limits.read_timeout  # a request starts arriving
        self._buffer += data
        self._limits.buffered += len(data)
        if self._limits.buffered > self._limits.max_buffered:
            self._refuse(503, "server busy: too much request data held; send again later")
            return
        if self._waiting is None:
            self._process()
        elif len(self._buffer) > MAX_HEAD + self._max_body and self._transport is not None:
            self._transport.pause_reading()  # a client pipelining more than one request's worth
            self._paused = True

    def check_time(self, now: float) -> None:
        """Close the connection if its request has taken too long to arrive (``408``) or it sat idle too long."""
        if self._closing or self._waiting is not None or self._transport is None or now < self._deadline:
            return
        if self._buffer:
            self._refuse(408, f"the request did not arrive within {self._limits.read_timeout:g} s")
        else:
            self._closing = True
            self._transport.close()

    def _refuse(self, status: int, reason: str) -> None:
        """Answer ``status`` with the reason, drop what this connection holds, and close it."""
        self._limits.buffered -= len(self._buffer)
        self._buffer.clear()
        self._head = None
        self._write(*error_reply(status, reason), keep_alive=False)

    def eof_received(self) -> bool:
        """The client sends no more: answer the requests it sent (if any are pending), then close."""
        self._peer_done = True
        return self._waiting is not None  # True keeps the connection open for those replies

    def shutdown(self) -> None:
        """Close now if idle, else right after the reply being computed."""
        self._closing = True
        if self._waiting is None and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _process(self) -> None:
        while self._waiting is None and not self._closing and self._transport is not None:
            try:
                head = self._head or self._parse_head()
            except _Malformed as exc:
                self._write(*error_reply(400, str(exc)), keep_alive=False)
                return
            if head is None:
                return
            self._head = head
            end = head.body_start + head.size
            if len(self._buffer) < end:
                return
            body = bytes(self._buffer[head.body_start : end])
            del self._buffer[:end]
            self._limits.buffered -= end
            self._head = None
            self._deadline = time.monotonic() + (
                self._limits.read_timeout if self._buffer else self._limits.idle_timeout
            )
            try:
                reply = self._handler(head.method, head.path, body)
            except Exception as exc:  # an application bug: reported to the client, the server goes on
                reply = error_reply(500, f"the server failed: {exc}")
            if isinstance(reply, tuple):
                self._write(*reply, keep_alive=head.keep_alive, head_only=head.head_only)
            else:
                self._waiting = head
                reply.add_done_callback(self._on_reply)

    def _on_reply(self, future: asyncio.Future[Reply]) -> None:
        head = self._waiting
        assert head is not None
        self._waiting = None
        if self._transport is None:
            return  # the client went away meanwhile
        try:
            reply = future.result()
        except Exception as exc:
            reply = error_reply(500, f"the server failed: {exc}")
        self._write(*reply, keep_alive=head.keep_alive, head_only=head.head_only)
        self._deadline = time.monotonic() + (self._limits.read_timeout if self._buffer else self._limits.idle_timeout)
        if self._paused and self._transport is not None:
            self._paused = False
            self._transport.resume_reading()
        if self._buffer:
            self._process()
        if self._peer_done and self._waiting is None and self._transport is not None:
            self._transport.close()

    def _parse_head(self) -> _Head | None:
        buffer = self._buffer
        while buffer.startswith(b"\r\n"):  # stray line ends between requests are allowed
            del buffer[:2]
        end = buffer.find(_HEAD_END)
        if end < 0:
            if len(buffer) > MAX_HEAD:
                raise _Malformed(f"the request head is over {MAX_HEAD} bytes")
            return None
        if end > MAX_HEAD:
            raise _Malformed(f"the request head is over {MAX_HEAD} bytes")
        request_line, _, rest = bytes(buffer[:end]).partition(b"\r\n")
        parts = request_line.split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or not parts[0].isalpha():
            raise _Malformed(f"not an HTTP/1.x request line: {request_line[:80]!r}")
        method, target, version = parts
        headers = parse_headers(rest)
        if b"transfer-encoding" in headers:
            raise _Malformed("request bodies must be sent with Content-Length (Transfer-Encoding is not supported)")
        lengths = _content_lengths(rest)
        if len(lengths) > 1:
            raise _Malformed(f"conflicting Content-Length headers {sorted(lengths)!r}")
        length = lengths.pop() if lengths else b"0"
        if not length.isdigit():
            raise _Malformed(f"bad Content-Length {length[:40]!r}")
        size = int(length)
        if size > self._max_body:
            raise _Malformed(f"the body ({size} bytes) is over the {self._max_body} byte limit")
        connection = headers.get(b"connection", b"").lower()
        keep_alive = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
        if size and headers.get(b"expect", b"").lower() == b"100-continue" and len(buffer) < end + 4 + size:
            assert self._transport is not None
            self._transport.write(_CONTINUE)
        return _Head(method, target.partition(b"?")[0], size, keep_alive, end + 4)

    def _write(self, status: int, body: bytes, *, keep_alive: bool, head_only: bool = False) -> None:
        transport = self._transport
        if transport is None:
            return
        keep_alive = keep_alive and not self._closing
        transport.write(_reply_bytes(status, b"" if head_only else body, keep_alive, length=len(body)))
        if not keep_alive:
            self._closing = True
            self._linger(transport)

    def _linger(self, transport: asyncio.Transport) -> None:
        """Close once the client has the last reply: half-close now, drop what still arrives,
        close on the client's end-of-stream or after a few seconds. (Closing a socket with
        unread data in it resets the connection, and the client may lose the reply, e.g. a
        400 for a body over the limit that it is still sending.)"""
        self._buffer.clear()
        if transport.can_write_eof() and not self._peer_done:
            transport.write_eof()
            asyncio.get_running_loop().call_later(_LINGER_SECONDS, transport.close)
        else:
            transport.close()


class HttpServer:
    """A listening server: :meth:`start`, then :meth:`close` to stop gracefully.

    ``max_connections`` defaults to :data:`MAX_CONNECTIONS`, or half the open-file limit if that is lower.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        max_body: int = MAX_BODY,
        read_timeout: float = READ_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
        max_connections: int | None = None,
        max_buffered: int = MAX_BUFFERED,
    ) -> None:
        self._handler = handler
        self._limits = _Limits(
            max_body=max_body,
            read_timeout=read_timeout,
            idle_timeout=idle_timeout,
            max_connections=max_connections or _default_max_connections(),
            max_buffered=max_buffered,
        )
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def _connections(self) -> list[HttpProtocol]:
        return list(self._limits.connections)

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (``0``: a free port); the bound port. ``OSError`` if it cannot."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: HttpProtocol(self._handler, self._limits), host, port)
        self._sweeper = loop.create_task(self._sweep())
        return int(self._server.sockets[0].getsockname()[1])

    async def _sweep(self) -> None:
        """Close connections whose request takes too long to arrive, or that sit idle too long."""
        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            now = time.monotonic()
            for connection in self._connections:
                connection.check_time(now)

    async def close(self, grace_seconds: float = 10.0) -> None:
        """Stop listening, close idle connections, let replies being computed go out (up to the grace)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._server is not None:
            self._server.close()
        for connection in self._connections:
            connection.shutdown()
        deadline = time.monotonic() + grace_seconds
        while any(c.busy for c in self._connections) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for connection in self._connections:
            connection.abort()
        if self._server is not None:
            await self._server.wait_closed()


def _default_max_connections() -> int:
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return MAX_CONNECTIONS
    return MAX_CONNECTIONS if soft == resource.RLIM_INFINITY else max(8, min(MAX_CONNECTIONS, soft // 2))


def _close_longest_idle(connections: dict[HttpProtocol, None]) -> bool:
    """Close the idle connection that has waited longest for a request; whether there was one."""
    idle = [c for c in connections if c.idle]
    if not idle:
        return False
    oldest = min(idle, key=lambda c: c.deadline)
    connections.pop(oldest, None)
    oldest.shutdown()
    return True


def _content_lengths(lines: bytes) -> set[bytes]:
    """Every value the ``Content-Length`` headers give (a list in one header counts each item)."""
    values: set[bytes] = set()
    for line in lines.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"content-length":
            values.update(item.strip() for item in value.split(b","))
    return values


def _reply_bytes(status: int, body: bytes, keep_alive: bool, *, length: int | None = None) -> bytes:
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status,
        _REASONS.get(status, b"Unknown"),
        len(body) if length is None else length,
        b"" if keep_alive else b"Connection: close\r\n",
        body,
    )
