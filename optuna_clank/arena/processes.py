"""Matches split over worker processes, so that one command uses every CPU core it may.

The arena runs one torch thread per process (:mod:`optuna_clank.core.threads`): a second intra-op thread
buys about 10% on an idle machine and collapses under load. To use the other cores, a large match
on the CPU is split instead. Worker processes are forked from this one (they inherit the players:
nothing is pickled on the way in, and no fresh interpreter has to import torch), and this process
plays too. Each takes chunks of the game indices from a shared counter, as its continuous batch has
room, so a process that gets less CPU (a busy neighbour on its core) simply plays fewer games.
Outcomes come back as games finish (``on_game_end`` and progress bars keep ticking) and are merged
in game order. Common random numbers make the split invisible: a game's outcome depends only on
its index and the seed, not on the process, batch or row that played it.

Only players that hold nothing a copy could not use are split (pure tensor snakes: see
:attr:`~optuna_clank.arena.players.Player.holds_process_resources`); a match with a snake server,
on a GPU, or too small to pay for a process, is played in this process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import statistics
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

import torch

from optuna_clank.arena.bounds import Mode
from optuna_clank.arena.engine import FoodSettings
from optuna_clank.arena.outcome import GameOutcome, MatchResult
from optuna_clank.arena.players import Player
from optuna_clank.arena.scheduler import GameScheduler

_Item = TypeVar("_Item")
_Out = TypeVar("_Out")

MIN_GAMES_PER_PROCESS = 256
"""Fewer games than this per process and a match stays in one process. A turn of the batched engine
has a fixed cost about that of a few hundred rows (measured: 206 games/s at batch 256, 373 at 1024
on one core), so splitting a small batch pays that cost twice for little: on a busy machine, where
the processes compete for cores anyway, it is a loss."""

CHUNKS_PER_BATCH = 8
"""A process takes games in chunks of an eighth of its batch: small enough to even out the work
between a fast and a slow process, large enough that taking one is rare."""


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask; the CPU count where there is none)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """Usable cores that no other task keeps busy now, at least one: what ``"auto"`` splits over."""
    cores = usable_cores()
    return cores if cores <= 1 else max(1, cores - busy_elsewhere())


def busy_elsewhere(*, samples: int = 5, interval_s: float = 0.01) -> int:
    """Tasks running on the machine now besides this one (``procs_running`` of ``/proc/stat``, the
    median of a few samples); 0 where that cannot be read."""
    counts = []
    for index in range(samples):
        if index:
            time.sleep(interval_s)
        try:
            with open("/proc/stat", encoding="ascii") as stat:  # noqa: PTH123 - a pseudo-file read line by line
                running = next((int(line.split()[1]) for line in stat if line.startswith("procs_running")), None)
        except OSError:
            return 0
        if running is None:
            return 0
        counts.append(running - 1)  # this process is running while it reads
    return max(0, statistics.median_low(counts))


def process_count(
    processes: int | str, players: Sequence[Player], games: int, device: torch.device, *, busy: int | None = None
) -> int:
    """Processes a match of ``games`` games should use (see the module doc).

    ``processes``: a number, or ``"auto"``: one per usable core that no other task keeps busy now
    (``busy``, sampled when not given), at least one. A process that shares a core with other work
    only adds the fixed cost of its own batch's turns (and, where the scheduler shares the CPU between
    sessions first, as Linux's autogroup does, gets no more of the machine), so a busy machine gets
    fewer processes. Fewer for a small match, one where splitting is impossible.
    """
    if processes != "auto" and (not isinstance(processes, int) or isinstance(processes, bool) or processes < 1):
        raise ValueError(f"processes must be a positive integer or 'auto', got {processes!r}")
    most = games // MIN_GAMES_PER_PROCESS
    if processes == 1 or most <= 1 or device.type != "cpu" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if any(player.holds_process_resources for player in players):
        return 1
    if processes == "auto":  # sampled last: it takes a few milliseconds
        wanted = idle_cores() if busy is None else max(1, usable_cores() - busy)
    else:
        wanted = int(processes)
    return max(1, min(wanted, most))


class WorkerProcessError(RuntimeError):
    """A worker process of a split match failed or died; its traceback (when it could send one) follows."""


class _Share:
    """The games handed out in chunks to whichever process has room, through a shared counter."""

    def __init__(self, indices: Sequence[int], chunk: int, counter: Any) -> None:
        self.indices = indices
        self.chunk = chunk
        self.counter = counter
        self.chunks = math.ceil(len(indices) / chunk)

    def take(self) -> list[int]:
        """The next chunk of game indices (empty once all are taken)."""
        with self.counter.get_lock():
            k = self.counter.value
            self.counter.value = k + 1
        return list(self.indices[k * self.chunk : (k + 1) * self.chunk]) if k < self.chunks else []


def play_in_processes(
    players: Sequence[Player],
    indices: Sequence[int],
    *,
    workers: int,
    seed: int,
    board_size: int | tuple[int, int],
    mode: Mode,
    max_turns: int,
    batch_size: int,
    food: FoodSettings | None,
    record: Iterable[int],
    on_game_end: Callable[[GameOutcome], object] | None,
) -> MatchResult:
    """The match of ``players[0]`` against ``players[1:]`` on ``indices``, over ``workers`` processes
    (this one included). Outcomes sorted by game; ``seconds`` is left to the caller."""
    # A process's whole share fits its batch (up to batch_size): one batch of more rows costs less CPU per
    # game than a smaller batch refilled (measured: 2 x 1024 rows 224-263 games per CPU-second, 2 x 512 rows
    # 197-215, one process of 1024 rows 275-285; 2,048 games, load average 6.7 on 2 cores).
    per_process = max(1, min(batch_size, math.ceil(len(indices) / workers)))
    recorded = set(record)
    context = multiprocessing.get_context("fork")
    share = _Share(indices, max(1, per_process // CHUNKS_PER_BATCH), context.Value("q", 0))

    def scheduler() -> GameScheduler:
        return GameScheduler(board_size=board_size, max_turns=max_turns, food=food, batch_size=per_process)

    outcomes: list[GameOutcome] = []
    history: dict[int, list[dict[str, Any]]] = {}

    def collect(outcome: GameOutcome) -> None:
        outcomes.append(outcome)
        if on_game_end is not None:
            on_game_end(outcome)

    with scheduler() as batch:  # checks the settings before any process starts
        cid = batch.add(players[0], players[1:], seed=seed, mode=mode, on_game_end=collect)
        if len(set(indices)) != len(indices) or any(i < 0 for i in indices):
            raise ValueError("game indices must be distinct and non-negative")
        children: list[tuple[Any, Connection]] = []
        try:
            for _ in range(workers - 1):
                receiver, sender = context.Pipe(duplex=False)
                job = _ShareJob(share, scheduler, players, seed, mode, recorded)
                process = context.Process(target=_child, args=(sender, job), daemon=True)
                process.start()
                sender.close()
                children.append((process, receiver))
            open_pipes = [receiver for _, receiver in children]

            def poll(block: bool) -> None:
                ready = wait(open_pipes, timeout=None if block else 0)
                for pipe in ready:
                    assert isinstance(pipe, Connection)
                    if _receive(pipe, collect, history, children):
                        open_pipes.remove(pipe)

            _play_share(batch, cid, share, recorded, after_step=lambda: poll(block=False))
            history.update(batch.result(cid).history)
            while open_pipes:
                poll(block=True)
        finally:
            for process, receiver in children:
                if process.is_alive():
                    process.kill()
                process.join()
                receiver.close()
    return MatchResult(outcomes=tuple(sorted(outcomes, key=lambda o: o.game)), seconds=0.0, history=history)


def _play_share(
    batch: GameScheduler, cid: int, share: _Share, recorded: set[int], *, after_step: Callable[[], None]
) -> None:
    """Play chunks of the shared games until none is left: take a chunk whenever the batch has room for it."""
    exhausted = False
    while True:
        while not exhausted and batch.running + batch.queued < batch.batch_size:
            games = share.take()
            if not games:
                exhausted = True
                break
            batch.queue(cid, games, record=[g for g in games if g in recorded])
        if not batch.step():
            if exhausted:
                return
            continue
        after_step()


@dataclass(frozen=True)
class _ShareJob:
    """What a worker of a split match plays (inherited through the fork, never pickled)."""

    share: _Share
    scheduler: Callable[[], GameScheduler]
    players: Sequence[Player]
    seed: int
    mode: Mode
    recorded: set[int]


def _child(pipe: Connection, job: _ShareJob) -> None:
    """A worker: play chunks, send each step's finished games, then the recorded boards."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    try:
        finished: list[GameOutcome] = []
        with job.scheduler() as batch:
            players = job.players
            cid = batch.add(players[0], players[1:], seed=job.seed, mode=job.mode, on_game_end=finished.append)

            def send() -> None:
                if finished:
                    pipe.send(("games", list(finished)))
                    finished.clear()

            _play_share(batch, cid, job.share, job.recorded, after_step=send)
            send()
            pipe.send(("history", batch.result(cid).history))
        pipe.send(("done", None))
    except BaseException:
        pipe.send(("error", traceback.format_exc()))
        raise
    finally:
        pipe.close()


def _receive(
    pipe: Connection,
    collect: Callable[[GameOutcome], None],
    history: dict[int, list[dict[str, Any]]],
    children: Sequence[tuple[Any, Connection]],
) -> bool:
    """Handle one message of a worker; True when that worker is done."""
    kind, payload = _receive_raw(pipe, children)
    if kind == "games":
        for outcome in payload:
            collect(outcome)
    elif kind == "history":
        history.update(payload)
    return kind == "done"


def fork_map(
    function: Callable[[_Item], _Out],
    items: Sequence[_Item],
    *,
    workers: int,
    on_result: Callable[[int, _Out], object] | None = None,
) -> list[_Out]:
    """``[function(item) for item in items]``, the items shared by ``workers`` processes (this one too).

    Workers are forked from this process, so ``function`` and the items are inherited, not pickled;
    only results travel back. Each process takes the next item as it finishes one. ``on_result`` is
    called here with ``(index, result)`` as results arrive. Use it for work that only pure tensor
    snakes do (see the module doc).
    """
    results: dict[int, _Out] = {}

    def keep(index: int, result: _Out) -> None:
        results[index] = result
        if on_result is not None:
            on_result(index, result)

    if workers <= 1 or len(items) <= 1:
        for index, item in enumerate(items):
            keep(index, function(item))
        return [results[i] for i in range(len(items))]
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)

    def take() -> int:
        with counter.get_lock():
            index = counter.value
            counter.value = index + 1
        return index

    children: list[tuple[Any, Connection]] = []
    try:
        for _ in range(min(workers, len(items)) - 1):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_map_child, args=(sender, function, items, take), daemon=True)
            process.start()
            sender.close()
            children.append((process, receiver))
        open_pipes = [receiver for _, receiver in children]

        def poll(block: bool) -> None:
            for pipe in wait(open_pipes, timeout=None if block else 0):
                assert isinstance(pipe, Connection)
                kind, payload = _receive_raw(pipe, children)
                if kind == "item":
                    keep(*payload)
                elif kind == "done":
                    open_pipes.remove(pipe)

        while (index := take()) < len(items):
            keep(index, function(items[index]))
            poll(block=False)
        while open_pipes:
            poll(block=True)
    finally:
        for process, receiver in children:
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()
    return [results[i] for i in range(len(items))]


def _map_child(pipe: Connection, function: Callable[[Any], Any], items: Sequence[Any], take: Callable[[], int]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    try:
        while (index := take()) < len(items):
            pipe.send(("item", (index, function(items[index]))))
        pipe.send(("done", None))
    except BaseException:
        pipe.send(("error", traceback.format_exc()))
        raise
    finally:
        pipe.close()


def _receive_raw(pipe: Connection, children: Sequence[tuple[Any, Connection]]) -> tuple[str, Any]:
    """One message of a worker; a worker that failed or died raises here."""
    try:
        kind, payload = pipe.recv()
    except EOFError:
        process = next(p for p, r in children if r is pipe)
        process.join()
        raise WorkerProcessError(f"a worker process died (exit code {process.exitcode})") from None
    if kind == "error":
        raise WorkerProcessError(f"a worker process failed:\n{payload}")
    return kind, payload
