"""``n_jobs = "auto"``: one slot per GPU, else one per usable CPU core, and the run says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _study import run_cli, write_spec

from optuna_clank.cli.main import build_parser
from optuna_clank.core.devices import auto_n_jobs, usable_cpus
from optuna_clank.spec import SpecError, find_spec, load_spec


def test_auto_is_one_slot_per_gpu_else_per_core() -> None:
    assert auto_n_jobs(cuda_devices=8, cpus=2)[0] == 8
    assert auto_n_jobs(cuda_devices=0, cpus=2)[0] == 2
    assert auto_n_jobs(cuda_devices=0, cpus=16)[0] == 16
    assert "GPU" in auto_n_jobs(cuda_devices=3, cpus=2)[1] and "core" in auto_n_jobs(cuda_devices=0, cpus=2)[1]


def test_v2_defaults_to_auto_and_numbers_still_work(tmp_path: Path) -> None:
    assert load_spec(find_spec("v2")).parallel.n_jobs == "auto"
    spec = load_spec(find_spec("v2"))
    assert spec.with_overrides(n_jobs=8).parallel.n_jobs == 8
    assert spec.with_overrides(n_jobs="auto").parallel.n_jobs == "auto"
    with pytest.raises(SpecError, match=r'\[parallel\] n_jobs.*expected "auto" or a number'):
        spec.with_overrides(n_jobs="lots")


def test_the_cli_takes_auto_or_a_number() -> None:
    parser = build_parser()
    assert parser.parse_args(["optimize", "--study", "v2", "--n-jobs", "auto"]).n_jobs == "auto"
    assert parser.parse_args(["worker", "--study", "v2", "--n-jobs", "3"]).n_jobs == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["optimize", "--study", "v2", "--n-jobs", "0"])


@pytest.mark.slow  # a run with a worker process per core: nox -s e2e; the choice itself is tested fast above
def test_an_auto_run_says_what_it_chose(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "auto", n_trials=1, games=2, sampler="random")
    spec.write_text(spec.read_text().replace("n_jobs = 1", 'n_jobs = "auto"'))
    result = run_cli(["optimize", "--spec", str(spec), "--quiet"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    chosen = re.search(r"n_jobs auto: (\d+) slot\(s\), no GPU visible: one per usable CPU core", result.stderr)
    assert chosen and int(chosen[1]) == usable_cpus()
    assert f"{usable_cpus()} slot(s)" in result.stderr
