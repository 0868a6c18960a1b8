"""A built-in snake behind the Battlesnake HTTP API (what ``python -m optuna_clank serve`` runs).

Tensor snakes are fastest many positions at a time, so ``/move`` requests are *micro-batched*:
requests that arrive while the snake is idle are answered together after one turn of the event
loop (a few turns while more keep coming), and requests that arrive while it computes wait for
the next batch. 64 concurrent games cost a few batched calls per turn instead of 64 single ones.
The snake computes on the loop's own thread: a hand-off to a worker thread costs more, on a busy
machine, than the small batches of a turn take to compute.

``GET /stats`` (not part of the Battlesnake API) reports how many requests were answered in how
many batches and the seconds the snake itself computed: benchmarks split their wall time with it.

Every malformed request is answered 400 with ``{"error": reason}``. Should the snake fail on a
batch, its requests are answered one by one, so only a request the snake cannot answer gets a
500; the server goes on.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable

import orjson
import torch

from optuna_clank import __version__
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.grid import MOVES
from optuna_clank.arena.http.api import API_VERSION, MoveRequest, RequestError
from optuna_clank.arena.http.move_body import read_move_body
from optuna_clank.arena.http.server import HttpServer, Reply, error_reply, json_reply
from optuna_clank.arena.move_oracle import answer_builtin
from optuna_clank.arena.players import Player, Seats
from optuna_clank.core.errors import UserError

MAX_BATCH = 2048
"""Most requests answered in one batched call."""
_GATHER_TURNS = 8


class MicroBatcher:
    """Gathers concurrent ``/move`` requests into batched calls of one player."""

    def __init__(self, player: Player, *, max_batch: int = MAX_BATCH, device: str | torch.device = "cpu") -> None:
        self.player = player
        self.device = device
        self.max_batch = max_batch
        self.batches = 0
        self.answered = 0
        self.batch_seconds = 0.0  # answering batches: request -> tensor conversion and the snake
        self._timed = _TimedPlayer(player)
        self._pending: list[tuple[MoveRequest, asyncio.Future[str | None]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None  # kept so the running drain is not collected

    async def answer(self, request: MoveRequest) -> str | None:
        """The move for one read request, computed together with its neighbours in time."""
        return await self.submit(request)

    def submit(self, request: MoveRequest) -> asyncio.Future[str | None]:
        """The future move for one read request (what :meth:`answer` awaits)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        self._pending.append((request, future))
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            while self._pending:
                await self._gather()
                batch = self._pending[: self.max_batch]
                del self._pending[: len(batch)]
                try:
                    moves = self._compute([request for request, _ in batch])
                except Exception:  # a position the snake cannot handle fails only its own request
                    self._answer_one_by_one(batch)
                    continue
                self.batches += 1
                self.answered += len(batch)
                for (_, future), move in zip(batch, moves, strict=True):
                    if not future.done():
                        future.set_result(move)
                await asyncio.sleep(0)  # let the answered handlers write their replies
        finally:
            self._draining = False

    def _answer_one_by_one(self, batch: list[tuple[MoveRequest, asyncio.Future[str | None]]]) -> None:
        for request, future in batch:
            try:
                (move,) = self._compute([request])
            except Exception as exc:  # reported to that request's client; the server goes on
                if not future.done():
                    future.set_exception(exc)
                continue
            self.batches += 1
            self.answered += 1
            if not future.done():
                future.set_result(move)

    async def _gather(self) -> None:
        """Yield to the loop until a turn of it brings no new request (a few turns at most)."""
        for _ in range(_GATHER_TURNS):
            waiting = len(self._pending)
            await asyncio.sleep(0)
            if len(self._pending) == waiting or len(self._pending) >= self.max_batch:
                return

    def _compute(self, requests: list[MoveRequest]) -> list[str | None]:
        started = time.perf_counter()
        try:
            return answer_builtin(self._timed, requests, device=self.device)
        finally:
            self.batch_seconds += time.perf_counter() - started

    def stats(self) -> dict[str, float]:
        """Requests answered, batches, and seconds spent in batches and in the snake alone."""
        return {
            "answered": self.answered,
            "batches": self.batches,
            "batch_seconds": self.batch_seconds,
            "snake_seconds": self._timed.seconds,
            "snake_cpu_seconds": self._timed.cpu_seconds,
            "process_cpu_seconds": time.process_time(),
        }


class _TimedPlayer(Player):
    """``player`` with the seconds spent in its ``choose`` added up (the snake's own time)."""

    def __init__(self, player: Player) -> None:
        self.player = player
        self.name = player.name
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # of this thread only: without the waits for a core

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        cpu = time.thread_time()  # read outside the wall-time window: under load a clock read can wait for a core
        started = time.perf_counter()
        try:
            return self.player.choose(view, seats)
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.thread_time() - cpu


def snake_info(*, color: str = "#3b7dd8") -> dict[str, str]:
    """The ``GET /`` answer."""
    return {
        "apiversion": API_VERSION,
        "author": "optuna-clank",
        "color": color,
        "head": "default",
        "tail": "default",
        "version": __version__,
    }


_MOVE_REPLIES = {move: orjson.dumps({"move": move, "shout": ""}) for move in MOVES}
_EMPTY = orjson.dumps({})


class SnakeApp:
    """The routes (GET /, GET /stats, POST /start, /move, /end) as an :mod:`http_server` handler."""

    def __init__(self, player: Player, *, max_batch: int = MAX_BATCH, device: str | torch.device = "cpu") -> None:
        self.batcher = MicroBatcher(player, max_batch=max_batch, device=device)
        self._info = orjson.dumps(snake_info())
        self._routes: dict[bytes, tuple[bytes, Callable[[bytes], Reply | asyncio.Future[Reply]]]] = {
            b"/": (b"GET", lambda _: (200, self._info)),
            b"/stats": (b"GET", lambda _: json_reply(200, self.batcher.stats())),
            b"/start": (b"POST", self._start_or_end),
            b"/end": (b"POST", self._start_or_end),
            b"/move": (b"POST", self._move),
        }

    def __call__(self, method: bytes, path: bytes, body: bytes) -> Reply | asyncio.Future[Reply]:
        route = self._routes.get(path)
        if route is None:
            return error_reply(404, f"no such path: {path.decode(errors='replace')[:80]}")
        allowed, answer = route
        if method != allowed:
            return error_reply(405, f"{path.decode()} takes {allowed.decode()}")
        return answer(body)

    def _start_or_end(self, body: bytes) -> Reply:
        try:
            orjson.loads(body)
        except ValueError as exc:
            return error_reply(400, f"the body is not JSON: {exc}")
        return 200, _EMPTY

    def _move(self, body: bytes) -> Reply | asyncio.Future[Reply]:
        try:
            read = read_move_body(body)  # checked and read into cells now, while the batch gathers
        except RequestError as exc:
            return error_reply(400, str(exc))
        reply: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self.batcher.submit(read).add_done_callback(lambda move: reply.set_result(_move_reply(move)))
        return reply


def _move_reply(move: asyncio.Future[str | None]) -> Reply:
    try:
        answer = move.result()
    except Exception as exc:  # reported to the client; the server goes on
        return error_reply(500, f"the snake failed: {exc}")
    if answer is None:
        return error_reply(500, "the snake gave no move")
    return 200, _MOVE_REPLIES[answer]


async def serve(
    player: Player,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    device: str | torch.device = "cpu",
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``player`` until SIGINT or SIGTERM; ``on_ready`` gets the URL once listening.

    A port already taken (or a host that cannot be bound) is a :class:`UserError`.
    """
    server = HttpServer(SnakeApp(player, device=device))
    try:
        bound_port = await server.start(host, port)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    url = f"http://{host if ':' not in host else f'[{host}]'}:{bound_port}"
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if on_ready is not None:
            on_ready(url)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await server.close()
