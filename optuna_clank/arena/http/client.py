"""Asynchronous client of one Battlesnake server, and a private event loop for synchronous callers.

One :class:`SnakeClient` keeps a pool of keep-alive connections to a server, so many games can
ask it at once without a connection per request. Every answer is classified the way the
official CLI reacts to it: a move, or a *fault* — ``timeout`` (no answer within the game's
timeout), ``error`` (non-200 status or a broken connection), ``invalid`` (not JSON, or a move
other than the four lowercase names) or ``down`` (the connection was refused: no server listens
any more). The caller decides what a fault costs; the arena repeats the previous move, and
treats ``down`` as the snake leaving its games.

The requests are small JSON POSTs to a few known servers, so the client speaks HTTP/1.1 itself
on asyncio Protocols (:mod:`optuna_clank.arena.http.wire`) rather than through a general-purpose
HTTP library: per request that costs a fraction of the CPU, which on a loaded machine is most
of the wall time a served snake adds. For the same reason the loops here (and ``serve``'s) are
uvloop's where it is installed (:func:`new_event_loop`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from collections import deque
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Literal, NamedTuple, TypeVar

import orjson
import uvloop

from optuna_clank.arena.http.limit import InFlightLimit, Ticket
from optuna_clank.arena.http.wire import ConnectError, ConnectionPool, HttpError
from optuna_clank.arena.standard import MOVES

Fault = Literal["", "timeout", "error", "invalid", "down"]
_T = TypeVar("_T")

EVENT_LOOP = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
"""The event loop :func:`new_event_loop` makes: uvloop's (libuv, in C) where installed, else asyncio's."""


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh event loop of the :data:`EVENT_LOOP` kind.

    uvloop runs the loop, its transports and its timers in C: a bare loopback exchange costs each
    side a third to a half of the CPU it does on asyncio's loop (11-20 against 45-53 microseconds).
    """
    if EVENT_LOOP == "uvloop":
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


_DRAIN_S = 0.002
"""How long collecting always looks for answers, even past the deadline (they may have come in time)."""

_BACKLOG_TURNS = 32
_QUIET_TURNS = 3
"""Collecting first runs the event loop until :data:`_QUIET_TURNS` turns in a row read no new answer
(at most :data:`_BACKLOG_TURNS`): the answers that came while the caller was busy."""


class MovesInFlight:
    """``/move`` requests of one :meth:`SnakeClient.send_moves`, until :meth:`SnakeClient.collect_moves`.

    Requests beyond the server's in-flight limit wait here and go out, in order, as earlier
    answers free their slots; each one's deadline counts from its own sending.
    """

    def __init__(self, timeout_ms: int) -> None:
        self.timeout = timeout_ms / 1000
        self.bodies: list[bytes] = []  # each request's body, until it is sent
        self.replies: list[asyncio.Future[tuple[int, bytes]] | None] = []
        self.tickets: list[Ticket | None] = []  # None once finished (or dropped)
        self.sent_at: list[float] = []
        self.finished: list[float] = []  # when each answer was read
        self.waiting: deque[int] = deque()  # requests not sent yet, in order
        self.sent_order: deque[int] = deque()  # sent requests, oldest (first deadline) first
        self.expired: set[int] = set()  # timed out: cancelled, their ends not seen yet
        self.open = 0  # requests not finished, sent or not
        self.wake: asyncio.Future[None] | None = None  # the collector's, set when nothing is open
        self.abandoned = False

    def add(self, body: bytes) -> int:
        self.bodies.append(body)
        self.replies.append(None)
        self.tickets.append(None)
        self.sent_at.append(0.0)
        self.finished.append(0.0)
        self.open += 1
        return len(self.bodies) - 1

    @property
    def held(self) -> int:
        """Requests sent so far."""
        return len(self.replies) - len(self.waiting)

    @property
    def unsent(self) -> list[bytes]:
        """Bodies waiting for a free slot."""
        return [self.bodies[i] for i in self.waiting]


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

    At most ``max_connections`` requests are in flight, and fewer while the server answers
    slowly (:class:`~optuna_clank.arena.http.limit.InFlightLimit`, learnt from the answers'
    latency); the others wait for a slot *before* their timeout starts, so neither our own queue
    nor the overload we would cause makes a request time out.
    """

    def __init__(self, url: str, *, timeout_ms: int = 500, max_connections: int = 256) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.url = url.rstrip("/")
        self.timeout_ms = timeout_ms
        self.max_connections = max_connections
        self.limit = InFlightLimit(timeout_ms, maximum=max_connections)
        self._pool: ConnectionPool | None = None
        self._backlog = False  # reading answers that came while the caller was busy

    async def __aenter__(self) -> SnakeClient:
        self._pool = ConnectionPool(self.url)
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
        """``POST /start`` or ``/end``: the answer is ignored, only a fault is reported.

        These take a slot like a move, but teach the limit nothing: a bot answers them at once.
        """
        ticket = await self._slot()
        try:
            async with asyncio.timeout(_timeout_ms(body, self.timeout_ms) / 1000):
                status, _ = await self.pool.request("POST", path, _encode(body))
            return "" if status == 200 else "error"
        except Exception as exc:  # every failure is a fault, never a crash
            return _classify(exc)
        finally:
            self.limit.release(ticket)

    async def move(self, body: Mapping[str, Any]) -> MoveAnswer:
        """``POST /move`` within the game's timeout (``game.timeout``, else the client's)."""
        return await self._move(_encode(body), _timeout_ms(body, self.timeout_ms))

    async def move_encoded(self, body: bytes, timeout_ms: int) -> MoveAnswer:
        """:meth:`move` with a body already JSON-encoded, and its game's timeout."""
        return await self._move(body, timeout_ms)

    async def move_batch(self, bodies: Sequence[bytes], timeout_ms: int) -> list[MoveAnswer]:
        """:meth:`send_moves` and :meth:`collect_moves` of ``bodies`` in one call."""
        return await self.collect_moves(await self.send_moves(bodies, timeout_ms), timeout_ms)

    async def send_moves(self, bodies: Iterable[bytes], timeout_ms: int | None = None) -> MovesInFlight:
        """Send ``bodies`` and return without waiting: collect the answers with :meth:`collect_moves`.

        The caller works meanwhile (the arena plays other seats and games while the server
        thinks). Each body goes out as soon as ``bodies`` yields it, so a server starts reading
        the first while the next are built, as far as the in-flight limit allows; the rest go
        out, in order, as answers free their slots (while collecting, or earlier when the event
        loop runs on a thread of its own). Nothing here waits. A body that cannot be built leaves
        nothing of this batch in flight.
        """
        limit = self.limit
        flight = MovesInFlight(self.timeout_ms if timeout_ms is None else timeout_ms)
        try:
            for body in bodies:
                index = flight.add(body)
                if flight.waiting or not limit.free:
                    flight.waiting.append(index)
                else:
                    self._send(flight, index, limit.take())
        except BaseException:  # a body that cannot be built: nothing of this batch stays in flight
            self._abandon(flight)
            raise
        if flight.waiting:
            limit.wait(partial(self._send_next, flight))
        return flight

    async def collect_moves(self, flight: MovesInFlight, timeout_ms: int) -> list[MoveAnswer]:
        """The answers to a :meth:`send_moves`, in order; each timeout counts from its request's sending."""
        flight.timeout = timeout_ms / 1000
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            await self._read_backlog(flight)
            while flight.open:
                order = flight.sent_order
                while order and flight.tickets[order[0]] is None:
                    order.popleft()
                if not order and flight.waiting:  # every slot is another batch's: ours may still have one
                    self._send(flight, flight.waiting.popleft(), self.limit.take())
                    continue
                live = next((i for i in order if i not in flight.expired), None)  # expired ones lead the order
                now = time.perf_counter()
                deadline = flight.sent_at[live] + flight.timeout if live is not None else now + 1.0
                deadline = max(deadline, started + _DRAIN_S)  # answers read late may still have come in time
                if now >= deadline:
                    self._expire(flight, now)
                    await asyncio.sleep(0)  # the cancelled requests end (and free their slots)
                    continue
                flight.wake = wake = loop.create_future()
                timer = loop.call_later(deadline - now, _set_result, wake)
                try:
                    await wake
                finally:
                    timer.cancel()
        finally:
            if flight.open:  # cancelled while collecting: nothing of this batch stays in flight
                pending = [r for r, t in zip(flight.replies, flight.tickets, strict=True) if r and t and not r.done()]
                self._abandon(flight)
                if pending:  # a task (opening a connection) ends only once it has run its cancellation
                    await asyncio.wait(pending)
        return [self._answer(flight, i, timeout_ms) for i in range(len(flight.replies))]

    def _send(self, flight: MovesInFlight, index: int, ticket: Ticket) -> None:
        """Send request ``index`` of ``flight`` now, in the slot ``ticket`` holds."""
        pool = self.pool
        body, flight.bodies[index] = flight.bodies[index], b""
        flight.tickets[index], flight.sent_at[index] = ticket, ticket.sent_at
        reply = pool.send(pool.message("POST", "/move", body), on_start=partial(_restamp, flight.sent_at, index))
        flight.replies[index] = reply
        flight.sent_order.append(index)
        reply.add_done_callback(partial(self._answered, flight, index))

    def _send_next(self, flight: MovesInFlight, ticket: Ticket) -> bool:
        """The in-flight limit's waiter of a batch: send its next request (and wait again for more)."""
        if flight.abandoned or not flight.waiting:
            return False
        self._send(flight, flight.waiting.popleft(), ticket)
        if flight.waiting:
            self.limit.wait(partial(self._send_next, flight))
        return True

    def _answered(self, flight: MovesInFlight, index: int, reply: asyncio.Future[tuple[int, bytes]]) -> None:
        """A request of ``flight`` ended (answered, failed or timed out): its slot is free, its latency learnt."""
        ticket = flight.tickets[index]
        if ticket is None:
            return  # dropped with its batch: its slot is already free
        now = time.perf_counter()
        flight.tickets[index] = None
        flight.finished[index] = now
        flight.open -= 1
        timed_out = reply.cancelled()
        latency = None if timed_out else now - flight.sent_at[index]
        self.limit.done(ticket, latency=latency, loose=self._backlog)
        if not flight.open and flight.wake is not None and not flight.wake.done():
            flight.wake.set_result(None)

    def _expire(self, flight: MovesInFlight, now: float) -> None:
        """Cancel the sent requests whose deadline has passed (oldest first): they time out."""
        for index in flight.sent_order:
            if flight.sent_at[index] + flight.timeout > now:
                break
            reply = flight.replies[index]
            if flight.tickets[index] is not None and index not in flight.expired and reply is not None:
                flight.expired.add(index)
                reply.cancel()

    def _abandon(self, flight: MovesInFlight) -> None:
        """Drop what of ``flight`` is still open, freeing its slots without learning from it."""
        flight.abandoned = True
        flight.open -= len(flight.waiting)
        flight.waiting.clear()
        for index, ticket in enumerate(flight.tickets):
            reply = flight.replies[index]
            if ticket is not None and reply is not None:
                flight.tickets[index] = None
                flight.open -= 1
                reply.cancel()
                self.limit.release(ticket)

    async def _read_backlog(self, flight: MovesInFlight) -> None:
        """Run the loop until it reads no new answer: those that came while the caller was busy elsewhere."""
        self._backlog = True
        try:
            quiet = 0
            for _ in range(_BACKLOG_TURNS):
                before = flight.open
                await asyncio.sleep(0)
                quiet = quiet + 1 if flight.open == before else 0
                if quiet >= _QUIET_TURNS or not flight.open:
                    break
        finally:
            self._backlog = False

    @staticmethod
    def _answer(flight: MovesInFlight, index: int, timeout_ms: int) -> MoveAnswer:
        reply = flight.replies[index]
        if reply is None or reply.cancelled():
            return MoveAnswer(None, "timeout", timeout_ms)
        latency_ms = round((flight.finished[index] - flight.sent_at[index]) * 1000)
        exc = reply.exception()
        if exc is not None:
            return MoveAnswer(None, _classify(exc), latency_ms)
        move, fault = _read_move(*reply.result())
        return MoveAnswer(move, fault, latency_ms)

    async def _slot(self) -> Ticket:
        """A slot for one request, waiting in turn for the in-flight limit."""
        limit = self.limit
        if limit.free:
            return limit.take()
        granted: asyncio.Future[Ticket] = asyncio.get_running_loop().create_future()

        def grant(ticket: Ticket) -> bool:
            if granted.done():
                return False  # its waiter was cancelled
            granted.set_result(ticket)
            return True

        limit.wait(grant)
        try:
            return await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                limit.release(granted.result())
            raise

    async def _move(self, body: bytes, timeout_ms: int) -> MoveAnswer:
        ticket = await self._slot()
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                status, raw = await self.pool.request("POST", "/move", body)
        except TimeoutError:
            self.limit.done(ticket, latency=None)
            return MoveAnswer(None, "timeout", timeout_ms)
        except Exception as exc:  # every failure is a fault, never a crash
            self.limit.done(ticket, latency=time.perf_counter() - ticket.sent_at)
            return MoveAnswer(None, _classify(exc), _ms(ticket.sent_at))
        except BaseException:
            self.limit.release(ticket)
            raise
        self.limit.done(ticket, latency=time.perf_counter() - ticket.sent_at)
        move, fault = _read_move(status, raw)
        return MoveAnswer(move, fault, _ms(ticket.sent_at))


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


def _restamp(sent_at: list[float], index: int) -> None:
    """A request that waited for its connection to be opened: its clock starts when the opening does."""
    sent_at[index] = time.perf_counter()


def _set_result(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


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
