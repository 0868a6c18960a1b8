"""Open the RDB storage that holds the studies: a SQLite file by default, PostgreSQL for teams.

Everything that can go wrong while opening a storage the user pointed at becomes a
:class:`StorageError` whose text is one line that names the place (with the password masked),
so the command line can print it as is.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.event
import sqlalchemy.exc
from optuna.trial import FrozenTrial
from sqlalchemy.engine import URL, make_url

from optuna_clank.core.errors import UserError
from optuna_clank.core.extras import EXTRAS, is_missing, missing_extra
from optuna_clank.core.optuna_private import quiet_experimental
from optuna_clank.core.paths import DEFAULT_STORAGE_DIR
from optuna_clank.core.redact import redact_url

SQLITE_BUSY_TIMEOUT_S = 60
"""Seconds a SQLite writer waits for a lock: several worker processes share one file."""

POSTGRES_CONNECT_TIMEOUT_S = 10
"""Seconds before an unreachable PostgreSQL host is reported instead of hanging."""

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
"""A bare path with one of these endings is taken as a SQLite file."""

_POSTGRES_ALIASES = ("postgresql://", "postgres://")
_POSTGRES_DRIVER_URL = "postgresql+psycopg://"
_BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL"}
_PSYCOPG_PREFIX = re.compile(
    r'^(connection failed:\s*)?(connection to server (at "[^"]*", port \d+|on socket "[^"]*") '
    r"failed:\s*)?"
)
_MIN_SCRUBBED_SECRET = 4
"""Shorter passwords are not scrubbed from free text: that would mangle ordinary words."""

StaleTrialCallback = Callable[[optuna.Study, FrozenTrial], None]


class StorageError(UserError, RuntimeError):
    """A storage the user pointed at that cannot be used; ``str(err)`` is ONE clear line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


@dataclass(frozen=True)
class HeartbeatSettings:
    """How a trial proves its worker is alive, so a killed worker's trial can be failed.

    The storage only fails a stale trial; ``max_retry`` is for the runner, whose stale-trial
    callback (Optuna's ``RetryHeartbeatStaleTrialCallback`` plus a log line) queues it again
    with the same parameters at most that many times.
    """

    interval: int = 10
    grace_period: int = 30
    max_retry: int = 3

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError(f"heartbeat interval must be positive, got {self.interval}")
        if self.grace_period <= self.interval:
            raise ValueError(
                f"heartbeat grace_period ({self.grace_period}) must be longer than the "
                f"interval ({self.interval}), or live trials would be failed"
            )
        if self.max_retry < 0:
            raise ValueError(f"heartbeat max_retry must be >= 0, got {self.max_retry}")


DEFAULT_HEARTBEAT = HeartbeatSettings()


def default_storage_url(study_name: str, *, root: Path | None = None) -> str:
    """Absolute SQLite URL of ``<root>/storage/<study>.db``; creates the folder.

    Absolute, so worker processes that start in another directory open the same file.
    """
    _check_study_file_name(study_name)
    folder = (root if root is not None else Path.cwd()).absolute() / DEFAULT_STORAGE_DIR
    path = folder / f"{study_name}.db"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create SQLite database at {path}: {_os_reason(exc)}") from exc
    return _sqlite_url(path)


def resolve_storage_url(url: str | None, study_name: str, *, root: Path | None = None) -> str:
    """Turn what the user wrote (nothing, a file path or a URL) into a SQLAlchemy URL.

    Nothing gives the default SQLite file; ``postgres(ql)://`` gets the psycopg 3 driver
    named; a path ending in ``.db``/``.sqlite``/``.sqlite3`` becomes an absolute SQLite URL
    (relative paths are taken from ``root``, default the working directory).
    """
    if url is None or not url.strip():
        return default_storage_url(study_name, root=root)
    return _normalise_url(url.strip(), root=root)


def describe_storage(url: str) -> str:
    """Short human text for progress lines: ``SQLite file storage/v2.db``,
    ``PostgreSQL postgres@127.0.0.1:5432/test``; never shows a password."""
    try:
        parsed = make_url(_escape_userinfo(_name_postgres_driver(url.strip())))
    except (sqlalchemy.exc.ArgumentError, ValueError):
        return redact_url(url)
    backend = parsed.get_backend_name()
    name = _BACKEND_NAMES.get(backend, backend)
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return "SQLite in memory"
        return f"SQLite file {_shown_path(Path(parsed.database))}"
    user = f"{parsed.username}@" if parsed.username else ""
    port = parsed.port or (5432 if backend == "postgresql" else None)
    place = f"{parsed.host or 'localhost'}:{port}" if port else parsed.host or "localhost"
    return f"{name} {user}{place}/{parsed.database or ''}"


def open_storage(
    url: str,
    *,
    heartbeat: HeartbeatSettings | None = DEFAULT_HEARTBEAT,
    stale_trial_callback: StaleTrialCallback | None = None,
) -> optuna.storages.RDBStorage:
    """Open (creating if needed) the Optuna RDB storage at ``url``.

    SQLite gets a 60 s busy timeout and WAL journaling (several processes write one file);
    PostgreSQL gets pre-ping (long runs outlive idle connections) and a connect timeout.
    ``heartbeat=None`` disables heartbeats; ``stale_trial_callback`` receives each trial
    that ``fail_stale_trials`` fails. Raises :class:`StorageError` when it cannot be used.
    """
    if not url or not url.strip():
        raise StorageError("no storage URL given")
    url = _normalise_url(url.strip())
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed)
    heartbeat_kwargs: dict[str, Any] = {}
    if heartbeat is not None:
        heartbeat_kwargs = {
            "heartbeat_interval": heartbeat.interval,
            "grace_period": heartbeat.grace_period,
            "heartbeat_stale_trial_callback": stale_trial_callback,
        }
    try:
        with quiet_experimental():
            # Heartbeats are "experimental" since Optuna 2.9; the warning only adds noise.
            storage = optuna.storages.RDBStorage(url, engine_kwargs=_engine_kwargs(parsed), **heartbeat_kwargs)
    except (sqlalchemy.exc.SQLAlchemyError, ImportError, RuntimeError, OSError) as exc:
        raise StorageError(_open_failure_message(url, parsed, exc)) from exc
    if parsed.get_backend_name() == "sqlite":
        _begin_immediate(storage.engine)
    return storage


def _begin_immediate(engine: sqlalchemy.engine.Engine) -> None:
    """Make every SQLite transaction take the write lock when it starts (``BEGIN IMMEDIATE``).

    Optuna reads a row, checks it and writes it back in one transaction, e.g. when a worker
    takes a WAITING trial (a retried or enqueued one). PostgreSQL locks that row; SQLite's
    default deferred transactions let two processes read the same WAITING trial and both run
    it. Taking the lock up front makes those sequences atomic across processes, at the price
    of serialising storage calls, which last milliseconds against trials of seconds.
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _manual_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not issue its own BEGIN

    @sqlalchemy.event.listens_for(engine, "begin")
    def _lock_on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened before the listeners existed are not reused


def _normalise_url(url: str, *, root: Path | None = None) -> str:
    """Name the PostgreSQL driver, turn bare SQLite paths into URLs, reject the unknown."""
    url = _escape_userinfo(_name_postgres_driver(url))
    if "://" not in url:
        if url.lower().endswith(SQLITE_SUFFIXES):
            path = Path(url).expanduser()
            base = root if root is not None else Path.cwd()
            return _sqlite_url(path if path.is_absolute() else base.absolute() / path)
        raise StorageError(
            f"not a storage URL or SQLite file: {redact_url(url)} (expected e.g. "
            "sqlite:///storage/study.db, a path ending in .db, or postgresql://user@host/db)"
        )
    try:
        make_url(url).get_dialect()
    except sqlalchemy.exc.NoSuchModuleError as exc:
        scheme = url.partition("://")[0]
        raise StorageError(
            f"unknown storage URL scheme {scheme!r} in {redact_url(url)} "
            "(use sqlite:///path.db or postgresql://user@host/db)"
        ) from exc
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:
        reason = str(exc).replace(url, redact_url(url))  # SQLAlchemy quotes the whole URL
        raise StorageError(f"invalid storage URL {redact_url(url)}: {reason}") from exc
    return url


def _escape_userinfo(url: str) -> str:
    """Percent-encode ``@`` inside ``user:password`` so that SQLAlchemy's parser sees the real host.

    ``make_url`` splits at the FIRST ``@``: ``postgresql://u:p@ss@db/x`` would connect to host
    ``ss@db`` with password ``p`` (and show the password's tail as the host). The last ``@``
    before the query ends the user part, as in :func:`redact_url`.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    query_at = rest.find("?")
    at = rest.rfind("@", 0, len(rest) if query_at < 0 else query_at)
    if at < 0 or "@" not in rest[:at]:
        return url
    return f"{scheme}://{rest[:at].replace('@', '%40')}{rest[at:]}"


def _name_postgres_driver(url: str) -> str:
    """``postgres(ql)://`` -> ``postgresql+psycopg://``: say the driver instead of relying
    on SQLAlchemy's default for the bare scheme."""
    for alias in _POSTGRES_ALIASES:
        if url.startswith(alias):
            return _POSTGRES_DRIVER_URL + url[len(alias) :]
    return url


def _check_study_file_name(study_name: str) -> None:
    """The study name becomes a file name: keep it inside the storage folder."""
    if study_name in {"", ".", ".."} or any(c in study_name for c in "/\\\0"):
        raise StorageError(f"study name {study_name!r} cannot be used as a SQLite file name")


def _sqlite_url(path: Path) -> str:
    """``sqlite:///`` + path; an absolute path thus gives the four-slash form."""
    return f"sqlite:///{path}"


def _shown_path(path: Path) -> str:
    """Path relative to the working directory when inside it, for short status lines."""
    try:
        return str(path.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _prepare_sqlite_file(parsed: URL) -> None:
    """Create the folder and switch the file to WAL before Optuna opens it.

    WAL is a property of the file, so one plain connection here is enough; doing it first
    also turns an unusable location or a non-SQLite file into a clear error.
    """
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    verb = "open" if path.exists() else "create"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(path)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot {verb} SQLite database at {path.absolute()}: {_os_reason(exc)}") from exc


def _enable_wal(path: Path) -> None:
    """Set ``journal_mode=WAL`` (readers and one writer at once, ~1.7x faster here)."""
    connection = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        connection.execute("PRAGMA journal_mode=WAL").fetchone()
    finally:
        connection.close()


def _engine_kwargs(parsed: URL) -> dict[str, Any]:
    """Per-backend SQLAlchemy settings; options already in the URL's query win."""
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if "timeout" in parsed.query:
            return {}
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    if backend == "postgresql":
        connect_args = {}
        if "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
        return {"pool_pre_ping": True, "connect_args": connect_args}
    return {}


def _open_failure_message(url: str, parsed: URL, exc: BaseException) -> str:
    """One line that says what went wrong and where, with no password in it."""
    shown = redact_url(url)
    if isinstance(exc, ImportError):
        missing = exc.__cause__ if isinstance(exc.__cause__, ImportError) else exc
        if is_missing(missing, EXTRAS["postgres"].module):
            return f"cannot open storage {shown}: {missing_extra('postgres', 'PostgreSQL storage')}"
        return f"cannot open storage {shown}: database driver not installed ({missing})"
    if isinstance(exc, RuntimeError) and not isinstance(exc, sqlalchemy.exc.SQLAlchemyError):
        reason = _first_line(str(exc))
        return f"storage at {shown} cannot be used by optuna {optuna.__version__}: {reason}"
    original = (exc.orig or exc) if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        message = _postgres_failure(shown, original)
    elif backend == "sqlite":
        message = f"cannot open SQLite database at {parsed.database}: {_os_reason(original)}"
    else:
        message = f"cannot open storage {shown}: {_first_line(str(original))}"
    return _scrub(message, parsed.password)


def _postgres_failure(shown: str, error: BaseException) -> str:
    """Tell "the server said no" (auth, missing database) from "no server answered"."""
    if getattr(error, "sqlstate", None):
        return f"PostgreSQL at {shown}: {_first_line(str(error))}"
    reason = _PSYCOPG_PREFIX.sub("", _first_line(str(error)))
    for level in ("FATAL:", "ERROR:"):
        if reason.startswith(level):
            return f"PostgreSQL at {shown}: {reason[len(level) :].strip()}"
    return f"cannot connect to PostgreSQL at {shown}: {_lower_first(reason)}"


def _os_reason(exc: BaseException) -> str:
    """Readable reason of an OS or sqlite3 error, without Python's ``[Errno n]`` noise."""
    if isinstance(exc, FileExistsError):
        return f"{exc.filename} exists and is not a folder"
    if isinstance(exc, OSError) and exc.strerror:
        return _lower_first(exc.strerror)
    return _lower_first(_first_line(str(exc)))


def _first_line(text: str) -> str:
    """First non-empty line: drivers append multi-line hints after the actual reason."""
    return next((line.strip() for line in text.splitlines() if line.strip()), text.strip())


def _lower_first(text: str) -> str:
    """``Connection refused`` -> ``connection refused``; acronyms such as ``SSL`` stay."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _scrub(text: str, password: str | None) -> str:
    """Mask the literal password, in case a driver ever echoes it."""
    if password and len(password) >= _MIN_SCRUBBED_SECRET:
        text = text.replace(password, "***")
    return text
