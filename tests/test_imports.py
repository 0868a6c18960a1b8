"""Light imports: reading a spec and asking for help must not pay for torch, optuna or litellm."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("torch", "optuna", "litellm")


def _imported_modules(args: list[str], *, returncode: int = 0) -> set[str]:
    """The modules a fresh interpreter imports to run ``python -X importtime <args>``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == returncode, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime lines on stderr"
    return {line.rsplit("|", 1)[1].strip() for line in lines}


def test_reading_a_spec_leaves_torch_optuna_and_litellm_unloaded() -> None:
    script = textwrap.dedent(
        """
        import sys
        import optuna_clank.spec
        print(sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "optuna", "litellm"})[:5])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"import optuna_clank.spec loaded {done.stdout.strip()}"


@pytest.mark.parametrize("args", [["--help"], ["optimize", "--help"], ["play", "--help"]])
def test_help_leaves_heavy_packages_unloaded(args: list[str]) -> None:
    modules = _imported_modules(["-m", "optuna_clank", *args])
    assert "optuna_clank.cli.main" in modules  # the check looks at the right command
    assert not modules & set(HEAVY), f"--help imported {sorted(modules & set(HEAVY))}"


def test_lazy_package_names_resolve_and_list() -> None:
    script = textwrap.dedent(
        """
        import sys
        import optuna_clank
        import optuna_clank.arena as arena
        import optuna_clank.sampler as sampler
        assert not {"torch", "optuna", "litellm"} & set(sys.modules)
        assert set(arena.__all__) <= set(dir(arena)) and set(sampler.__all__) <= set(dir(sampler))
        assert set(optuna_clank.__all__) <= set(dir(optuna_clank))
        from optuna_clank import load_spec, run_study
        from optuna_clank.run.runner import run_study as run_study_defined
        from optuna_clank.spec import load_spec as load_spec_defined
        assert run_study is run_study_defined and load_spec is load_spec_defined
        assert all(getattr(optuna_clank, name) is not None for name in optuna_clank.__all__)
        from optuna_clank.arena import play_match
        from optuna_clank.arena.match import play_match as defined
        assert play_match is defined
        assert all(getattr(arena, name) is not None for name in arena.__all__)
        assert all(getattr(sampler, name) is not None for name in sampler.__all__)
        try:
            arena.no_such_name
        except AttributeError as error:
            assert "no_such_name" in str(error)
        else:
            raise AssertionError("a missing name did not raise AttributeError")
        print("OK")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "OK"


def test_checking_opponents_and_play_mistakes_leave_torch_unloaded(tmp_path: Path) -> None:
    """A mistake in ``play``'s files or names is reported before torch loads (fast, and in a spec too)."""
    (tmp_path / "bad.yaml").write_text("weights:\n  spaec: 3\n")
    (tmp_path / "undecodable.yaml").write_text("weights:\n  space: lots\n")  # go-battleclank cannot read it
    (tmp_path / "good.yaml").write_text("weights:\n  space: 3\n")
    (tmp_path / "bot.yaml").write_text("weights:\n  space: 7.5\n")
    script = textwrap.dedent(
        f"""
        import sys
        from optuna_clank.arena.opponents import check_opponent, resolve_opponent
        for name in ("baseline", "gbc", "heuristic", "url:http://127.0.0.1:9", {str(tmp_path / "good.yaml")!r},
                     "gbc:" + {str(tmp_path / "bot.yaml")!r}, "cmd:" + sys.executable + " -m optuna_clank serve"):
            check_opponent(name)
            assert callable(resolve_opponent(name))
        print(sorted(m for m in sys.modules if m.split(".")[0] == "torch")[:3])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"checking opponents loaded {done.stdout.strip()}"
    for args in (
        ["play", "--snake", "heuristic", "--config", str(tmp_path / "bad.yaml")],
        ["play", "--config", str(tmp_path / "undecodable.yaml")],
        ["play", "--opponent", "baselin"],
        ["probe", "--snake", "baselin"],
        ["probe", "--snake", "baseline"],  # a snake without a config: nothing to vary
        ["probe", "--snake", "http://127.0.0.1:9"],
        ["fidelity", "--snake", "baseline", "--against", "baselin"],
    ):
        modules = _imported_modules(["-m", "optuna_clank", *args], returncode=2)
        assert "optuna_clank.arena.config" in modules and "torch" not in modules, args
