"""Ctrl-C through the real command line: real processes, real signals, a real SQLite study.

The first SIGINT finishes the running trial; a second one (more than a second later) stops it
and queues it again with the same parameters; two signals at once count as one press.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from _study import load, run_cli, start_cli, wait_for, write_spec
from optuna.trial import TrialState

from optuna_clank.core.control import PRESS_WINDOW

STOP_LINE = "stopping after the running trials finish"
ABORT_LINE = "stopping the running trials now"


class _Lines:
    """Collects a process's stderr lines as they come (a thread, so the test never blocks)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stderr is not None
        self._thread = threading.Thread(target=self._read, args=(process.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def text(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lines)


def _playing(name: str, url: str) -> bool:
    try:
        study = load(name, url)
    except KeyError:
        return False
    return any(t.state == TrialState.RUNNING and t.intermediate_values for t in study.trials)


def _start(tmp_path: Path, name: str, url: str, games: int) -> tuple[subprocess.Popen[str], _Lines]:
    spec = write_spec(tmp_path, name, n_trials=5, games=games, pruner="none")
    run = start_cli(["optimize", "--spec", str(spec), "--storage", url, "--quiet"], cwd=tmp_path)
    lines = _Lines(run)
    wait_for(lambda: _playing(name, url), timeout=120, what="a trial in the middle of its games")
    return run, lines


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_second_ctrl_c_stops_the_trials_in_flight_and_queues_them_again(tmp_path: Path, sqlite_url: str) -> None:
    run, lines = _start(tmp_path, "again", sqlite_url, games=400)
    run.send_signal(signal.SIGINT)
    wait_for(lambda: lines.has(STOP_LINE), timeout=60, what="the first press to be taken")
    time.sleep(PRESS_WINDOW + 0.5)  # a second, separate press
    run.send_signal(signal.SIGINT)
    run.wait(timeout=120)
    stderr = lines.text()
    assert run.returncode == 130, stderr
    study = load("again", sqlite_url)
    victims = [t for t in study.trials if t.state == TrialState.FAIL]  # every trial in flight stops
    assert victims
    assert ABORT_LINE in stderr and "queued again as trial" in stderr
    assert f"{len(victims)} queued (the next run" in stderr
    for victim in victims:
        assert "stopped by the user" in victim.user_attrs["aborted"]
        assert victim.user_attrs["games_played"] < 400
    queued = {t.system_attrs["failed_trial"]: t for t in study.trials if t.state == TrialState.WAITING}
    assert set(queued) == {v.number for v in victims}
    for victim in victims:
        assert queued[victim.number].params == victim.params and queued[victim.number].number > victim.number
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]

    spec = tmp_path / "again.toml"
    finished = len([t for t in study.trials if t.state.is_finished() and t.state != TrialState.FAIL])
    target = str(finished + len(victims))
    rerun = run_cli(
        ["optimize", "--spec", str(spec), "--storage", sqlite_url, "--n-trials", target, "--games", "4"], cwd=tmp_path
    )
    assert rerun.returncode == 0, rerun.stderr
    after = load("again", sqlite_url).trials
    for victim in victims:
        replayed = after[queued[victim.number].number]
        assert replayed.state in (TrialState.COMPLETE, TrialState.PRUNED) and replayed.params == victim.params


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_two_signals_at_once_are_one_press(tmp_path: Path, sqlite_url: str) -> None:
    run, lines = _start(tmp_path, "once", sqlite_url, games=40)
    run.send_signal(signal.SIGINT)
    wait_for(lambda: lines.has(STOP_LINE), timeout=60, what="the first signal to be taken")
    run.send_signal(signal.SIGINT)  # right behind it: the same press, as `timeout -s INT` or a process group sends
    run.wait(timeout=180)
    stderr = lines.text()
    assert run.returncode == 0, stderr
    assert ABORT_LINE not in stderr
    study = load("once", sqlite_url)
    assert not [t for t in study.trials if t.state in (TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING)]
    assert [t for t in study.trials if t.state == TrialState.COMPLETE]
