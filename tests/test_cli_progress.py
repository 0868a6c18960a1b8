"""What ``optimize`` says while it runs: a line per start-up phase, checkpoints only on change."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from _study import cli_env, run_cli, write_spec


def test_start_up_phases_are_announced_in_order(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "phases", n_trials=2, games=2, sampler="random")
    result = run_cli(["optimize", "--spec", str(spec), "--quiet"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    starting = next(i for i, line in enumerate(lines) if "starting the worker in this process" in line)
    ready = next(i for i, line in enumerate(lines) if "workers ready: first trial running after" in line)
    summary = next(i for i, line in enumerate(lines) if line.startswith("study phases: 2 finished"))
    assert starting < ready < summary


@pytest.mark.slow  # an end-to-end run: nox -s e2e (test_secrets runs a 2-process pool and checks this line too)
def test_a_pool_run_announces_its_worker_processes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "pool", n_trials=2, games=2, n_jobs=2, sampler="random")
    result = run_cli(["optimize", "--spec", str(spec), "--quiet"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "starting 2 worker process(es)" in result.stderr
    assert "workers ready: first trial running after" in result.stderr


def test_a_checkpoint_line_is_printed_only_when_the_best_changes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "ckpt", n_trials=10, games=2, sampler="random", pruner="none")
    result = run_cli(["optimize", "--spec", str(spec), "--quiet", "--checkpoint-interval", "1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    checkpoints = [line for line in result.stderr.splitlines() if line.startswith("checkpoint:")]
    assert checkpoints, result.stderr
    assert len(checkpoints) == len(set(checkpoints)), checkpoints
    assert len(list((tmp_path / "storage" / "ckpt").glob("best-*.yaml"))) == 1  # one per study and storage


def test_worker_quiet_hides_its_progress_lines(tmp_path: Path) -> None:
    """``worker --quiet`` is not a no-op: the per-trial progress log lines go, the summary stays."""
    spec = write_spec(tmp_path, "wq", n_trials=2, games=2, sampler="random")
    loud = run_cli(["worker", "--spec", str(spec), "--n-trials", "1"], cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "study wq: 1/1 finished, best" in loud.stderr
    quiet = run_cli(["worker", "--spec", str(spec), "--n-trials", "2", "--quiet"], cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "finished, best" not in quiet.stderr and "study wq: 2 finished" in quiet.stderr


def _optimize_to_file(spec: Path, folder: Path, log: Path, *extra: str) -> str:
    """``optimize`` with stdout and stderr written to a file, as ``optimize ... > log 2>&1`` does: no terminal."""
    with log.open("w") as stream:
        done = subprocess.run(
            [sys.executable, "-m", "optuna_clank", "optimize", "--spec", str(spec), *extra],
            cwd=folder,
            env=cli_env(),
            stdout=stream,
            stderr=subprocess.STDOUT,
            timeout=240,
            check=False,
        )
    text = log.read_text()
    assert done.returncode == 0, text
    return text


def test_without_a_terminal_progress_is_a_plain_line_per_finished_trial(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "piped", n_trials=3, games=2, sampler="random", pruner="none")
    text = _optimize_to_file(spec, tmp_path, tmp_path / "run.log", "--checkpoint-interval", "1")
    assert "\r" not in text  # no progress bar redrawing itself into one long line
    finished = [int(m) for m in re.findall(r"^study piped: (\d+)/3 finished, best ", text, re.MULTILINE)]
    assert finished and finished == sorted(set(finished)) and finished[-1] == 3  # one line per finished trial
    assert all(len(line) < 400 for line in text.splitlines())
    assert [line for line in text.splitlines() if line.startswith("checkpoint:")]


@pytest.mark.slow  # four runs in subprocesses: nox -s e2e
def test_a_resumed_run_repeats_no_checkpoint_line_for_an_unchanged_best(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "resumed", n_trials=2, games=2, sampler="random", pruner="none")
    first = _optimize_to_file(spec, tmp_path, tmp_path / "first.log", "--checkpoint-interval", "1")
    assert [line for line in first.splitlines() if line.startswith("checkpoint:")]
    validated = run_cli(["validate", "--spec", str(spec), "--top", "1", "--games", "4"], cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    # The validated verdict is a new best: the next run writes one checkpoint and says so, once.
    second = _optimize_to_file(spec, tmp_path, tmp_path / "second.log", "--n-trials", "3", "--checkpoint-interval", "1")
    assert len([line for line in second.splitlines() if line.startswith("checkpoint:")]) == 1, second
    # Resumed again, nothing changed the verdict: the checkpoint on disk already holds it, no line.
    third = _optimize_to_file(spec, tmp_path, tmp_path / "third.log", "--n-trials", "4", "--checkpoint-interval", "1")
    assert "study resumed: 4/4 finished" in third
    assert not [line for line in third.splitlines() if line.startswith("checkpoint:")], third
