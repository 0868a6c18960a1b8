"""Torch thread counts: one per arena process, so a shared machine slows the arena down gently.

Real subprocesses: ``play`` reports the count it used, pool workers record theirs on every
trial, and ``OPTUNA_CLANK_TORCH_THREADS`` overrides it (a bad value is one error line).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _study import cli_env, load, run_cli, write_spec

from optuna_clank.core.errors import UserError
from optuna_clank.core.threads import THREADS_ENV_VAR, torch_threads


def _play(tmp_path: Path, env_threads: str | None) -> subprocess.CompletedProcess[str]:
    env = cli_env()
    env.pop(THREADS_ENV_VAR, None)
    if env_threads is not None:
        env[THREADS_ENV_VAR] = env_threads
    return subprocess.run(
        [sys.executable, "-m", "optuna_clank", "play", "--games", "2", "--board-size", "7", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )


def test_play_uses_one_thread_and_says_so(tmp_path: Path) -> None:
    result = _play(tmp_path, None)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["torch_threads"] == 1


def test_the_environment_overrides_the_thread_count(tmp_path: Path) -> None:
    result = _play(tmp_path, "2")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["torch_threads"] == 2


def test_a_bad_thread_count_is_one_error_line(tmp_path: Path) -> None:
    result = _play(tmp_path, "lots")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: {THREADS_ENV_VAR} must be a positive integer, got 'lots'"]


def test_thread_count_reader() -> None:
    assert torch_threads({}) == 1
    assert torch_threads({THREADS_ENV_VAR: " 4 "}) == 4
    for bad in ("0", "-1", "2.5"):
        with pytest.raises(UserError):
            torch_threads({THREADS_ENV_VAR: bad})


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the old rule also gave one thread")
def test_a_single_worker_does_not_take_every_core(tmp_path: Path) -> None:
    """The old rule gave a lone worker cores/1 threads, which spin when another process holds a core."""
    spec = write_spec(tmp_path, "threads", n_trials=1, games=2, sampler="random")
    result = run_cli(["optimize", "--spec", str(spec), "--quiet"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    trials = load("threads", f"sqlite:///{tmp_path / 'storage' / 'threads.db'}").trials
    assert [t.user_attrs["torch_threads"] for t in trials] == [1]
