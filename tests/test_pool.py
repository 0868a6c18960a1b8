"""The slot pool: N trials at once, exact trial counts, exclusive slots, survival of kill -9."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest
from _study import finished_count, load, run_cli, start_cli, wait_for, write_spec
from optuna.trial import TrialState

from optuna_clank.core.devices import slot_for, visible_cuda_devices
from optuna_clank.run.in_flight import plan_in_flight
from optuna_clank.run.pool import plan_slots
from optuna_clank.spec import load_spec

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_pool_of_four_runs_exactly_twenty_trials_with_exclusive_slots(tmp_path: Path, storage_url: str) -> None:
    spec = write_spec(tmp_path, "pool", n_trials=20, n_jobs=4, games=2)
    result = run_cli(["optimize", "--spec", str(spec), "--storage", storage_url, "--quiet"], cwd=tmp_path, timeout=400)
    assert result.returncode == 0, result.stderr
    assert "database is locked" not in result.stderr
    study = load("pool", storage_url)
    finished = study.get_trials(states=FINISHED)
    assert len(finished) == 20
    numbers = [t.number for t in study.trials]
    assert len(numbers) == len(set(numbers))
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))
    by_slot: dict[int, list] = {}
    for trial in study.trials:
        if trial.datetime_start is not None:
            by_slot.setdefault(trial.user_attrs["slot"], []).append(trial)
    assert set(by_slot) == {0, 1, 2, 3}  # every slot worked
    in_flight = plan_in_flight(load_spec(spec), "cpu", slots=4, target=20).trials
    for slot, trials in by_slot.items():
        assert {t.user_attrs["device"] for t in trials} == {"cpu"}
        assert len({t.user_attrs["worker_pid"] for t in trials}) == 1  # one worker process per slot
        assert _most_at_once(trials) <= in_flight, f"slot {slot} ran more than {in_flight} trials at once"


def _most_at_once(trials: list) -> int:
    """The most trials running at the same moment (a trial ends before one starting that instant)."""
    events = sorted([(t.datetime_start, 1) for t in trials] + [(t.datetime_complete, -1) for t in trials])
    most = running = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most


def test_slot_to_device_mapping_follows_visible_gpus() -> None:
    assert visible_cuda_devices({"CUDA_VISIBLE_DEVICES": "0,1,2"}) == 3
    assert visible_cuda_devices({"CUDA_VISIBLE_DEVICES": "3,5"}) == 2
    assert visible_cuda_devices({"CUDA_VISIBLE_DEVICES": ""}) == 0
    assert visible_cuda_devices({"CUDA_VISIBLE_DEVICES": "1,-1,2"}) == 1  # CUDA stops at the first invalid id
    assert visible_cuda_devices({}) == 0
    gpus = visible_cuda_devices({"CUDA_VISIBLE_DEVICES": "4,5,6"})
    slots = plan_slots(8, gpus)
    assert [s.device for s in slots] == ["cuda:0", "cuda:1", "cuda:2", "cuda:0", "cuda:1", "cuda:2", "cuda:0", "cuda:1"]
    assert all(s.shared for s in slots)
    assert [s.device for s in plan_slots(2, 4)] == ["cuda:0", "cuda:1"] and not plan_slots(2, 4)[0].shared
    assert {slot_for(k, n_slots=8, cuda_devices=0).device for k in range(8)} == {"cpu"}


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_kill_9_of_one_worker_leaves_the_others_running(tmp_path: Path, sqlite_url: str) -> None:
    spec = write_spec(tmp_path, "fault", n_trials=9, n_jobs=3, games=10)
    run = start_cli(["optimize", "--spec", str(spec), "--storage", sqlite_url, "--quiet"], cwd=tmp_path)

    def victim_running() -> bool:
        if finished_count("fault", sqlite_url) < 1:
            return False
        study = load("fault", sqlite_url)
        running = [t for t in study.trials if t.state == TrialState.RUNNING and t.intermediate_values]
        return len(running) >= 2

    wait_for(victim_running, timeout=240, what="two trials in the middle of their games")
    study = load("fault", sqlite_url)
    victim = next(t for t in study.trials if t.state == TrialState.RUNNING and t.intermediate_values)
    killed_at = datetime.now()
    os.kill(victim.user_attrs["worker_pid"], signal.SIGKILL)
    _, stderr = run.communicate(timeout=400)
    assert run.returncode == 0, stderr
    assert "killed by signal 9" in stderr  # the supervisor noticed and restarted the slot

    study = load("fault", sqlite_url)
    assert len(study.get_trials(states=FINISHED)) == 9
    assert study.trials[victim.number].state == TrialState.FAIL
    retried = [t for t in study.trials if t.number > victim.number and t.params == victim.params]
    assert retried and retried[0].state in FINISHED
    others = [
        t
        for t in study.trials
        if t.user_attrs.get("slot") != victim.user_attrs["slot"]
        and t.datetime_start < killed_at
        and t.datetime_complete is not None
        and t.datetime_complete > killed_at
        and t.state in FINISHED
    ]
    assert others, "no other worker's trial ran through the kill"
    assert not study.get_trials(states=(TrialState.RUNNING, TrialState.WAITING))


@pytest.mark.postgres
@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_two_worker_commands_join_one_postgres_study(tmp_path: Path, postgres_url: str) -> None:
    spec = write_spec(tmp_path, "shared", n_trials=8, n_jobs=1, games=4)
    first = start_cli(["worker", "--spec", str(spec), "--storage", postgres_url], cwd=tmp_path)
    time.sleep(1.0)
    second = start_cli(["worker", "--spec", str(spec), "--storage", postgres_url], cwd=tmp_path)
    for process in (first, second):
        _, stderr = process.communicate(timeout=400)
        assert process.returncode == 0, stderr
    study = load("shared", postgres_url)
    assert len(study.get_trials(states=FINISHED)) == 8
    workers = {t.user_attrs["worker_pid"] for t in study.get_trials(states=FINISHED)}
    assert len(workers) == 2, "both worker commands contributed trials"


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_dask_backend_runs_the_slots_on_a_dask_cluster(tmp_path: Path, sqlite_url: str) -> None:
    pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'optuna-clank[dask]')")
    spec = write_spec(tmp_path, "dasked", n_trials=4, n_jobs=2, games=2)
    result = run_cli(
        ["optimize", "--spec", str(spec), "--storage", sqlite_url, "--backend", "dask", "--quiet"],
        cwd=tmp_path,
        timeout=400,
    )
    assert result.returncode == 0, result.stderr
    study = load("dasked", sqlite_url)
    assert len(study.get_trials(states=FINISHED)) == 4
    assert {t.user_attrs["slot"] for t in study.get_trials(states=FINISHED)} <= {0, 1}
