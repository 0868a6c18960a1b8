"""Matches split over forked worker processes: the same games, outcomes and boards as in one process.

Real processes throughout: ``play_match(processes=2)`` forks a worker that plays a share of the
games beside this process; a worker that fails or dies is reported, never silently dropped.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import torch
from _configs import gbc_config, heuristic_config

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.http.player import HttpSnake
from optuna_clank.arena.match import play_match
from optuna_clank.arena.players import Seats
from optuna_clank.arena.processes import (
    MIN_GAMES_PER_PROCESS,
    WorkerProcessError,
    busy_elsewhere,
    fork_map,
    process_count,
    usable_cores,
)
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.inspect.snake_target import BuiltinTarget

GAMES = 2 * MIN_GAMES_PER_PROCESS + 10


def test_two_processes_play_the_games_of_one() -> None:
    options = {"games": GAMES, "seed": 4, "board_size": 7, "max_turns": 150, "record": [5, 100]}
    seen: Counter[int] = Counter()
    split = play_match(
        HeuristicSnake(heuristic_config(1)),
        "baseline",
        processes=2,
        on_game_end=lambda o: seen.update([o.game]),
        **options,
    )
    one = play_match(HeuristicSnake(heuristic_config(1)), "baseline", processes=1, **options)
    assert split.processes == 2 and one.processes == 1
    assert split.outcomes == one.outcomes and [o.game for o in split.outcomes] == list(range(GAMES))
    assert split.history == one.history and set(split.history) == {5, 100}
    assert seen == Counter(range(GAMES))  # every game reported once, the worker's too, as they finished


def test_free_for_all_of_gbc_splits_too() -> None:
    opponents = ["baseline", "greedy-food", "random-safe"]
    options = {"games": GAMES, "seed": 9, "board_size": 7, "max_turns": 120, "mode": "free-for-all"}
    split = play_match(GbcSnake(gbc_config(5)), opponents, processes=2, **options)
    assert split.processes == 2
    assert split.outcomes == play_match(GbcSnake(gbc_config(5)), opponents, **options).outcomes


def test_what_cannot_be_split_stays_in_one_process() -> None:
    cpu, players = torch.device("cpu"), [HeuristicSnake(), BaselineSnake()]
    assert process_count(4, players, 4 * MIN_GAMES_PER_PROCESS, cpu) == 4
    assert process_count(4, players, 2 * MIN_GAMES_PER_PROCESS + 1, cpu) == 2  # a share of some size each
    assert process_count(4, players, MIN_GAMES_PER_PROCESS, cpu) == 1
    cores = usable_cores()
    assert cores == len(os.sched_getaffinity(0))
    assert process_count("auto", players, 10_000, cpu, busy=0) == cores  # an idle machine: every core
    assert process_count("auto", players, 10_000, cpu, busy=1) == max(1, cores - 1)  # one core taken elsewhere
    assert process_count("auto", players, 10_000, cpu, busy=8) == 1  # a saturated machine: no split
    assert 1 <= process_count("auto", players, 10_000, cpu) <= cores  # as the machine is now
    assert busy_elsewhere() >= 0
    assert process_count(4, players, 10_000, torch.device("cuda")) == 1  # a GPU batch: one process feeds it
    server = HttpSnake("http://127.0.0.1:9")  # never connected: a server's player holds a connection
    assert server.holds_process_resources and not HeuristicSnake().holds_process_resources
    assert process_count(4, [players[0], server], 10_000, cpu) == 1
    with pytest.raises(ValueError, match="positive"):
        process_count(0, players, 10_000, cpu)


class _FailsInAWorker(BaselineSnake):
    """Plays as baseline in the process that made it and fails in any other."""

    def __init__(self) -> None:
        self.home = os.getpid()

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        if os.getpid() != self.home:
            raise RuntimeError("broken in the worker")
        return super().choose(view, seats)


def test_a_failing_worker_is_reported_with_its_traceback() -> None:
    with pytest.raises(WorkerProcessError, match="broken in the worker"):
        play_match(_FailsInAWorker(), "baseline", games=GAMES, seed=1, board_size=7, max_turns=100, processes=2)


def _square(value: int) -> int:
    if value == 13 and os.getpid() != _HOME:
        os._exit(3)  # a worker that dies without a word
    return value * value


_HOME = os.getpid()


def test_fork_map_keeps_the_order_and_reports_a_dead_worker() -> None:
    arrived: list[int] = []
    assert fork_map(_square, range(12), workers=2, on_result=lambda i, _: arrived.append(i)) == [
        v * v for v in range(12)
    ]
    assert sorted(arrived) == list(range(12))
    with pytest.raises(WorkerProcessError, match="died"):
        for _ in range(20):  # until the worker, not this process, takes item 13
            fork_map(_square, range(40), workers=2)


def test_probe_variants_scored_together_equal_each_variant_alone() -> None:
    from optuna_clank.inspect.positions import recorded_positions

    requests = recorded_positions(150, board_size=(7, 7))
    target = BuiltinTarget("gbc", None)
    variants = [
        {},
        *({"weights.straight_movement": 10.0 * v} for v in range(1, 160)),
    ]  # 24,000 moves: split over processes
    together = target.answer_variants(requests, variants)
    for index in (0, 1, 57, 159):
        assert together[index] == target.answer(requests, variants[index])
    assert together[0] != together[159] or together[0] != together[1]  # the variants do differ somewhere
