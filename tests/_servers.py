"""Snake servers for tests: ``serve`` as a real subprocess, and tiny faulty servers on loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _study import cli_env, start_cli

READY_SECONDS = 120
"""How long ``serve`` may take to import torch and listen (a loaded 2-core machine is slow)."""


@contextmanager
def served(args: list[str], *, cwd: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m optuna_clank serve --port 0 ARGS``: yields its URL and process; stops it after."""
    process = start_cli(["serve", "--port", "0", *args], cwd=cwd)
    try:
        url = _read_url(process)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _read_url(process: subprocess.Popen[str]) -> str:
    """The URL from serve's first stdout line ('serving NAME at URL ...')."""
    assert process.stdout is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(READY_SECONDS)
    if not line or not line[0].startswith("serving "):
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"serve did not start: {line!r}\n{err}")
    return line[0].split(" at ", 1)[1].split()[0]


def run_with_stdin(args: list[str], stdin: Path, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m optuna_clank ARGS < stdin``."""
    with stdin.open() as source:
        return subprocess.run(
            [sys.executable, "-m", "optuna_clank", *args],
            check=False,
            cwd=cwd,
            env=cli_env(),
            stdin=source,
            capture_output=True,
            text=True,
            timeout=240,
        )


Handler = Callable[[str, dict[str, Any]], tuple[int, bytes] | None]
"""A fake snake: (path, body) -> (status, raw reply), or None to never answer."""


class FakeSnake:
    """A threaded loopback HTTP server answering with ``handler``; records the paths it saw.

    A handler returning ``None`` holds the request until :meth:`stop` (a snake that hangs).
    It speaks HTTP/1.0 (a connection per request) unless ``keep_alive``.
    """

    def __init__(self, handler: Handler, *, keep_alive: bool = False) -> None:
        self.handler = handler
        self.paths: list[str] = []
        self.release = threading.Event()
        fake = self

        class _Requests(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                del args

            def do_GET(self) -> None:
                self._reply(200, json.dumps({"apiversion": "1"}).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.paths.append(self.path)
                answer = fake.handler(self.path, body)
                if answer is None:
                    fake.release.wait()
                    return
                self._reply(*answer)

            def _reply(self, status: int, raw: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the client gave up (timed out): nothing to do

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Requests)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def moves(self) -> int:
        return self.paths.count("/move")

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FakeSnake:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def first_free_move(body: dict[str, Any]) -> str:
    """A deterministic snake in a few lines: the first move (in an order that turns with the turn) that
    leaves the board and every body alone. Depends on the board only, never on timing."""
    board, you = body["board"], body["you"]
    head = you["body"][0] if "body" in you else next(s for s in board["snakes"] if s["id"] == you["id"])["body"][0]
    taken = {(part["x"], part["y"]) for snake in board["snakes"] for part in snake["body"][:-1]}
    steps = {"up": (0, 1), "right": (1, 0), "down": (0, -1), "left": (-1, 0)}
    names = list(steps)
    turn = int(body.get("turn", 0))
    for name in names[turn % 4 :] + names[: turn % 4]:
        dx, dy = steps[name]
        x, y = head["x"] + dx, head["y"] + dy
        if 0 <= x < board["width"] and 0 <= y < board["height"] and (x, y) not in taken:
            return name
    return "up"


class CrowdedSnake:
    """A fake snake's handler that answers slower the more requests it holds: ``ms_per_request`` times the
    requests in flight when one arrives (a bot whose cores are shared by every request it serves)."""

    def __init__(self, ms_per_request: float) -> None:
        self.ms_per_request = ms_per_request
        self.in_flight = 0
        self.peak = 0
        self.moves = 0
        self._lock = threading.Lock()

    def __call__(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        if path != "/move":
            return 200, b"{}"
        with self._lock:
            self.in_flight += 1
            self.moves += 1
            held = self.in_flight
            self.peak = max(self.peak, held)
        try:
            time.sleep(self.ms_per_request * held / 1000)
            return 200, json.dumps({"move": first_free_move(body)}).encode()
        finally:
            with self._lock:
                self.in_flight -= 1
