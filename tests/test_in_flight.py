"""Trials in flight: a slot's trials play their rounds in one shared batch, with the same results.

Real games (7x7 and 11x11 boards), a real SQLite study, Optuna's own samplers; the shared batch's
thread and the trials' threads are real threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

import optuna
import pytest
import torch
from _study import write_spec

from optuna_clank.arena.batch_service import BatchService
from optuna_clank.arena.match import play_match
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.gbc.schema import default_gbc_config
from optuna_clank.run.in_flight import CPU_ROWS, MAX_TRIALS_IN_FLIGHT, plan_in_flight
from optuna_clank.spec import find_spec, load_spec
from optuna_clank.study.storage import open_storage
from optuna_clank.trial.objective import ArenaObjective

optuna.logging.set_verbosity(optuna.logging.WARNING)

SEVEN = (7, 7)


def _service(batch_size: int = 64, board: tuple[int, int] = SEVEN) -> BatchService:
    return BatchService(board_size=board, max_turns=200, device="cpu", batch_size=batch_size)


def test_streams_in_threads_get_exactly_the_outcomes_of_playing_alone() -> None:
    configs = [default_gbc_config().with_values({"weights.space": 5.0 * (i + 1)}) for i in range(3)]
    rounds = [list(range(r * 6, r * 6 + 6)) for r in range(3)]
    alone = [
        [
            play_match(GbcSnake(c), "baseline", games=g, seed=5, board_size=11, max_turns=200, batch_size=6).outcomes
            for g in rounds
        ]
        for c in configs
    ]
    together: list[list[tuple]] = [[] for _ in configs]
    with _service(board=(11, 11)) as service:

        def trial(i: int) -> None:
            with service.stream(GbcSnake(configs[i]), [["baseline"]], seed=5) as stream:
                stream.queue(rounds[0])
                for r, games in enumerate(rounds):
                    if r + 1 < len(rounds):
                        stream.queue(rounds[r + 1])  # one round ahead, as a trial does
                    result = stream.wait(games)
                    assert result is not None
                    together[i].append(result.outcomes)

        threads = [threading.Thread(target=trial, args=(i,)) for i in range(len(configs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert together == alone


def test_a_tournament_stream_numbers_its_outcomes_by_step_and_records_boards() -> None:
    games = 4
    with _service() as service:
        route = lambda step: divmod(step, games)  # noqa: E731 - step = opponent * games + game
        with service.stream(GbcSnake(default_gbc_config()), [["baseline"], ["random-safe"]], route=route, seed=2) as s:
            s.queue([0, 5, 6], record=[5])
            result = s.wait([0, 5, 6])
    assert result is not None
    assert [o.game for o in result.outcomes] == [0, 5, 6]
    assert [o.opponents for o in result.outcomes] == [("baseline",), ("random-safe",), ("random-safe",)]
    assert set(result.history) == {5} and result.history[5]
    alone = play_match(GbcSnake(default_gbc_config()), "random-safe", games=[1, 2], seed=2, board_size=7, max_turns=200)
    assert [o._replace(game=o.game + games) for o in alone.outcomes] == list(result.outcomes[1:])


def test_a_wait_gives_up_when_the_run_is_stopping_and_a_closed_stream_frees_its_rows() -> None:
    with _service(batch_size=4) as service:
        stream = service.stream(GbcSnake(default_gbc_config()), [["baseline"]], seed=1)
        stream.queue(range(40))
        assert stream.wait(range(40), should_stop=lambda: True) is None
        stream.close()
        other = service.stream(GbcSnake(default_gbc_config()), [["baseline"]], seed=1)
        other.queue([0])
        result = other.wait([0])  # gets a row although the closed stream queued 40 games first
        assert result is not None and len(result.outcomes) == 1
        other.close()


class _Broken(Player):
    name = "broken"

    def choose(self, view: object, seats: Seats) -> torch.Tensor:
        raise RuntimeError("the snake broke")


def test_a_failing_snake_fails_the_trials_in_the_batch_and_the_service_goes_on() -> None:
    with _service() as service:
        broken = service.stream(_Broken(), [["baseline"]], seed=1)
        broken.queue([0, 1])
        with pytest.raises(RuntimeError, match="the snake broke"):
            broken.wait([0, 1])
        broken.close()
        fine = service.stream(GbcSnake(default_gbc_config()), [["baseline"]], seed=1)
        fine.queue([0, 1])
        result = fine.wait([0, 1])
        assert result is not None and len(result.outcomes) == 2
        fine.close()


def test_trials_in_flight_give_each_trial_exactly_its_values_of_one_at_a_time(tmp_path: Path) -> None:
    """Common random numbers: a trial's games and value do not depend on what shares its batch."""
    spec = load_spec(write_spec(tmp_path, "same", n_trials=6, games=12, pruner="none")).with_overrides(round_size=4)
    params = [
        {
            "weights.space": 1.0 + 3 * i,
            "weights.food": 2.0 + i,
            "traps.critical": 50.0,
            "late_game.turn_threshold": 100 + 10 * i,
        }
        for i in range(6)
    ]

    def run(name: str, objective: ArenaObjective, n_jobs: int) -> dict[int, tuple]:
        storage = open_storage(f"sqlite:///{tmp_path / f'{name}.db'}")  # BEGIN IMMEDIATE: a queued trial runs once
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
        for p in params:
            study.enqueue_trial(p)
        study.optimize(objective, n_trials=len(params), n_jobs=n_jobs)
        trials = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
        assert len(trials) == len(params)
        return {
            params.index(t.params): (
                t.value,
                t.user_attrs["wins"],
                t.user_attrs["games_played"],
                t.user_attrs["avg_turns"],
            )
            for t in trials
        }

    one_at_a_time = run("alone", ArenaObjective(spec), n_jobs=1)
    bench = spec.benchmark
    with BatchService(board_size=bench.board_size, max_turns=bench.max_turns, device="cpu", batch_size=64) as service:
        in_flight = run("together", ArenaObjective(spec, batch=service, rounds_ahead=2), n_jobs=6)
    assert in_flight == one_at_a_time


def test_the_plan_fills_the_batch_with_few_trials_and_leaves_served_snakes_alone(tmp_path: Path) -> None:
    main = load_spec(find_spec("v2"))  # 200 games per trial in rounds of 40
    plan = plan_in_flight(main, "cpu")
    assert plan.shared and plan.rounds_ahead == 2
    assert plan.trials * (plan.rounds_ahead + 1) * main.benchmark.round_size >= CPU_ROWS
    assert plan.trials <= MAX_TRIALS_IN_FLIGHT
    assert plan_in_flight(main, "cpu", slots=2, target=16).trials == 2  # a quarter of the slot's share at most
    assert plan_in_flight(main, "cpu", slots=2, target=3).trials == 1
    assert plan_in_flight(main.with_overrides(trials_in_flight=1), "cpu").trials == 1
    assert plan_in_flight(main, "cuda:0").trials >= plan.trials
    served = main.with_overrides(opponents=["url:http://127.0.0.1:9"])
    assert not plan_in_flight(served, "cpu").shared  # a server plays at its own speed, a trial at a time
