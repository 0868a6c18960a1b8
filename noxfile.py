"""Developer sessions: ``nox -s tests``, ``nox -s e2e``, ``nox -s lint``, ``nox -s bench``.

Sessions run in the current environment (the one the README's set-up command made), so the
test command needs no second copy of torch and works offline.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The fast suite and the doctests: all but the ``slow`` end-to-end tests (needs PostgreSQL, see README)."""
    session.run("python", "-m", "pytest", "-m", "not slow", *session.posargs)


@nox.session(python=False)
def e2e(session: nox.Session) -> None:
    """The heavy end-to-end tests (``slow`` marker): whole studies in subprocesses, the browser. CI runs them too."""
    session.run("python", "-m", "pytest", "-m", "slow", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """ruff, as configured in pyproject.toml."""
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """The benchmarks that print the README's figures (minutes; pass --quick for a short run)."""
    quick = "--quick" in session.posargs
    session.run("python", "bench/arena.py", *(["--batch-sizes", "64", "1024", "--budget", "5"] if quick else []))
    session.run("python", "bench/pool.py", *(["--quick"] if quick else []))
    session.run("python", "bench/pruning.py", *(["--quick"] if quick else []))
    session.run("python", "bench/race.py", *(["--quick"] if quick else []))
