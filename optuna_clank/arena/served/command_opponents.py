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
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from optuna_clank.arena.served.bot_process import SnakeServer
from optuna_clank.arena.served.bot_spec import SnakeSpec

_LOCK = threading.Lock()
_STARTER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="opponent-servers")
"""The thread every opponent server is started from: it lives as long as the process."""
_RUNNING: dict[tuple[tuple[str, ...], Path], SnakeServer] = {}  # (command, folder) -> its server
_EXIT_GRACE_S = 2.0
"""How long a server that refuses connections has to be reported gone by the kernel."""


def command_server_url(command: tuple[str, ...], folder: Path) -> str:
    """The URL of the server ``command`` runs in ``folder``, started now if it is not running.

    Raises :class:`~optuna_clank.arena.served.bot_process.SnakeStartError` (a user error, with the server's
    stderr tail) if it exits or does not answer ``GET /`` in time.
    """
    key = (command, folder)
    with _LOCK:
        server = _RUNNING.get(key)
        if server is not None and _alive(server):
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


def _alive(server: SnakeServer) -> bool:
    """Whether the server still runs. A process that is exiting closes its socket a moment before the
    kernel reports it gone: a server that refuses connections is given that moment to be seen dead."""
    if server.exit_status() is not None:
        return False
    if _accepts(server.url):
        return True
    deadline = time.monotonic() + _EXIT_GRACE_S
    while time.monotonic() < deadline:
        if server.exit_status() is not None:
            return False
        time.sleep(0.02)
    return True  # it runs but refuses connections now: the games will tell (a forfeit, not a restart loop)


def _accepts(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1.0):
            return True
    except OSError:
        return False


def stop_command_servers() -> None:
    """Stop every opponent server this process started (at exit; callable earlier)."""
    with _LOCK:
        servers = list(_RUNNING.values())
        _RUNNING.clear()
    for server in servers:
        server.stop()
