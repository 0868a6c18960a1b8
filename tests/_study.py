"""Helpers for end-to-end tests: tiny study specs and the real command line in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna

from optuna_clank.study.storage import open_storage

TINY_SPEC = """
[study]
name = "{name}"
n_trials = {n_trials}

[benchmark]
opponents = ["baseline"]
games_per_trial = {games}
round_size = 2
board_size = 7
max_turns = 200
seed = 7

[sampler]
name = "{sampler}"
use_llm = false
n_startup_trials = 3

[pruner]
name = "{pruner}"
n_startup_steps = 2

[parallel]
n_jobs = {n_jobs}

[storage]
heartbeat_interval = 1
grace_period = 3

[checkpoint]
interval = 0

[search_space]
"weights.space" = {{}}
"weights.food" = {{}}
"traps.critical" = {{}}
"late_game.turn_threshold" = {{}}
"""


def write_spec(
    folder: Path,
    name: str,
    *,
    n_trials: int = 3,
    games: int = 4,
    n_jobs: int = 1,
    sampler: str = "clank",
    pruner: str = "wilcoxon",
) -> Path:
    """A tiny, fast study spec (7x7 board, few games) in ``folder``."""
    path = folder / f"{name}.toml"
    path.write_text(
        TINY_SPEC.format(name=name, n_trials=n_trials, games=games, n_jobs=n_jobs, sampler=sampler, pruner=pruner)
    )
    return path


def cli_env() -> dict[str, str]:
    """The environment for CLI subprocesses: this interpreter's, with the project importable."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("OPENAI_API_KEY", None)
    return env


def run_cli(args: list[str], *, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """Run ``python -m optuna_clank ARGS`` and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "optuna_clank", *args],
        check=False,
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(args: list[str], *, cwd: Path) -> subprocess.Popen[str]:
    """Start ``python -m optuna_clank ARGS`` in the background."""
    return subprocess.Popen(
        [sys.executable, "-m", "optuna_clank", *args],
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def load(name: str, url: str) -> optuna.Study:
    """The study as stored (no sampler needed to read it)."""
    return optuna.load_study(study_name=name, storage=open_storage(url, heartbeat=None))


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def finished_count(name: str, url: str) -> int:
    """Finished (complete or pruned) trials of a study; 0 while it does not exist yet."""
    try:
        study = load(name, url)
    except KeyError:
        return 0
    return len(
        study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))
    )
