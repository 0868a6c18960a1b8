"""run_study from Python: a real study in a real SQLite file, run in this process and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _study import cli_env, finished_count, load, wait_for, write_spec
from optuna.trial import TrialState

from optuna_clank.core.attributes import WORKER_PID_KEY
from optuna_clank.core.errors import UserError
from optuna_clank.run.runner import run_study
from optuna_clank.spec import load_spec
from optuna_clank.study.results import status


def test_run_study_runs_resumes_and_stops_at_its_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # trial artifacts go to ./storage
    path = write_spec(tmp_path, "api", n_trials=2, games=2, sampler="random", pruner="none")
    url = f"sqlite:///{tmp_path / 'api.db'}"
    handler_before = signal.getsignal(signal.SIGINT)
    said: list[str] = []

    first = run_study(load_spec(path), storage_url=url, say=said.append)
    assert (first.ended, first.before.finished, first.after.finished, first.ran) == ("target reached", 0, 2, 2)
    assert signal.getsignal(signal.SIGINT) is handler_before  # Ctrl-C is the caller's again
    assert any(line.startswith("study api on SQLite file") for line in said)
    stored = load("api", url)
    assert [t.number for t in stored.trials if t.state == TrialState.COMPLETE] == [0, 1]
    assert stored.trials[0].user_attrs["proposal_source"] == "base"  # a new study starts from the base config

    more = run_study(load_spec(path), n_trials=3, storage_url=url, say=said.append)
    assert (more.ended, more.before.finished, more.after.finished) == ("target reached", 2, 3)
    assert [t.number for t in load("api", url).trials] == [0, 1, 2]  # numbers continue: resumed, not restarted

    done = run_study(load_spec(path), n_trials=3, storage_url=url)
    assert (done.ended, done.ran, done.slots) == ("already done", 0, ())
    assert len(load("api", url).trials) == 3

    report = status(done.study, last=2)
    assert (report.trials.complete, report.total_trials, report.best_kind) == (3, 3, "raw")
    assert [t.number for t in report.last_trials] == [1, 2]
    shown = json.loads(json.dumps(report.to_json()))  # what `status --json` prints
    assert shown["trials"]["complete"] == 3 and shown["best_kind"] == "raw"
    assert [t["number"] for t in shown["last_trials"]] == [1, 2]
    assert shown["best"]["number"] == report.best.trial.number


def test_a_spec_changed_in_memory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_spec(tmp_path, "edited", n_trials=1, games=2)
    changed = load_spec(path).with_overrides(games_per_trial=3)  # the worker processes would not see this
    with pytest.raises(UserError, match="differs from its file"):
        run_study(changed, storage_url=f"sqlite:///{tmp_path / 'edited.db'}")
    assert not (tmp_path / "edited.db").exists()  # refused before anything was created


@pytest.mark.slow  # two runs on one study at once: nox -s e2e
def test_this_run_counts_its_own_trials_while_another_process_runs_the_same_study(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_spec(tmp_path, "shared", n_trials=12, games=6, sampler="random", pruner="none")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    other = subprocess.Popen(
        [sys.executable, "-m", "optuna_clank", "worker", "--spec", str(path), "--storage", url, "--n-jobs", "1"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: finished_count("shared", url) >= 1, timeout=240, what="the other process's first trial")
        run = run_study(load_spec(path), storage_url=url, n_jobs=1)
        _, err = other.communicate(timeout=300)
    finally:
        if other.poll() is None:
            other.kill()
            other.wait()
    mine = [
        t
        for t in load("shared", url).get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
        if t.user_attrs.get(WORKER_PID_KEY) == os.getpid()  # a one-slot run plays in this process
    ]
    theirs_meanwhile = run.after.finished - run.before.finished - len(mine)
    assert theirs_meanwhile > 0, "the other process must finish trials during this run, or nothing is shown"
    assert run.ran == len(mine)
    other_ran = int(err.split("this run: ")[1].split()[0])
    assert run.ran + other_ran == run.after.finished == 12  # each process counts its own, together all
