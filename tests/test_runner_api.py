"""run_study from Python: a real study in a real SQLite file, run in this process and resumed."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from _study import load, write_spec
from optuna.trial import TrialState

from optuna_clank.errors import UserError
from optuna_clank.results import status
from optuna_clank.runner import run_study
from optuna_clank.spec import load_spec


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
