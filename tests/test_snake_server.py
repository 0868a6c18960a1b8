"""A snake server's process, as a trial or a ``cmd:`` opponent starts it: its environment, its logs, its folder.

Real subprocesses: a tiny stdlib server script that records what it was given, started through
:class:`SnakeServer` (a trial's) and :func:`command_server_url` (an opponent's).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _study import cli_env

from optuna_clank.arena.served.bot_process import SnakeServer
from optuna_clank.arena.served.command_opponents import command_server_url, stop_command_servers
from optuna_clank.core.log_cap import CAP_BYTES, KEEP_BYTES, LogCap, previous, tail
from optuna_clank.core.workspace import OWNER_FILE, sweep_orphans
from optuna_clank.spec.snake_table import read_snake_table

SERVER = textwrap.dedent(
    """
    import http.server, json, os, sys
    port, record = int(sys.argv[1]), sys.argv[2]
    with open(record, "w") as out:
        json.dump(dict(os.environ), out)
    chatter = int(os.environ.get("CHATTER_MB", "0"))
    for _ in range(chatter * 16):
        sys.stderr.write("x" * 65535 + "\\n")
    print("CHATTER-END", file=sys.stderr, flush=True)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)
SECRETS = {
    "OPENAI_API_KEY": "sk-secret-openai",
    "ANTHROPIC_API_KEY": "sk-ant-secret",
    "OPTUNA_CLANK_LLM_API_KEY": "local-secret",
    "DATABASE_URL": "postgresql://tuner:pw@db/clank",
    "PGPASSWORD": "pw",
    "OPTUNA_CLANK_TEST_POSTGRES": "postgresql+psycopg://postgres:pw@127.0.0.1/test",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
}


def _snake(folder: Path, **extra: object) -> object:
    script = folder / "server.py"
    script.write_text(SERVER)
    table = {
        "command": [sys.executable, str(script), "{port}", str(folder / "env.json"), "{config}"],
        "url": "http://127.0.0.1:{port}",
        "startup_timeout": 120,
        **extra,
    }
    return read_snake_table(table, folder)


def test_a_trial_server_gets_a_minimal_environment_and_what_the_spec_passes_on_purpose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**SECRETS, "GOMAXPROCS": "2", "LC_ALL": "C.UTF-8"}.items():
        monkeypatch.setenv(name, value)
    snake = _snake(tmp_path, env={"BOT_MODE": "fast", "BOT_PORT": "{port}"}, pass_env=["GOMAXPROCS"])
    with SnakeServer(snake, {}, base={}) as server:  # type: ignore[arg-type]
        port = server.port
    seen = json.loads((tmp_path / "env.json").read_text())
    assert not set(SECRETS) & set(seen), "secrets of the run reached the snake"
    assert not any(value in json.dumps(seen) for value in SECRETS.values())
    assert seen["PATH"] == os.environ["PATH"] and seen["LC_ALL"] == "C.UTF-8"
    assert (seen["BOT_MODE"], seen["BOT_PORT"], seen["GOMAXPROCS"]) == ("fast", str(port), "2")


def test_a_command_opponent_gets_a_minimal_environment_with_its_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    script = tmp_path / "server.py"
    own_port = SERVER.replace("int(sys.argv[1]), sys.argv[2]", "int(os.environ['PORT']), sys.argv[1]")
    script.write_text(own_port)
    try:
        url = command_server_url((sys.executable, str(script), str(tmp_path / "env.json")), tmp_path)
    finally:
        stop_command_servers()
    seen = json.loads((tmp_path / "env.json").read_text())
    assert not set(SECRETS) & set(seen)
    assert url.endswith(f":{seen['PORT']}")


def test_a_server_that_writes_without_end_keeps_a_bounded_log_with_its_last_lines(tmp_path: Path) -> None:
    snake = _snake(tmp_path, env={"CHATTER_MB": "8"})
    with SnakeServer(snake, {}, base={}) as server:  # type: ignore[arg-type]
        assert server.workspace is not None
        log = server.workspace / "stderr.log"
        deadline = time.monotonic() + 60
        while log.stat().st_size > CAP_BYTES and time.monotonic() < deadline:  # the watcher trims a few times a second
            time.sleep(0.05)
        held = sum(path.stat().st_size for path in server.workspace.glob("stderr.log*"))
        tail = server.stderr_tail()
    assert held <= CAP_BYTES + KEEP_BYTES, f"{held} bytes of stderr kept from 8 MiB written"
    assert tail.rstrip().endswith("CHATTER-END")


def test_workspaces_a_killed_run_left_are_removed_by_the_next_run_and_live_ones_kept(tmp_path: Path) -> None:
    env = cli_env() | {"TMPDIR": str(tmp_path)}
    make = (
        "from optuna_clank.core.workspace import make_workspace; print(make_workspace('trial-1'), flush=True); input()"
    )
    killed, alive = (
        subprocess.Popen(
            [sys.executable, "-c", make], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    )
    try:
        assert killed.stdout is not None and alive.stdout is not None
        left, kept = Path(killed.stdout.readline().strip()), Path(alive.stdout.readline().strip())
        (left / "config.yaml").write_text("weights: {}\n")
        killed.send_signal(signal.SIGKILL)  # a run killed outright cannot remove its workspace
        killed.wait(timeout=30)
        foreign = tmp_path / "clank-not-ours"
        foreign.mkdir()  # no owner file: not a workspace of ours, never touched
        assert left.exists()

        next_run = (
            "import shutil; from optuna_clank.core.workspace import make_workspace; shutil.rmtree(make_workspace('t'))"
        )
        subprocess.run([sys.executable, "-c", next_run], env=env, check=True, timeout=120)

        assert not left.exists()
        assert (kept / OWNER_FILE).exists() and foreign.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([kept.name, foreign.name])
        assert sweep_orphans(tmp_path) == []  # nothing else to sweep
    finally:
        for process in (killed, alive):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


def test_trimming_a_log_that_grows_while_it_is_read_keeps_a_bounded_end(tmp_path: Path) -> None:
    """The end kept is read with a bound: a writer that never pauses cannot make the watcher read without end."""
    log = tmp_path / "stderr.log"
    writer = (
        "import sys\n"
        "with open(sys.argv[1], 'ab', buffering=0) as out:\n"
        "    for _ in range(4096):\n"  # 256 MiB at most, as fast as it goes
        "        out.write(b'z' * 65535 + b'\\n')\n"
    )
    log.write_bytes(b"")
    cap = LogCap(log, cap=1024 * 1024, keep=4096)
    process = subprocess.Popen([sys.executable, "-c", writer, str(log)])
    try:
        trims = 0
        while process.poll() is None:
            if log.stat().st_size > 1024 * 1024:
                cap.trim()
                trims += 1
                assert previous(log).stat().st_size == 4096  # exactly the end asked for, never the rest
    finally:
        process.wait(timeout=120)
    cap.trim()
    assert trims > 0 and log.stat().st_size <= 1024 * 1024
    assert tail(log, 100) == ("z" * 99 + "\n")
