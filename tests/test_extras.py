"""Optional extras: without litellm, psycopg, optuna-dashboard, cmaes or dask, one clear line.

Each test runs the real command line in a fresh interpreter in which one package is made
unimportable by a meta-path finder (what Python does when the package is not installed),
and checks the ``error:`` line and exit status 2: never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest

_BLOCKER = textwrap.dedent(
    """
    import sys

    _BLOCKED = set(sys.argv[1].split(","))


    class _NotInstalled:
        # Answers every import of a blocked top-level package as an uninstalled package would.
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in _BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, _NotInstalled())
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    """
)
_RUN_CLI = "import runpy\nrunpy.run_module('optuna_clank', run_name='__main__', alter_sys=True)\n"


def _run_without(blocked: str, *args: str, cwd: Path, code: str = _RUN_CLI) -> subprocess.CompletedProcess[str]:
    """``python -m optuna_clank ARGS`` (or ``code``) in ``cwd`` with the package ``blocked`` missing."""
    return subprocess.run(
        [sys.executable, "-c", _BLOCKER + code, blocked, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr[-3000:]
    return errors[0]


def test_the_blocker_makes_a_package_unimportable(tmp_path: Path) -> None:
    code = "import importlib.util\ntry:\n    import litellm\nexcept ModuleNotFoundError as e:\n    print(e.name)\n"
    done = _run_without("litellm", cwd=tmp_path, code=code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "litellm"


def test_optimize_without_litellm_names_the_llm_extra(tmp_path: Path) -> None:
    done = _run_without("litellm", "optimize", "--study", "v2", "--n-trials", "1", "--quiet", cwd=tmp_path)
    assert _one_error_line(done) == (
        "error: the LLM sampler needs litellm: pip install 'optuna-clank[llm]' (or pass --no-llm)"
    )
    assert not (tmp_path / "storage").exists(), "it stopped before creating the study"


def test_postgres_storage_without_psycopg_names_the_postgres_extra(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"
    done = _run_without("psycopg", "status", "--study", "v2", "--storage", url, cwd=tmp_path)
    assert _one_error_line(done) == (
        "error: cannot open storage postgresql+psycopg://postgres@127.0.0.1:5432/test: "
        "PostgreSQL storage needs psycopg: pip install 'optuna-clank[postgres]'"
    )


def test_dashboard_without_optuna_dashboard_names_the_dashboard_extra(tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir()
    optuna.create_study(study_name="v2", storage=f"sqlite:///{tmp_path / 'storage' / 'v2.db'}")
    done = _run_without("optuna_dashboard", "dashboard", "--study", "v2", "--port", "0", cwd=tmp_path)
    assert _one_error_line(done) == (
        "error: the dashboard needs optuna-dashboard: pip install 'optuna-clank[dashboard]'"
    )


def test_study_note_without_optuna_dashboard_is_skipped_with_a_warning(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import optuna
        from optuna_clank.spec import find_spec, load_spec
        from optuna_clank.study.note import write_study_note

        storage = optuna.storages.RDBStorage("sqlite:///notes.db")
        study = optuna.create_study(storage=storage, study_name="v2")
        note = write_study_note(study, load_spec(find_spec("v2")))
        print(note.splitlines()[0], len(storage.get_study_system_attrs(storage.get_study_id_from_name("v2"))))
        """
    )
    done = _run_without("optuna_dashboard", cwd=tmp_path, code=code)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["##", "v2", "0"]  # the note is made, nothing is saved
    assert (
        "saving the study and trial notes needs optuna-dashboard: pip install 'optuna-clank[dashboard]'; "
        "the run goes on without them"
    ) in done.stderr


def test_cmaes_sampler_without_cmaes_names_the_cmaes_extra(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from optuna_clank.core.errors import UserError
        from optuna_clank.study.building import make_sampler
        from optuna_clank.spec import find_spec, load_spec

        spec = load_spec(find_spec("v2")).with_overrides(sampler_name="cmaes")
        try:
            make_sampler(spec)
        except UserError as exc:
            print(exc)
        """
    )
    done = _run_without("cmaes", cwd=tmp_path, code=code)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "the cmaes sampler needs cmaes: pip install 'optuna-clank[cmaes]'"


@pytest.mark.slow
def test_dask_backend_without_distributed_names_the_dask_extra(tmp_path: Path) -> None:
    args = ("optimize", "--study", "v2", "--n-trials", "1", "--no-llm", "--backend", "dask", "--n-jobs", "2", "--quiet")
    done = _run_without("distributed", *args, cwd=tmp_path)
    assert _one_error_line(done) == (
        "error: the dask backend needs dask's distributed package: pip install 'optuna-clank[dask]'"
    )
