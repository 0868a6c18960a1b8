"""Developer sessions: ``nox -s tests``, ``nox -s e2e``, ``nox -s lint``, ``nox -s typecheck``, ``nox -s bench``.

Sessions run in the current environment (the one the README's set-up command made), so the
test command needs no second copy of torch and works offline.
"""

from __future__ import annotations

import importlib.util

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "typecheck", "tests"]


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The fast suite and the doctests: all but the ``slow`` end-to-end tests (needs PostgreSQL, see README).

    Two pytest-xdist workers: most of the time goes to CLI subprocesses (each loads torch), and the
    tests are isolation-safe (tmp dirs, port 0, random PostgreSQL database and role names).
    ``--dist loadscope`` keeps a module's tests on one worker, so a module-scoped study is built once.
    ``nox -s tests -- -n 0`` runs them in one process (for ``--pdb``).
    """
    parallel = ["-n", "2", "--dist", "loadscope"] if importlib.util.find_spec("xdist") else []
    if not parallel:
        session.log("pytest-xdist is not installed (pip install -e '.[dev]'): running the tests in one process")
    session.run("python", "-m", "pytest", "-m", "not slow", *parallel, *session.posargs)


@nox.session(python=False)
def e2e(session: nox.Session) -> None:
    """The heavy end-to-end tests (``slow`` marker): whole studies in subprocesses, the browser. CI runs them too."""
    session.run("python", "-m", "pytest", "-m", "slow", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, as configured in pyproject.toml, and the import contract of the layers (ARCHITECTURE.md)."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "tools/import_layers.py")


@nox.session(python=False)
def typecheck(session: nox.Session) -> None:
    """mypy over the package, as configured in pyproject.toml."""
    session.run("mypy")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """The benchmarks that print the README's figures (minutes; pass --quick for a short run)."""
    quick = "--quick" in session.posargs
    session.run("python", "bench/arena.py", *(["--batch-sizes", "64", "1024", "--budget", "5"] if quick else []))
    session.run("python", "bench/pool.py", *(["--quick"] if quick else []))
    session.run("python", "bench/pruning.py", *(["--quick"] if quick else []))
    session.run("python", "bench/race.py", *(["--quick"] if quick else []))
    session.run("python", "bench/remote.py", *(["--concurrency", "8", "--games", "16"] if quick else []))
