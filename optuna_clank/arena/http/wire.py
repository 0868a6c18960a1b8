"""A minimal HTTP/1.1 client on asyncio Protocols: keep-alive connections to one server.

Battlesnake requests are small JSON POSTs to a handful of known servers, thousands per second,
so a general-purpose client's per-request machinery (sessions, cookie jars, tracing hooks,
header multidicts) is most of what a served snake costs. This client does only what the
protocol needs: ``Content-Length`` or chunked responses, ``Connection: close`` and HTTP/1.0
replies, reading to end-of-stream when a reply has neither length nor chunks, and one retry on
a fresh connection when a pooled keep-alive connection turns out to have been closed by the
server before it answered (the request never reached it).

Each connection is an :class:`asyncio.Protocol` that parses a reply straight from the bytes it
receives and resolves one future with it: no stream reader and writer, no ``drain`` and no
per-read coroutine (what streams cost per request was a third of the client's HTTP time).

Timeouts are the caller's (``asyncio.timeout`` around :meth:`ConnectionPool.request`); a
request cancelled or failed midway closes its connection, so no half-read reply is reused.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024

Reply = tuple[int, bool, bytes, int]
"""``(status, keep_alive, body, bytes consumed)`` of one complete reply."""


class HttpError(Exception):
    """The server broke the exchange: a dropped connection, or a reply that is not HTTP."""


class ConnectError(HttpError):
    """No connection could be opened (refused, unreachable): no server listens there."""


class _StaleConnectionError(HttpError):
    """A pooled connection was closed by the server before any byte of a reply arrived."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: sends a request, parses its reply as the bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bool, bytes]] | None = None
        self._reused = False
        self._received = 0  # bytes received since the request went out
        self._ended = False  # end-of-stream or connection lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio classes

    def usable(self) -> bool:
        return not self._ended and self.transport is not None and not self.transport.is_closing()

    def send(self, message: bytes, reused: bool) -> asyncio.Future[tuple[int, bool, bytes]]:
        """Write one request; the future of its ``(status, keep_alive, body)``."""
        assert self.transport is not None
        waiter: asyncio.Future[tuple[int, bool, bytes]] = asyncio.get_running_loop().create_future()
        self._waiter, self._reused, self._received = waiter, reused, 0
        self.transport.write(message)
        return waiter

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._received += len(data)
        if self._waiter is not None:
            self._settle(eof=False)

    def eof_received(self) -> bool:
        self._end(None)
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(exc)

    def abort(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.abort()

    def _end(self, exc: Exception | None) -> None:
        self._ended = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._received == 0:
            self._waiter = None
            if self._reused:
                waiter.set_exception(_StaleConnectionError("the server closed the idle connection"))
            elif exc is not None:
                waiter.set_exception(HttpError(f"broken reply: {exc}"))
            else:
                waiter.set_exception(HttpError("the server closed the connection in the middle of a reply"))
            return
        if not self._settle(eof=True) and not waiter.done():
            self._waiter = None
            waiter.set_exception(HttpError("the server closed the connection in the middle of a reply"))

    def _settle(self, *, eof: bool) -> bool:
        """Resolve the waiter if the buffer holds a whole reply (or a broken one); whether it did."""
        waiter = self._waiter
        assert waiter is not None
        try:
            reply = _parse_reply(self._buffer, eof)
        except ValueError as exc:
            self._waiter = None
            if not waiter.done():
                waiter.set_exception(HttpError(f"broken reply: {exc or type(exc).__name__}"))
            return True
        if reply is None:
            return False
        status, keep_alive, body, consumed = reply
        del self._buffer[:consumed]
        self._waiter = None
        if not waiter.done():
            waiter.set_result((status, keep_alive, body))
        return True


class ConnectionPool:
    """Keep-alive connections to the server at ``url`` (``http://`` or ``https://``, optional path).

    Idle connections are reused most-recent-first; any number may be open at once (callers
    limit concurrency themselves).
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self._prefix = parts.path.rstrip("/").encode()
        self._host_header = parts.netloc.rpartition("@")[2].encode("idna")
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """``(status, body)`` of one request; :class:`HttpError` (or ``ConnectError``) if it fails."""
        return await self._request(self.message(method, path, body))

    def message(self, method: str, path: str, body: bytes) -> bytes:
        """The bytes of one request to this server."""
        return b"%s %s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
            method.encode(),
            self._prefix,
            path.encode(),
            self._host_header,
            len(body),
            body,
        )

    def send(self, message: bytes, *, on_start: Callable[[], None] | None = None) -> asyncio.Future[tuple[int, bytes]]:
        """The future ``(status, body)`` of one request (:meth:`message`); cancelling it drops its connection.

        On an idle connection the request goes out at once and no task runs for it (what a
        batch of requests sent together costs per request is then a future and a callback);
        otherwise a task opens a connection, as :meth:`request` does, and ``on_start`` is called
        when that task starts (the next time the event loop runs): the request's clock starts then.
        """
        connection = self._take_idle()
        if connection is None:
            return asyncio.ensure_future(self._request(message, on_start=on_start))
        result: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        waiter = connection.send(message, reused=True)
        waiter.add_done_callback(lambda _: self._settle(connection, message, waiter, result))

        def discard_if_cancelled(_: object) -> None:
            if result.cancelled():
                self._discard(connection)

        result.add_done_callback(discard_if_cancelled)
        return result

    def _settle(
        self,
        connection: _Connection,
        message: bytes,
        waiter: asyncio.Future[tuple[int, bool, bytes]],
        result: asyncio.Future[tuple[int, bytes]],
    ) -> None:
        if waiter.cancelled():
            return
        exc = waiter.exception()  # retrieved even when unused, or asyncio logs it as lost
        if result.done():
            return  # cancelled: the connection is gone already
        if exc is None:
            status, keep_alive, body = waiter.result()
            self._release(connection, keep_alive)
            result.set_result((status, body))
            return
        self._discard(connection)
        if not isinstance(exc, _StaleConnectionError):
            result.set_exception(exc)
            return
        retry = asyncio.ensure_future(self._request(message, fresh=True))
        result.add_done_callback(lambda _: result.cancelled() and retry.cancel())
        retry.add_done_callback(lambda _: _copy_outcome(retry, result))

    async def _request(
        self, message: bytes, *, fresh: bool = False, on_start: Callable[[], None] | None = None
    ) -> tuple[int, bytes]:
        if on_start is not None:
            on_start()
        connection, reused = await self._acquire(fresh=fresh)
        try:
            return await self._exchange(connection, message, reused)
        except _StaleConnectionError:
            connection, _ = await self._acquire(fresh=True)
            return await self._exchange(connection, message, reused=False)

    async def _exchange(self, connection: _Connection, message: bytes, reused: bool) -> tuple[int, bytes]:
        try:
            status, keep_alive, body = await connection.send(message, reused)
        except BaseException:  # cancelled (timed out) or broken: never reuse it
            self._discard(connection)
            raise
        self._release(connection, keep_alive)
        return status, body

    def _release(self, connection: _Connection, keep_alive: bool) -> None:
        if keep_alive and connection.usable():
            self._idle.append(connection)
        else:
            self._discard(connection)

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            self._discard(connection)
        return None

    async def _acquire(self, *, fresh: bool = False) -> tuple[_Connection, bool]:
        connection = None if fresh else self._take_idle()
        if connection is not None:
            return connection, True
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(_Connection, self.host, self.port, ssl=self._ssl)
        except OSError as exc:
            raise ConnectError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self._open.add(connection)
        return connection, False

    def _discard(self, connection: _Connection) -> None:
        connection.abort()
        self._open.discard(connection)

    def close(self) -> None:
        """Close every connection, idle or in use."""
        for connection in list(self._open):
            self._discard(connection)
        self._idle.clear()


def _copy_outcome(source: asyncio.Future[tuple[int, bytes]], target: asyncio.Future[tuple[int, bytes]]) -> None:
    if source.cancelled():
        target.cancel()
        return
    exc = source.exception()  # retrieved even when unused, or asyncio logs it as lost
    if target.done():
        return
    if exc is not None:
        target.set_exception(exc)
    else:
        target.set_result(source.result())


def _parse_reply(buffer: bytearray, eof: bool) -> Reply | None:
    """The first whole reply in ``buffer`` (``1xx`` replies skipped), or ``None`` until it has arrived.

    ``eof``: no more bytes will come, so a reply without framing ends here. ``ValueError`` if
    the bytes are not an HTTP/1.x reply.
    """
    start = 0
    while True:
        end = buffer.find(_HEAD_END, start)
        if end < 0 or end - start > _MAX_HEAD:
            if len(buffer) - start > _MAX_HEAD:
                raise ValueError(f"the reply head is over {_MAX_HEAD} bytes")
            return None
        version, status, headers = _parse_head(bytes(buffer[start:end]))
        start = end + 4
        if not 100 <= status < 200 or status == 101:
            break
    connection = headers.get(b"connection", b"").lower()
    keep_alive = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        chunked = _parse_chunked(buffer, start)
        if chunked is None:
            return None
        body, consumed = chunked
        return status, keep_alive, body, consumed
    length = headers.get(b"content-length")
    if length is not None:
        size = int(length)
        if size < 0:
            raise ValueError(f"negative Content-Length {size}")
        if len(buffer) < start + size:
            return None
        return status, keep_alive, bytes(buffer[start : start + size]), start + size
    if status in (204, 304):
        return status, keep_alive, b"", start
    if not eof:
        return None  # no framing: the body ends with the connection
    return status, False, bytes(buffer[start:]), len(buffer)


def _parse_head(head: bytes) -> tuple[bytes, int, dict[bytes, bytes]]:
    status_line, _, rest = head.partition(b"\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    return parts[0], int(parts[1]), parse_headers(rest)


def parse_headers(lines: bytes) -> dict[bytes, bytes]:
    """Header lines (CRLF-separated, no start line) as lower-cased names -> stripped values.

    Shared by the client and the server (:mod:`~optuna_clank.arena.http.server`); a repeated
    header keeps its last value, which is all either side needs.
    """
    headers: dict[bytes, bytes] = {}
    for line in lines.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


def _parse_chunked(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """The body of a chunked reply starting at ``start`` and where it ends, or ``None`` until it has arrived."""
    chunks: list[bytes] = []
    at = start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";", 1)[0].strip(), 16)
        at = line_end + 2
        if size == 0:
            while True:  # trailers, then the blank line
                line_end = buffer.find(b"\r\n", at)
                if line_end < 0:
                    return None
                blank = line_end == at
                at = line_end + 2
                if blank:
                    return b"".join(chunks), at
        if len(buffer) < at + size + 2:
            return None
        chunks.append(bytes(buffer[at : at + size]))
        if buffer[at + size : at + size + 2] != b"\r\n":
            raise ValueError("a chunk does not end with CRLF")
        at += size + 2
