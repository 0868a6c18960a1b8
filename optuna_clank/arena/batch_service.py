"""One continuous batch shared by the trials a slot runs at once, served by a thread of its own.

A study's trial plays its games a round at a time so that the pruner can stop it early; a round
(10-40 games) alone is far too small a batch for the engine (games/s grows about 8x from a batch of
20 to one of 640 on one CPU core, and far more on a GPU). So a slot runs several trials at once
(threads of its worker process) and each trial hands its rounds to one :class:`BatchService`: a
thread that owns a :class:`~optuna_clank.arena.scheduler.GameScheduler` and plays the queued games
of every trial in one continuously refilled batch, each row with its own trial's snake. A trial
waits only for the games of the round it needs next (:meth:`GameStream.wait`); it may queue the
next rounds ahead (:meth:`GameStream.queue`), so that the batch stays full while it decides whether
to go on, and drop them when it is pruned (:meth:`GameStream.close`).

Common random numbers hold whatever shares the batch (see the scheduler): a trial's outcomes are
exactly those of playing its rounds alone.

Every scheduler call happens on the service's thread; trials talk to it through a queue of
commands, and wait on their stream's condition for the games they need.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from optuna_clank.arena.bounds import Mode
from optuna_clank.arena.outcome import GameOutcome, MatchResult
from optuna_clank.arena.players import Player
from optuna_clank.arena.scheduler import GameScheduler, Opponent

Route = Callable[[int], tuple[int, int]]
"""A step of a trial -> (line, game): which of its opponent lines plays it, as which game index."""

_Command = tuple["GameStream", Callable[[GameScheduler], None]]
_POLL_SECONDS = 0.25


class BatchService:
    """A thread that plays the games of every open :class:`GameStream` in one batch.

    Args:
        board_size: ``(width, height)`` of every game.
        max_turns: turn cap; a game still running then is a draw.
        device: torch device of the batch.
        batch_size: rows of the batch (games played at once).
    """

    def __init__(
        self, *, board_size: tuple[int, int], max_turns: int, device: str | torch.device, batch_size: int
    ) -> None:
        self._new_scheduler = functools.partial(
            GameScheduler, board_size=board_size, max_turns=max_turns, device=device, batch_size=batch_size
        )
        self._commands: queue.SimpleQueue[_Command | None] = queue.SimpleQueue()
        self._streams: set[GameStream] = set()  # open streams (touched by the service thread only)
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="batch-service", daemon=True)
        self._thread.start()

    def stream(
        self,
        player: Player,
        lines: Sequence[Sequence[Opponent]],
        *,
        route: Route | None = None,
        seed: int,
        mode: Mode = "duel",
    ) -> GameStream:
        """A trial's games: ``player`` against each line of opponents (one line, or a tournament's
        one per opponent); ``route`` maps a step to its line and game (default: line 0, game = step)."""
        if self._closed:
            raise RuntimeError("the batch service is closed")
        return GameStream(self, player, [tuple(line) for line in lines], route or _one_line, seed=seed, mode=mode)

    def close(self) -> None:
        """Stop the thread; open streams fail (their waits raise)."""
        if not self._closed:
            self._closed = True
            self._commands.put(None)
            self._thread.join()

    def __enter__(self) -> BatchService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _submit(self, stream: GameStream, command: Callable[[GameScheduler], None]) -> None:
        if self._closed:
            raise RuntimeError("the batch service is closed")
        self._commands.put((stream, command))

    def _next_command(self) -> _Command | tuple[()] | None:
        try:
            return self._commands.get_nowait()
        except queue.Empty:
            return ()

    def _serve(self) -> None:
        scheduler = self._new_scheduler()
        try:
            while True:
                item: _Command | tuple[()] | None
                # idle: sleep until a trial asks for games
                item = self._next_command() if scheduler.busy else self._commands.get()
                stop = False
                while item != ():
                    if item is None:
                        stop = True
                    elif len(item) == 2:
                        stream, command = item
                        try:
                            command(scheduler)
                        except Exception as exc:  # a bad request fails its own trial, not the batch
                            stream._fail(exc)
                    item = self._next_command()
                if stop:
                    break
                if scheduler.busy:
                    try:
                        scheduler.step()
                    except Exception as exc:  # every game in the batch is lost: fail their trials
                        for stream in list(self._streams):
                            stream._fail(exc, forget=True)
                        self._streams.clear()
                        scheduler.close()
                        scheduler = self._new_scheduler()
        finally:
            error = RuntimeError("the batch service stopped")
            for stream in list(self._streams):
                stream._fail(error)
            scheduler.close()


class GameStream:
    """One trial's games in a :class:`BatchService`: queue steps, wait for those a round needs."""

    def __init__(
        self,
        service: BatchService,
        player: Player,
        lines: list[tuple[Opponent, ...]],
        route: Route,
        *,
        seed: int,
        mode: Mode,
    ) -> None:
        self._service = service
        self._player = player
        self._lines = lines
        self._route = route
        self._seed = seed
        self._mode = mode
        self._ids: dict[int, int] = {}  # line -> the scheduler's candidate id (service thread only)
        self._steps: dict[tuple[int, int], int] = {}  # (line, game) -> step
        self._recorded: set[int] = set()
        self._condition = threading.Condition()
        self._done: dict[int, tuple[GameOutcome, list[dict[str, Any]] | None]] = {}
        self._error: Exception | None = None
        self._started = time.perf_counter()
        self._closed = False

    def queue(self, steps: Sequence[int], *, record: Iterable[int] = ()) -> None:
        """Queue these steps' games (played in the order queued); ``record`` keeps their boards."""
        recorded = set(record)
        by_line: dict[int, list[int]] = {}
        for step in steps:
            line, game = self._route(step)
            self._steps[(line, game)] = step
            by_line.setdefault(line, []).append(game)
        self._recorded.update(recorded)
        self._service._submit(self, lambda scheduler: self._queue_in(scheduler, by_line, recorded))

    def wait(self, steps: Sequence[int], *, should_stop: Callable[[], bool] | None = None) -> MatchResult | None:
        """The outcomes of these (queued) steps once all have finished, numbered by step; ``None``
        when ``should_stop`` turns true first (polled every quarter second)."""
        wanted = list(steps)
        with self._condition:
            while self._error is None and any(step not in self._done for step in wanted):
                if should_stop is not None and should_stop():
                    return None
                self._condition.wait(_POLL_SECONDS)
            if self._error is not None:
                raise self._error
            found = [self._done[step] for step in wanted]
        history = {o.game: frames for o, frames in found if frames is not None}
        outcomes = tuple(sorted((o for o, _ in found), key=lambda o: o.game))
        return MatchResult(outcomes=outcomes, seconds=time.perf_counter() - self._started, history=history)

    def close(self) -> None:
        """Drop the games not played yet (a pruned or finished trial frees its rows at once)."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(RuntimeError):  # the service is gone, and the games with it
                self._service._submit(self, self._remove_in)

    def __enter__(self) -> GameStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- on the service's thread -----------------------------------------------------------------

    def _queue_in(self, scheduler: GameScheduler, by_line: dict[int, list[int]], recorded: set[int]) -> None:
        self._service._streams.add(self)
        for line, games in sorted(by_line.items()):
            keep = [g for g in games if self._steps[(line, g)] in recorded]
            cid = self._ids.get(line)
            if cid is None:
                self._ids[line] = scheduler.add(
                    self._player,
                    self._lines[line],
                    seed=self._seed,
                    mode=self._mode,
                    games=games,
                    record=keep,
                    on_game_end=self._arrival(scheduler, line),
                )
            else:
                scheduler.queue(cid, games, record=keep)

    def _arrival(self, scheduler: GameScheduler, line: int) -> Callable[[GameOutcome], None]:
        def arrived(outcome: GameOutcome) -> None:
            step = self._steps[(line, outcome.game)]
            frames = scheduler.frames(self._ids[line], outcome.game) if step in self._recorded else None
            with self._condition:
                self._done[step] = (outcome._replace(game=step), frames)
                self._condition.notify_all()

        return arrived

    def _remove_in(self, scheduler: GameScheduler) -> None:
        self._service._streams.discard(self)
        for cid in self._ids.values():
            scheduler.remove(cid)
        self._ids.clear()

    def _fail(self, error: Exception, *, forget: bool = False) -> None:
        if forget:  # the scheduler that held this stream's games is gone
            self._ids.clear()
        with self._condition:
            self._error = error
            self._condition.notify_all()


def _one_line(step: int) -> tuple[int, int]:
    return 0, step
