"""The storage password never shows: not in any output, error, or the process table.

A real PostgreSQL role with a password (containing ``@``, which a naive URL parser turns into
part of the host) owns a fresh database; real CLI subprocesses run a study with worker
processes, report on it and fail on purpose, and everything they print, plus the command
line of every process on the machine while the workers run, is searched for the password.
The test server trusts local connections, so any password is accepted; that is enough here,
where what matters is where the password travels, not whether the server checks it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _study import TINY_SPEC, run_cli, start_cli
from conftest import TEST_DATABASE_PREFIX, _drop_database, connect_postgres_admin, postgres_admin_url
from sqlalchemy.engine import make_url

from optuna_clank.core.redact import redact_url
from optuna_clank.study.storage import StorageError, describe_storage, open_storage, resolve_storage_url


@pytest.fixture
def password_url() -> Iterator[tuple[str, str]]:
    """(URL with an unescaped ``p@ss-<token>`` password, token) of a database its role owns."""
    token = secrets.token_hex(8)
    role = f"{TEST_DATABASE_PREFIX}role_{token[:6]}"
    database = f"{TEST_DATABASE_PREFIX}pw_{token[:6]}"
    with connect_postgres_admin() as admin:
        admin.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'p@ss-{token}'")
        try:
            admin.execute(f'CREATE DATABASE "{database}" OWNER "{role}"')
            server = make_url(postgres_admin_url())
            url = f"postgresql://{role}:p@ss-{token}@{server.host}:{server.port or 5432}/{database}"
            try:
                yield url, token
            finally:
                _drop_database(admin, database)
        finally:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _spec(folder: Path, name: str, url: str) -> Path:
    text = TINY_SPEC.format(name=name, n_trials=3, games=2, n_jobs=2, sampler="random", pruner="none")
    path = folder / f"{name}.toml"
    path.write_text(text.replace("[storage]\n", f'[storage]\nurl = "{url}"\n'))
    return path


def _command_lines_with(token: str) -> list[str]:
    """Command lines of every process on the machine that contain ``token``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # the process ended meanwhile
        if token in text:
            found.append(f"{cmdline.parent.name}: {text[:200]}")
    return found


def test_a_password_with_an_at_sign_is_parsed_and_masked() -> None:
    url = "postgresql://tuner:p@ss@db.example:5432/clank"
    resolved = make_url(resolve_storage_url(url, "x"))
    assert (resolved.host, resolved.password, resolved.database) == ("db.example", "p@ss", "clank")
    assert describe_storage(url) == "PostgreSQL tuner@db.example:5432/clank"
    assert "ss" not in redact_url(url).replace("postgresql", "")


@pytest.mark.slow  # a study with worker processes: nox -s e2e; the masking itself is tested fast below
@pytest.mark.timeout(600)  # five CLI processes and two workers: minutes on a machine that other jobs share
def test_the_password_never_shows(tmp_path: Path, password_url: tuple[str, str]) -> None:
    url, token = password_url
    spec = _spec(tmp_path, "secret", url)
    process = start_cli(["optimize", "--spec", str(spec), "--quiet"], cwd=tmp_path)
    leaks: list[str] = []
    while process.poll() is None:
        leaks += _command_lines_with(token)
        time.sleep(0.1)
    out, err = process.communicate()
    assert process.returncode == 0, err
    assert "starting 2 worker process(es)" in err
    outputs = {"optimize": out + err}
    runs = {
        "status": ["status", "--spec", str(spec), "--storage", url],
        "no such study": ["status", "--spec", str(_spec(tmp_path, "other", url))],
        "bad override": ["optimize", "--spec", str(spec), "--storage", url, "--timeout", "-5"],
    }
    for label, args in runs.items():
        result = run_cli(args, cwd=tmp_path)
        outputs[label] = result.stdout + result.stderr
        expected_code = 0 if label == "status" else 2
        assert result.returncode == expected_code, (label, result.stderr)
    assert "no study named 'other'" in outputs["no such study"]
    assert "override" in outputs["bad override"]
    assert "PostgreSQL" in outputs["status"] and "127.0.0.1" in outputs["status"]
    assert not leaks, leaks
    for label, text in outputs.items():
        assert token not in text, (label, text)


@pytest.mark.parametrize(
    "broken",
    [
        "postgresql://clank:p@ss-{token}@127.0.0.1:1/none",  # nobody listens: connection refused
        "postgresql://[clank:p@ss-{token}@127.0.0.1/none",  # unparseable
        "nosuchdriver://clank:p@ss-{token}@127.0.0.1/none",  # unknown scheme
    ],
)
def test_storage_errors_mask_the_password(broken: str) -> None:
    token = secrets.token_hex(8)
    with pytest.raises(StorageError) as caught:
        open_storage(resolve_storage_url(broken.format(token=token), "x"))
    assert token not in str(caught.value) and "***" in str(caught.value)
