"""What ``optimize`` says while it runs: a line per start-up phase, checkpoints only on change."""

from __future__ import annotations

from pathlib import Path

import pytest
from _study import run_cli, write_spec


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
