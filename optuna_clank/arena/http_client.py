"""Asynchronous client of one Battlesnake server, and a private event loop for synchronous callers.

One :class:`SnakeClient` keeps a pool of keep-alive connections to a server, so many games can
ask it at once without a connection per request. Every answer is classified the way the
official CLI reacts to it: a move, or a *fault* — ``timeout`` (no answer within the game's
timeout), ``error`` (non-200 status or a broken connection), ``invalid`` (not JSON, or a move
other than the four lowercase names) or ``down`` (the connection was refused: no server listens
any more). The caller decides what a fault costs; the arena repeats the previous move, and
treats ``down`` as the snake leaving its games.

The requests are small JSON POSTs to a few known servers, so the client speaks HTTP/1.1 itself
on asyncio Protocols (:mod:`optuna_clank.arena.http_wire`) rather than through a general-purpose
HTTP library: per request that costs a fraction of the CPU, which on a loaded machine is most
of the wall time a served snake adds. For the same reason the loops here (and ``serve``'s) are
uvloop's where it is installed (:func:`new_event_loop`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Literal, NamedTuple, TypeVar

import orjson

from optuna_clank.arena.http_wire import ConnectError, ConnectionPool, HttpError
from optuna_clank.arena.standard import MOVES

Fault = Literal["", "timeout", "error", "invalid", "down"]
FAULTS: tuple[Fault, ...] = ("timeout", "error", "invalid", "down")
_T = TypeVar("_T")

EVENT_LOOP = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
"""The event loop :func:`new_event_loop` makes: uvloop's (libuv, in C) where installed, else asyncio's."""


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh event loop of the :data:`EVENT_LOOP` kind.

    uvloop runs the loop, its transports and its timers in C: a bare loopback exchange costs each
    side a third to a half of the CPU it does on asyncio's loop (11-20 against 45-53 microseconds).
    """
    if EVENT_LOOP == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


_DRAIN_S = 0.002
"""How long collecting always looks for answers, even past the deadline (they may have come in time)."""


class MovesInFlight(NamedTuple):
    """``/move`` requests sent by :meth:`SnakeClient.send_moves` and not yet collected."""

    replies: list[asyncio.Future[tuple[int, bytes]]]
    finished: list[float]  # when each reply was read (the send time until then)
    started: float
    held: int  # connection slots taken (one per sent request)
    unsent: Sequence[bytes]  # bodies beyond the free slots: sent when collected


class SnakeServerError(RuntimeError):
    """A server that cannot be used at all (``GET /`` failed)."""


class MoveAnswer(NamedTuple):
    """A server's answer to one ``/move``: the move, or ``None`` and the fault."""

    move: str | None
    fault: Fault
    latency_ms: int


def _timeout_ms(body: Mapping[str, Any], default_ms: int) -> int:
    game = body.get("game")
    timeout = game.get("timeout") if isinstance(game, dict) else None
    return timeout if isinstance(timeout, int) and not isinstance(timeout, bool) and timeout > 0 else default_ms


class SnakeClient:
    """Keep-alive HTTP client of the server at ``url`` (open it inside a running event loop).

    At most ``max_connections`` requests are in flight; the others wait for a free connection
    *before* their timeout starts, so a big batch never times out on our own queue.
    """

    def __init__(self, url: str, *, timeout_ms: int = 500, max_connections: int = 256) -> None:
        self.url = url.rstrip("/")
        self.timeout_ms = timeout_ms
        self.max_connections = max_connections
        self._pool: ConnectionPool | None = None
        self._slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> SnakeClient:
        self._pool = ConnectionPool(self.url)
        self._slots = asyncio.Semaphore(self.max_connections)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @property
    def pool(self) -> ConnectionPool:
        if self._pool is None:
            raise RuntimeError("SnakeClient used outside 'async with'")
        return self._pool

    async def info(self, *, timeout_s: float = 5.0) -> dict[str, Any]:
        """``GET /``: the snake's metadata; :class:`SnakeServerError` if it does not answer it."""
        try:
            async with asyncio.timeout(timeout_s):
                status, raw = await self.pool.request("GET", "/")
            if status != 200:
                raise SnakeServerError(f"GET {self.url}/ answered HTTP {status}")
            data = orjson.loads(raw)
        except (HttpError, OSError, TimeoutError, ValueError) as exc:
            raise SnakeServerError(f"GET {self.url}/ failed: {_reason(exc)}") from exc
        if not isinstance(data, dict):
            raise SnakeServerError(f"GET {self.url}/ did not answer a JSON object")
        return data

    async def notify(self, path: str, body: Mapping[str, Any]) -> Fault:
        """``POST /start`` or ``/end``: the answer is ignored, only a fault is reported."""
        assert self._slots is not None
        async with self._slots:
            return await self._notify(path, body)

    async def _notify(self, path: str, body: Mapping[str, Any]) -> Fault:
        try:
            async with asyncio.timeout(_timeout_ms(body, self.timeout_ms) / 1000):
                status, _ = await self.pool.request("POST", path, _encode(body))
            return "" if status == 200 else "error"
        except Exception as exc:  # every failure is a fault, never a crash
            return _classify(exc)

    async def move(self, body: Mapping[str, Any]) -> MoveAnswer:
        """``POST /move`` within the game's timeout (``game.timeout``, else the client's)."""
        assert self._slots is not None
        async with self._slots:
            return await self._move(body)

    async def move_encoded(self, body: bytes, timeout_ms: int) -> MoveAnswer:
        """:meth:`move` with a body already JSON-encoded, and its game's timeout."""
        assert self._slots is not None
        async with self._slots:
            return await self._move(body, timeout_ms)

    async def move_batch(self, bodies: Sequence[bytes], timeout_ms: int) -> list[MoveAnswer]:
        """:meth:`move_encoded` of every body at once, all under one timeout.

        What an HTTP player sends each turn: the requests go out together on idle connections
        with no task or timer each (one timer for the batch), which on a served game is most of
        what the client's event loop costs per request. Above ``max_connections`` bodies, the
        rest follow in further rounds.
        """
        assert self._slots is not None
        answers: list[MoveAnswer] = []
        for first in range(0, len(bodies), self.max_connections):
            chunk = bodies[first : first + self.max_connections]
            for _ in chunk:
                await self._slots.acquire()
            answers += await self.collect_moves(self._send(chunk), timeout_ms)
        return answers

    async def send_moves(self, bodies: Iterable[bytes]) -> MovesInFlight:
        """Send ``bodies`` now and return without waiting: collect the answers with :meth:`collect_moves`.

        The caller works meanwhile (the arena plays other seats and games while the server
        thinks). Each body goes out as soon as ``bodies`` yields it, so a server starts reading
        the first while the next are built. Only free connection slots are taken, never waited
        for (another batch in flight may hold them): bodies beyond them are sent when collected.
        """
        slots, pool = self._slots, self.pool
        assert slots is not None
        started = time.perf_counter()
        replies: list[asyncio.Future[tuple[int, bytes]]] = []
        unsent: list[bytes] = []
        try:
            for body in bodies:
                if unsent or slots.locked():
                    unsent.append(body)
                    continue
                await slots.acquire()  # free: returns at once
                replies.append(pool.send(pool.message("POST", "/move", body)))
        except BaseException:  # a body that cannot be built: nothing of this batch stays in flight
            for reply in replies:
                reply.cancel()
            for _ in replies:
                slots.release()
            raise
        return self._in_flight(replies, started, unsent)

    async def collect_moves(self, flight: MovesInFlight, timeout_ms: int) -> list[MoveAnswer]:
        """The answers to a :meth:`send_moves`, in order; the timeout counts from when they were sent."""
        assert self._slots is not None
        try:
            answers = await self._collect(flight, timeout_ms)
        finally:
            for _ in range(flight.held):
                self._slots.release()
        if flight.unsent:
            answers += await self.move_batch(flight.unsent, timeout_ms)
        return answers

    def _send(self, bodies: Sequence[bytes]) -> MovesInFlight:
        """Send ``bodies``, one connection slot each already held."""
        pool = self.pool
        started = time.perf_counter()
        return self._in_flight([pool.send(pool.message("POST", "/move", body)) for body in bodies], started, [])

    @staticmethod
    def _in_flight(
        replies: list[asyncio.Future[tuple[int, bytes]]], started: float, unsent: Sequence[bytes]
    ) -> MovesInFlight:
        finished = [started] * len(replies)
        for i, reply in enumerate(replies):
            reply.add_done_callback(partial(_stamp, finished, i))
        return MovesInFlight(replies, finished, started, len(replies), unsent)

    async def _collect(self, flight: MovesInFlight, timeout_ms: int) -> list[MoveAnswer]:
        replies, finished, started = flight.replies, flight.finished, flight.started
        # answers that came while the caller was busy are in the socket buffers: a short look at them is not "late"
        remaining = max(started + timeout_ms / 1000 - time.perf_counter(), _DRAIN_S)
        try:
            if replies:
                await asyncio.wait(replies, timeout=remaining)
        finally:
            late = [reply for reply in replies if not reply.done()]
            for reply in late:
                reply.cancel()  # timed out (or the batch was cancelled)
            if late:  # a task (opening a connection) ends only once it has run its cancellation
                await asyncio.wait(late)
        answers = []
        for reply, ended in zip(replies, finished, strict=True):
            if reply.cancelled():
                answers.append(MoveAnswer(None, "timeout", timeout_ms))
                continue
            exc = reply.exception()
            if exc is not None:
                move, fault = None, _classify(exc)
            else:
                move, fault = _read_move(*reply.result())
            answers.append(MoveAnswer(move, fault, round((ended - started) * 1000)))
        return answers

    async def _move(self, body: Mapping[str, Any] | bytes, timeout_ms: int | None = None) -> MoveAnswer:
        started = time.perf_counter()
        if isinstance(body, bytes):
            encoded = body
        else:
            encoded, timeout_ms = _encode(body), _timeout_ms(body, self.timeout_ms)
        assert timeout_ms is not None
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                status, raw = await self.pool.request("POST", "/move", encoded)
        except Exception as exc:  # every failure is a fault, never a crash
            return MoveAnswer(None, _classify(exc), timeout_ms if isinstance(exc, TimeoutError) else _ms(started))
        move, fault = _read_move(status, raw)
        return MoveAnswer(move, fault, _ms(started))


def _read_move(status: int, raw: bytes) -> tuple[str | None, Fault]:
    """The move of a ``/move`` reply, or the fault it is."""
    if status != 200:
        return None, "error"
    try:
        data = orjson.loads(raw)
    except ValueError:
        return None, "invalid"
    move = data.get("move") if isinstance(data, dict) else None
    return (move, "") if move in MOVES else (None, "invalid")


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _stamp(finished: list[float], i: int, _: object) -> None:
    finished[i] = time.perf_counter()


def _encode(body: Mapping[str, Any]) -> bytes:
    return orjson.dumps(body)


def _classify(exc: BaseException) -> Fault:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectError):
        return "down"
    return "error"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectError) and exc.__cause__ is not None:
        return f"cannot connect: {exc.__cause__}"
    return str(exc) or type(exc).__name__


class LoopRunner:
    """Runs coroutines for synchronous code on one private, persistent event loop.

    The loop runs in the calling thread (no thread hand-off per call: on a busy machine each
    hand-off waits for a time slice), unless that thread already runs a loop of its own; then it
    runs on a daemon thread of its own. Connections opened on it stay alive between calls.
    """

    def __init__(self) -> None:
        self.loop = new_event_loop()
        self._thread: threading.Thread | None = None

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        if self._thread is None and not _loop_running_here():
            return self.loop.run_until_complete(coroutine)
        if self._thread is None:
            self._thread = threading.Thread(target=self.loop.run_forever, name="snake-http", daemon=True)
            self._thread.start()
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if self._thread is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
        self.loop.close()


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
