"""Tests for opening the study storage: URL rules, both backends, heartbeats, clear errors.

Everything runs against real SQLite files and the real PostgreSQL server (see conftest).
Error tests check the exact one-line message and that no password leaks into it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import psycopg
import pytest
from conftest import connect_postgres_admin, libpq_url, postgres_admin_url
from optuna.trial import FrozenTrial, TrialState
from psycopg import sql
from sqlalchemy.engine import make_url

from optuna_clank.core.paths import DEFAULT_STORAGE_DIR
from optuna_clank.core.redact import redact_url
from optuna_clank.study.storage import (
    HeartbeatSettings,
    StorageError,
    default_storage_url,
    describe_storage,
    open_storage,
    resolve_storage_url,
)

SECRET = "hunter22-secret"
"""A password that must never appear in any message."""

FAST_HEARTBEAT = HeartbeatSettings(interval=1, grace_period=2)

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _storage_error(url: str) -> str:
    """Open ``url``, expect a StorageError, check it is one password-free line, return it."""
    with pytest.raises(StorageError) as caught:
        open_storage(url)
    message = str(caught.value)
    assert "\n" not in message
    assert SECRET not in message
    assert caught.value.__cause__ is not None
    return message


# --- URL rules ---------------------------------------------------------------------------


def test_default_url_is_absolute_sqlite_file_in_storage_folder(tmp_path: Path) -> None:
    url = default_storage_url("v2", root=tmp_path)
    assert url == f"sqlite:///{tmp_path}/{DEFAULT_STORAGE_DIR}/v2.db"
    assert url.startswith("sqlite:////")
    assert (tmp_path / DEFAULT_STORAGE_DIR).is_dir()


def test_default_url_uses_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_storage_url(None, "s") == f"sqlite:///{tmp_path}/storage/s.db"


@pytest.mark.parametrize("given", [None, "", "   "])
def test_nothing_given_resolves_to_default(tmp_path: Path, given: str | None) -> None:
    assert resolve_storage_url(given, "exp", root=tmp_path) == (f"sqlite:///{tmp_path}/storage/exp.db")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://bob@db:5432/optuna", "postgresql+psycopg://bob@db:5432/optuna"),
        ("postgres://bob:pw@db/optuna", "postgresql+psycopg://bob:pw@db/optuna"),
        ("postgresql+psycopg://bob@db/optuna", "postgresql+psycopg://bob@db/optuna"),
        ("  postgres://db/optuna ", "postgresql+psycopg://db/optuna"),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("sqlite:////abs/dir/x.db", "sqlite:////abs/dir/x.db"),
        ("sqlite://", "sqlite://"),
        ("mysql+pymysql://bob@db/optuna", "mysql+pymysql://bob@db/optuna"),
        ("/abs/dir/x.sqlite3", "sqlite:////abs/dir/x.sqlite3"),
        ("/abs/DIR/X.SQLITE", "sqlite:////abs/DIR/X.SQLITE"),
    ],
)
def test_url_rewriting_and_passthrough(tmp_path: Path, given: str, expected: str) -> None:
    assert resolve_storage_url(given, "ignored", root=tmp_path) == expected


def test_relative_and_home_paths_become_absolute_sqlite_urls(tmp_path: Path) -> None:
    assert resolve_storage_url("runs/a.db", "s", root=tmp_path) == (f"sqlite:///{tmp_path}/runs/a.db")
    assert resolve_storage_url("~/b.db", "s") == f"sqlite:///{Path.home()}/b.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            f"foo://bob:{SECRET}@db/x",
            "unknown storage URL scheme 'foo' in foo://bob:***@db/x "
            "(use sqlite:///path.db or postgresql://user@host/db)",
        ),
        (
            "http://example.com/x",
            "unknown storage URL scheme 'http' in http://example.com/x "
            "(use sqlite:///path.db or postgresql://user@host/db)",
        ),
        (
            f"postgresql://bob:{SECRET}@db:notaport/x",
            "invalid storage URL postgresql+psycopg://bob:***@db:notaport/x: "
            "invalid literal for int() with base 10: 'notaport'",
        ),
        (
            "mystudy.json",
            "not a storage URL or SQLite file: mystudy.json (expected e.g. "
            "sqlite:///storage/study.db, a path ending in .db, or postgresql://user@host/db)",
        ),
    ],
)
def test_bad_urls_are_one_line_errors_without_password(tmp_path: Path, given: str, expected: str) -> None:
    with pytest.raises(StorageError) as caught:
        resolve_storage_url(given, "s", root=tmp_path)
    assert str(caught.value) == expected


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../escape", "a\\b"])
def test_study_names_that_leave_the_storage_folder_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(StorageError, match="cannot be used as a SQLite file name"):
        default_storage_url(name, root=tmp_path)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"postgresql+psycopg://bob:{SECRET}@h:5432/d", "postgresql+psycopg://bob:***@h:5432/d"),
        ("postgresql+psycopg://bob@h/d", "postgresql+psycopg://bob@h/d"),
        (f"postgres://bob:p@ss{SECRET}@h/d", "postgres://bob:***@h/d"),
        (f"postgresql://h/d?user=bob&password={SECRET}", "postgresql://h/d?user=bob&password=***"),
        (f"host=h password={SECRET} user=bob", "host=h password=*** user=bob"),
        ("sqlite:////tmp/odd:name@x.db", "sqlite:////tmp/odd:name@x.db"),
        ("sqlite:///storage/v2.db", "sqlite:///storage/v2.db"),
    ],
)
def test_redact_url_masks_every_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"postgresql+psycopg://postgres:{SECRET}@127.0.0.1:5432/test",
            "PostgreSQL postgres@127.0.0.1:5432/test",
        ),
        ("postgres://postgres@127.0.0.1/test", "PostgreSQL postgres@127.0.0.1:5432/test"),
        ("postgresql+psycopg://db.example:6543/optuna", "PostgreSQL db.example:6543/optuna"),
        ("sqlite:////elsewhere/v2.db", "SQLite file /elsewhere/v2.db"),
        ("sqlite://", "SQLite in memory"),
    ],
)
def test_describe_storage(url: str, expected: str) -> None:
    assert describe_storage(url) == expected


def test_describe_storage_shows_paths_under_cwd_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert describe_storage(default_storage_url("v2")) == "SQLite file storage/v2.db"


def test_heartbeat_settings_refuse_a_grace_period_a_live_trial_would_miss() -> None:
    with pytest.raises(ValueError, match="grace_period"):
        HeartbeatSettings(interval=10, grace_period=10)
    with pytest.raises(ValueError, match="interval"):
        HeartbeatSettings(interval=0)


# --- both backends -----------------------------------------------------------------------


def test_study_persists_across_opens(storage_url: str) -> None:
    study = optuna.create_study(study_name="persist", storage=open_storage(storage_url))
    study.optimize(lambda trial: trial.suggest_float("x", -1.0, 1.0) ** 2, n_trials=3)

    again = optuna.load_study(study_name="persist", storage=open_storage(storage_url))
    states = [t.state for t in again.get_trials(deepcopy=False)]
    assert states == [TrialState.COMPLETE] * 3
    assert again.best_value == study.best_value
    assert again.best_params == study.best_params


def test_heartbeat_settings_reach_the_storage(storage_url: str) -> None:
    default = open_storage(storage_url)
    assert (default.get_heartbeat_interval(), default.grace_period) == (10, 30)
    custom = open_storage(storage_url, heartbeat=FAST_HEARTBEAT)
    assert (custom.get_heartbeat_interval(), custom.grace_period) == (1, 2)
    assert open_storage(storage_url, heartbeat=None).get_heartbeat_interval() is None


_WORKER_SCRIPT = """
import sys, time
import optuna
from optuna_clank.study.storage import HeartbeatSettings, open_storage

storage = open_storage(sys.argv[1], heartbeat=HeartbeatSettings(interval=1, grace_period=2))
study = optuna.load_study(study_name="hb", storage=storage)
asked_only = study.ask()  # ask() alone starts no heartbeat thread


def objective(trial):
    time.sleep(1.2)  # the heartbeat thread has stored at least one beat by now
    print(asked_only.number, trial.number, flush=True)
    time.sleep(600)
    return 0.0


study.optimize(objective, n_trials=1)
"""


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """One stdout line of ``process``, or fail with its stderr when none comes."""
    assert process.stdout is not None and process.stderr is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        pytest.fail(f"worker printed nothing; stderr:\n{process.stderr.read()}")
    return line


def _trial_state(study: optuna.Study, number: int) -> TrialState:
    """State as stored now: read back from the storage on every call."""
    return study.get_trials(deepcopy=False)[number].state


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
def test_killed_worker_trial_fails_after_grace_period(storage_url: str, tmp_path: Path) -> None:
    failed: list[FrozenTrial] = []
    storage = open_storage(
        storage_url,
        heartbeat=FAST_HEARTBEAT,
        stale_trial_callback=lambda _study, trial: failed.append(trial),
    )
    study = optuna.create_study(study_name="hb", storage=storage)
    script = tmp_path / "worker.py"
    script.write_text(_WORKER_SCRIPT)
    worker = subprocess.Popen(
        [sys.executable, str(script), storage_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    asked_only, optimized = (int(n) for n in _read_line(worker, timeout=30).split())
    worker.send_signal(signal.SIGKILL)  # no chance to tell the storage anything
    worker.communicate()

    optuna.storages.fail_stale_trials(study)
    assert _trial_state(study, optimized) == TrialState.RUNNING, "failed before the grace"
    deadline = time.monotonic() + 15
    while _trial_state(study, optimized) == TrialState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.25)
        optuna.storages.fail_stale_trials(study)

    assert _trial_state(study, optimized) == TrialState.FAIL
    assert [(t.number, t.state) for t in failed] == [(optimized, TrialState.FAIL)]
    # Optuna only beats inside optimize(): a bare ask() trial never goes stale.
    assert _trial_state(study, asked_only) == TrialState.RUNNING


# --- SQLite ------------------------------------------------------------------------------


def test_sqlite_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "s.db"
    storage = open_storage(f"sqlite:///{path}")
    optuna.create_study(study_name="s", storage=storage).optimize(lambda t: 1.0, n_trials=1)

    with contextlib.closing(sqlite3.connect(path)) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with storage.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60_000


def test_existing_sqlite_file_is_switched_to_wal(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(path)) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    open_storage(f"sqlite:///{path}")
    with contextlib.closing(sqlite3.connect(path)) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _unusable_folder(tmp_path: Path) -> Path:
    """A folder SQLite cannot write into: read-only, or (as root, where chmod does not
    stop writes) a "folder" below a regular file."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    probe = folder / "probe"
    try:
        probe.touch()
    except PermissionError:
        return folder
    probe.unlink()
    (tmp_path / "plain-file").write_text("not a folder")
    return tmp_path / "plain-file" / "sub"


def test_unusable_sqlite_folder(tmp_path: Path) -> None:
    path = _unusable_folder(tmp_path) / "s.db"
    message = _storage_error(f"sqlite:///{path}")
    reason = "unable to open database file" if path.parent.is_dir() else "not a directory"
    assert message == f"cannot create SQLite database at {path}: {reason}"


def test_sqlite_folder_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    path = tmp_path / "taken" / "s.db"
    message = _storage_error(f"sqlite:///{path}")
    assert message == f"cannot create SQLite database at {path}: {path.parent} exists and is not a folder"


def test_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are notes, not a database\n" * 100)
    message = _storage_error(f"sqlite:///{path}")
    assert message == f"cannot open SQLite database at {path}: file is not a database"


def test_storage_from_another_optuna_schema(tmp_path: Path) -> None:
    path = tmp_path / "old-schema.db"
    open_storage(f"sqlite:///{path}")
    with contextlib.closing(sqlite3.connect(path)) as plain, plain:
        plain.execute("UPDATE alembic_version SET version_num = 'v3.0.0.a'")
    message = _storage_error(f"sqlite:///{path}")
    assert message.startswith(
        f"storage at sqlite:///{path} cannot be used by optuna {optuna.__version__}: The runtime optuna version"
    )
    assert "optuna storage upgrade" in message


def test_missing_driver() -> None:
    url = f"postgresql+psycopg2://bob:{SECRET}@127.0.0.1:1/x"
    assert importlib.util.find_spec("psycopg2") is None, "needs a driver that is not installed"
    assert _storage_error(url) == (
        "cannot open storage postgresql+psycopg2://bob:***@127.0.0.1:1/x: "
        "database driver not installed (No module named 'psycopg2')"
    )


def test_empty_url_is_refused() -> None:
    with pytest.raises(StorageError, match=r"^no storage URL given$"):
        open_storage("  ")


# --- PostgreSQL --------------------------------------------------------------------------


def _admin_url_with(**parts: object) -> str:
    """The test server's URL with some parts (database, user, password) replaced."""
    url = make_url(postgres_admin_url()).set(drivername="postgresql+psycopg", **parts)
    return url.render_as_string(hide_password=False)


def test_refused_port() -> None:
    message = _storage_error(f"postgresql://bob:{SECRET}@127.0.0.1:1/x")
    assert message == ("cannot connect to PostgreSQL at postgresql+psycopg://bob:***@127.0.0.1:1/x: connection refused")


@pytest.mark.postgres
def test_unknown_database() -> None:
    connect_postgres_admin().close()
    name = f"clank_test_missing_{secrets.token_hex(4)}"
    url = _admin_url_with(database=name)
    assert _storage_error(url) == f'PostgreSQL at {redact_url(url)}: database "{name}" does not exist'


@pytest.mark.postgres
def test_unknown_role() -> None:
    connect_postgres_admin().close()
    role = f"clank_test_nobody_{secrets.token_hex(4)}"
    url = _admin_url_with(username=role, password=SECRET)
    assert _storage_error(url) == f'PostgreSQL at {redact_url(url)}: role "{role}" does not exist'


@pytest.mark.postgres
def test_connections_dropped_by_the_server_are_replaced(postgres_url: str) -> None:
    storage = open_storage(postgres_url)
    optuna.create_study(study_name="ping", storage=storage)
    with connect_postgres_admin() as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s",
            (make_url(postgres_url).database,),
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    assert optuna.load_study(study_name="ping", storage=storage).trials == []


@contextlib.contextmanager
def _role_with_password() -> Iterator[str]:
    """A new login role on the shared server; yields its URL with the right password."""
    role, password = f"clank_test_role_{secrets.token_hex(4)}", secrets.token_hex(8)
    with connect_postgres_admin() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        try:
            yield _admin_url_with(username=role, password=password)
        finally:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _accepts(url: str) -> bool:
    """Whether the server lets ``url`` log in."""
    try:
        psycopg.connect(libpq_url(url), connect_timeout=5).close()
    except psycopg.OperationalError:
        return False
    return True


def _free_port() -> int:
    """A TCP port nobody listens on right now, for the private server."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _postgres_bindir() -> str | None:
    """Folder of the local PostgreSQL server programs (initdb, pg_ctl), if installed."""
    if shutil.which("pg_config") is None:
        return None
    found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
    bindir = found.stdout.strip()
    return bindir if Path(bindir, "initdb").exists() else None


def _run_server_tool(program: str, *args: str) -> None:
    """Run initdb/pg_ctl, as user postgres when we are root (initdb refuses root).

    Output goes to files or nowhere: a server started by pg_ctl would otherwise hold our
    pipes open and ``run`` would wait for it.
    """
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(
        [*as_postgres, program, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=60,
    )


@contextlib.contextmanager
def _private_password_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster with scram-sha-256 auth on a free port.

    Needed because the shared test server trusts every local connection, so it can never
    say "password authentication failed". Yields a superuser URL with the right password.
    """
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("shared PostgreSQL trusts all passwords and initdb is not installed")
    workdir = Path(tempfile.mkdtemp(prefix="clank_test_pg_"))
    password, data, port = secrets.token_hex(8), workdir / "data", _free_port()
    (workdir / "pw").write_text(password)
    if os.geteuid() == 0:
        for path in (workdir, workdir / "pw"):
            shutil.chown(path, "postgres")  # LookupError: no user to run the server as
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        _run_server_tool(
            f"{bindir}/initdb", "-D", str(data), "-U", "clank", "--no-sync",
            "-A", "scram-sha-256", f"--pwfile={workdir / 'pw'}",
        )  # fmt: skip
        _run_server_tool(
            f"{bindir}/pg_ctl", "-D", str(data), "-l", str(workdir / "log"), "-w",
            "-o", options, "start",
        )  # fmt: skip
        yield f"postgresql+psycopg://clank:{password}@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            _run_server_tool(f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def password_checked_url() -> Iterator[str]:
    """URL, with the right password, of a role on a server that really checks passwords:
    the shared server when it does, else a private cluster (the shared one trusts all)."""
    with _role_with_password() as shared:
        wrong = make_url(shared).set(password="wrong").render_as_string(hide_password=False)
        if not _accepts(wrong):
            yield shared
            return
    with _private_password_server() as private:
        yield private


@pytest.mark.postgres
def test_wrong_password(password_checked_url: str) -> None:
    assert _accepts(password_checked_url), "the right password must log in"
    parsed = make_url(password_checked_url)
    wrong = parsed.set(password=SECRET).render_as_string(hide_password=False)
    assert _storage_error(wrong) == (
        f'PostgreSQL at {redact_url(wrong)}: password authentication failed for user "{parsed.username}"'
    )


_POP_WAITING_SCRIPT = """
import sys
import optuna
from optuna.trial import TrialState
from optuna_clank.study.storage import open_storage

optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.load_study(study_name="queue", storage=open_storage(sys.argv[1], heartbeat=None))
while study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
    trial = study.ask()
    if "queued" not in trial.user_attrs:  # no WAITING trial left for us: a new one
        study.tell(trial, state=TrialState.FAIL)
        continue
    study.tell(trial, trial.suggest_float("x", 0, 100))
"""


def test_concurrent_workers_take_each_waiting_trial_once_on_sqlite(sqlite_url: str, tmp_path: Path) -> None:
    """Retried trials wait in the queue; on SQLite several processes must not run one twice."""
    study = optuna.create_study(study_name="queue", storage=open_storage(sqlite_url, heartbeat=None))
    for i in range(60):
        study.enqueue_trial({"x": float(i)}, user_attrs={"queued": True})
    script = tmp_path / "pop.py"
    script.write_text(_POP_WAITING_SCRIPT)
    workers = [
        subprocess.Popen([sys.executable, str(script), sqlite_url], stderr=subprocess.PIPE, text=True) for _ in range(4)
    ]
    errors = [w.communicate(timeout=120)[1] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], errors
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert sorted(t.params["x"] for t in complete) == [float(i) for i in range(60)]
