"""Shared fixtures: a fresh SQLite file, a fresh PostgreSQL database, or each in turn.

The PostgreSQL server comes from ``$OPTUNA_CLANK_TEST_POSTGRES`` (a SQLAlchemy URL). It is
part of the product, so an unreachable server FAILS the tests that need it, unless
``OPTUNA_CLANK_SKIP_POSTGRES=1`` asks to skip them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

# Many torch processes (this one, the CLI subprocesses, pool workers) share few cores here; torch's
# default pool of one spinning thread per core then spends the CPU contending (a ClankSampler study
# of 8 trials took 125 s instead of 25 s on a loaded 2-core machine). One thread each; the
# subprocesses inherit it, and the pool's workers still set their own thread counts.
os.environ.setdefault("OMP_NUM_THREADS", "1")

DEFAULT_TEST_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TEST_DATABASE_PREFIX = "clank_test_"
"""Only databases with this prefix are ever created or dropped by the tests."""


def postgres_admin_url() -> str:
    """SQLAlchemy URL of the test server's maintenance database (may create databases)."""
    return os.environ.get("OPTUNA_CLANK_TEST_POSTGRES", DEFAULT_TEST_POSTGRES)


def libpq_url(sqlalchemy_url: str) -> str:
    """The same place as a plain ``postgresql://`` URL, which psycopg itself accepts."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def connect_postgres_admin() -> psycopg.Connection:
    """Autocommit connection to the test server; skips or FAILS the calling test without it."""
    admin = postgres_admin_url()
    shown = make_url(admin).render_as_string(hide_password=True)
    if os.environ.get("OPTUNA_CLANK_SKIP_POSTGRES") == "1":
        pytest.skip(f"PostgreSQL tests skipped (OPTUNA_CLANK_SKIP_POSTGRES=1; server {shown})")
    try:
        return psycopg.connect(libpq_url(admin), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = " ".join(str(exc).split())
    pytest.fail(  # outside the except block, so pytest prints no chained traceback
        f"PostgreSQL test server at {shown} is unreachable: {reason} Start it, point "
        "$OPTUNA_CLANK_TEST_POSTGRES at one, or set OPTUNA_CLANK_SKIP_POSTGRES=1 to skip.",
        pytrace=False,
    )


def _drop_database(admin: psycopg.Connection, name: str) -> None:
    """End the connections a test left open (pooled engines), then drop the database."""
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet, in the test's own folder."""
    return f"sqlite:///{tmp_path / 'study.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """``postgresql+psycopg://`` URL of a brand-new database, dropped after the test."""
    name = f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}"
    with connect_postgres_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(postgres_admin_url()).set(drivername="postgresql+psycopg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            _drop_database(admin, name)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def storage_url(request: pytest.FixtureRequest) -> str:
    """Each backend in turn (ids ``sqlite`` and ``postgres``) for one test definition."""
    return request.getfixturevalue(f"{request.param}_url")
