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
from typing import Any

import orjson
import torch
from aiohttp import web

from optuna_clank import __version__
from optuna_clank.arena.api import API_VERSION, RequestError, check_request
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.move_oracle import answer_builtin
from optuna_clank.arena.players import Player, Seats
from optuna_clank.errors import UserError

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
        self._pending: list[tuple[dict[str, Any], asyncio.Future[str | None]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None  # kept so the running drain is not collected

    async def answer(self, request: dict[str, Any]) -> str | None:
        """The move for one checked request, computed together with its neighbours in time."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        self._pending.append((request, future))
        if not self._draining:
            self._draining = True
            self._task = loop.create_task(self._drain())
        return await future

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

    def _answer_one_by_one(self, batch: list[tuple[dict[str, Any], asyncio.Future[str | None]]]) -> None:
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

    def _compute(self, requests: list[dict[str, Any]]) -> list[str | None]:
        started = time.perf_counter()
        try:
            return answer_builtin(self._timed, requests, device=self.device, checked=True)
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


BATCHER = web.AppKey("batcher", MicroBatcher)
"""Where an app made by :func:`make_app` keeps its :class:`MicroBatcher` (``app[BATCHER]``)."""


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


def make_app(player: Player, *, max_batch: int = MAX_BATCH, device: str | torch.device = "cpu") -> web.Application:
    """The aiohttp application serving ``player`` (GET /, POST /start, /move, /end)."""
    batcher = MicroBatcher(player, max_batch=max_batch, device=device)
    info = snake_info()

    async def index(_: web.Request) -> web.Response:
        return _json(info)

    async def stats(_: web.Request) -> web.Response:
        return _json(batcher.stats())

    async def start_or_end(request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        return _json({})

    async def move(request: web.Request) -> web.Response:
        body = await _json_body(request)
        if isinstance(body, web.Response):
            return body
        try:
            check_request(body)
        except RequestError as exc:
            return _bad_request(str(exc))
        try:
            answer = await batcher.answer(body)
        except Exception as exc:  # reported to the client; the server goes on
            return _json({"error": f"the snake failed: {exc}"}, status=500)
        if answer is None:
            return _json({"error": "the snake gave no move"}, status=500)
        return _json({"move": answer, "shout": ""})

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/stats", stats)
    app.router.add_post("/start", start_or_end)
    app.router.add_post("/end", start_or_end)
    app.router.add_post("/move", move)
    app[BATCHER] = batcher
    return app


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def _bad_request(reason: str) -> web.Response:
    return _json({"error": reason}, status=400)


async def _json_body(request: web.Request) -> Any:
    """The parsed body, or a 400 response saying why it cannot be used."""
    try:
        raw = await request.read()
    except web.HTTPException as exc:  # e.g. a body over the size limit
        return _bad_request(exc.reason)
    try:
        return orjson.loads(raw)
    except ValueError as exc:
        return _bad_request(f"the body is not JSON: {exc}")


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
    runner = web.AppRunner(make_app(player, device=device), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    bound_port = _bound_port(runner, port)
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
        await runner.cleanup()


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    """The port actually bound (``asked`` unless it was 0)."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked
