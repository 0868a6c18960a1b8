"""Opponents that are snake servers started from a command (``cmd:./my-bot``), one process per command.

An opponent plays every round of every trial, so its server is started once per process, on the
first game that needs it, and shared by every round, trial and thread after that. It runs in its
own process group on a free loopback port (``PORT``, and ``{port}`` in the command), and is
stopped when the process exits. A server found dead when the next games start is started again,
so one crash costs only the games it was playing (counted as its disconnects, as with any server
opponent).

Servers are started from one long-lived thread of their own. A server is told to stop when the
thread that started it ends (so that a killed process leaves none behind), and the worker thread
that first needs an opponent may end long before the other threads finish their games.
"""

from __future__ import annotations

import atexit
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from optuna_clank.snake import SnakeSpec
from optuna_clank.snake_server import SnakeServer

_LOCK = threading.Lock()
_STARTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opponent-servers")
"""The thread every opponent server is started from: it lives as long as the process."""
_RUNNING: dict[tuple[tuple[str, ...], Path], SnakeServer] = {}  # (command, folder) -> its server


def command_server_url(command: tuple[str, ...], folder: Path) -> str:
    """The URL of the server ``command`` runs in ``folder``, started now if it is not running.

    Raises :class:`~optuna_clank.snake_server.SnakeStartError` (a user error, with the server's
    stderr tail) if it exits or does not answer ``GET /`` in time.
    """
    key = (command, folder)
    with _LOCK:
        server = _RUNNING.get(key)
        if server is not None and server.exit_status() is None:
            return server.url
        if server is not None:
            server.stop()  # it died: its workspace goes, a new one starts
        spec = SnakeSpec(command=command, env=(("PORT", "{port}"),), url="http://127.0.0.1:{port}", cwd=folder)
        server = SnakeServer(spec, {}, base={}, label="opponent")
        try:
            _STARTER.submit(server.start).result()
        except BaseException:
            server.stop()
            raise
        if not _RUNNING:
            atexit.register(stop_command_servers)
        _RUNNING[key] = server
        return server.url


def stop_command_servers() -> None:
    """Stop every opponent server this process started (at exit; callable earlier)."""
    with _LOCK:
        servers = list(_RUNNING.values())
        _RUNNING.clear()
    for server in servers:
        server.stop()
