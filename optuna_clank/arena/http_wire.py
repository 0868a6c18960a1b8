"""A minimal HTTP/1.1 client on asyncio streams: keep-alive connections to one server.

Battlesnake requests are small JSON POSTs to a handful of known servers, thousands per second,
so a general-purpose client's per-request machinery (sessions, cookie jars, tracing hooks,
header multidicts) is most of what a served snake costs. This client does only what the
protocol needs: ``Content-Length`` or chunked responses, ``Connection: close`` and HTTP/1.0
replies, reading to end-of-stream when a reply has neither length nor chunks, and one retry on
a fresh connection when a pooled keep-alive connection turns out to have been closed by the
server before it answered (the request never reached it).

Timeouts are the caller's (``asyncio.timeout`` around :meth:`ConnectionPool.request`); a
request cancelled or failed midway closes its connection, so no half-read reply is reused.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The server broke the exchange: a dropped connection, or a reply that is not HTTP."""


class ConnectError(HttpError):
    """No connection could be opened (refused, unreachable): no server listens there."""


class _StaleConnectionError(HttpError):
    """A pooled connection was closed by the server before any byte of a reply arrived."""


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def abort(self) -> None:
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


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
        self._prefix = parts.path.rstrip("/")
        self._host_header = parts.netloc.rpartition("@")[2].encode("idna")
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """``(status, body)`` of one request; :class:`HttpError` (or ``ConnectError``) if it fails."""
        head = (
            f"{method} {self._prefix}{path} HTTP/1.1\r\n".encode()
            + b"Host: "
            + self._host_header
            + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
        )
        message = head + body
        connection, reused = await self._acquire()
        try:
            return await self._exchange(connection, message, reused)
        except _StaleConnectionError:
            connection, _ = await self._acquire(fresh=True)
            return await self._exchange(connection, message, reused=False)

    async def _exchange(self, connection: _Connection, message: bytes, reused: bool) -> tuple[int, bytes]:
        try:
            try:
                connection.writer.write(message)
                await connection.writer.drain()
                head = await connection.reader.readuntil(_HEAD_END)
            except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
                if reused and not getattr(exc, "partial", b""):
                    raise _StaleConnectionError("the server closed the idle connection") from exc
                raise
            status, keep_alive, body = await _read_reply(connection.reader, head)
        except BaseException as exc:  # cancelled (timed out) or broken: never reuse it
            self._discard(connection)
            if isinstance(exc, asyncio.IncompleteReadError):
                raise HttpError("the server closed the connection in the middle of a reply") from exc
            if isinstance(exc, OSError | asyncio.LimitOverrunError | ValueError):
                raise HttpError(f"broken reply: {exc or type(exc).__name__}") from exc
            raise
        if keep_alive and connection.usable():
            self._idle.append(connection)
        else:
            self._discard(connection)
        return status, body

    async def _acquire(self, *, fresh: bool = False) -> tuple[_Connection, bool]:
        while self._idle and not fresh:
            connection = self._idle.pop()
            if connection.usable():
                return connection, True
            self._discard(connection)
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self._ssl, limit=_MAX_HEAD)
        except OSError as exc:
            raise ConnectError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        connection = _Connection(reader, writer)
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


async def _read_reply(reader: asyncio.StreamReader, head: bytes) -> tuple[int, bool, bytes]:
    """``(status, keep_alive, body)`` of the reply whose head is ``head``; ``1xx`` replies are skipped."""
    version, status, headers = _parse_head(head)
    while 100 <= status < 200 and status != 101:
        version, status, headers = _parse_head(await reader.readuntil(_HEAD_END))
    connection = headers.get(b"connection", b"").lower()
    keep_alive = connection != b"close" if version == b"HTTP/1.1" else connection == b"keep-alive"
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return status, keep_alive, await _read_chunked(reader)
    length = headers.get(b"content-length")
    if length is not None:
        size = int(length)
        if size < 0:
            raise ValueError(f"negative Content-Length {size}")
        return status, keep_alive, await reader.readexactly(size)
    if status in (204, 304):
        return status, keep_alive, b""
    return status, False, await reader.read()  # no framing: the body ends with the connection


def _parse_head(head: bytes) -> tuple[bytes, int, dict[bytes, bytes]]:
    status_line, _, rest = head.partition(b"\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    return parts[0], int(parts[1]), parse_headers(rest)


def parse_headers(lines: bytes) -> dict[bytes, bytes]:
    """Header lines (CRLF-separated, no start line) as lower-cased names -> stripped values.

    Shared by the client and the server (:mod:`~optuna_clank.arena.http_server`); a repeated
    header keeps its last value, which is all either side needs.
    """
    headers: dict[bytes, bytes] = {}
    for line in lines.split(b"\r\n"):
        name, colon, value = line.partition(b":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("a chunk does not end with CRLF")
