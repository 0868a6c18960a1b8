"""One snake server per trial: a workspace with the trial's config, a process, and a clean end.

:class:`SnakeServer` writes the trial's values into a copy of the base config in a fresh temporary
folder (:mod:`optuna_clank.core.workspace`: folders a killed run left are swept), starts the snake's
command there on a free loopback port (in its own process group, with a minimal environment:
:meth:`optuna_clank.arena.served.bot_spec.SnakeSpec.environment`; its stderr and stdout kept to a bounded size:
:mod:`optuna_clank.core.log_cap`), and waits until ``GET /`` answers. Leaving the ``with`` block -
normally, on pruning, on an exception or on Ctrl-C - stops the whole process group (SIGTERM, then
SIGKILL) and removes the folder. A snake that exits or never answers raises
:class:`SnakeStartError`, one that dies later :class:`SnakeCrashedError` (see
:meth:`SnakeServer.check_alive`); both carry the tail of its stderr, so the failed trial says why.

Example::

    with SnakeServer(spec.snake, {"weights.space": 250.0}) as server:
        play_against(server.url)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from optuna_clank.arena.served.bot_spec import SnakeSpec, load_base_config, substitute, with_dotted_values, write_config
from optuna_clank.core.errors import UserError
from optuna_clank.core.log_cap import LogCap, tail
from optuna_clank.core.workspace import make_workspace

CONFIG_NAME = "config.yaml"
"""The trial's config inside its workspace (``{config}``)."""

STDERR_TAIL_CHARS = 2000
_STOP_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.05


class SnakeServerFailure(UserError, RuntimeError):
    """A snake server that failed its trial; ``stderr_tail`` is the end of what it wrote to stderr."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


class SnakeStartError(SnakeServerFailure):
    """The snake's server could not be started, exited, or did not answer ``GET /`` in time."""


class SnakeCrashedError(SnakeServerFailure):
    """The snake's server exited while its games were being played."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (the kernel's choice, so parallel slots never collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SnakeServer:
    """A snake server started for one config; use it as a context manager.

    Args:
        snake: a ``[snake]`` section with a ``command``.
        values: dotted keys -> values written into the base config (``{}``: the base as it is).
        base: the base config's data; default: read from ``snake.base_config``.
        label: goes into the workspace's name (e.g. ``trial-12``), to find it while it runs.
    """

    def __init__(
        self,
        snake: SnakeSpec,
        values: Mapping[str, Any],
        *,
        base: Mapping[str, Any] | None = None,
        label: str = "snake",
    ) -> None:
        if not snake.starts_server:
            raise ValueError("SnakeServer needs a snake with a command")
        self.snake = snake
        self.values = dict(values)
        self.base = load_base_config(snake.base_config) if base is None else base
        self.label = label
        self.workspace: Path | None = None
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr_path: Path | None = None
        self._logs: LogCap | None = None

    @property
    def config_path(self) -> Path:
        assert self.workspace is not None, "the server is not started"
        return self.workspace / CONFIG_NAME

    def __enter__(self) -> SnakeServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Workspace, config, process, then wait for ``GET /`` (raises :class:`SnakeStartError`)."""
        config = with_dotted_values(self.base, self.values)
        self.workspace = make_workspace(self.label)
        write_config(self.config_path, config)
        self.port = free_port()
        places = {"port": str(self.port), "config": str(self.config_path), "workspace": str(self.workspace)}
        command = [substitute(part, places) for part in self.snake.command]
        env = self.snake.environment(places, os.environ)  # no keys or database URLs of ours
        self.url = substitute(self.snake.url, places).rstrip("/")
        self._stderr_path = self.workspace / "stderr.log"
        stdout_path = self.workspace / "stdout.log"
        # appending (O_APPEND): the child writes at the end even after LogCap empties the file
        with self._stderr_path.open("ab") as stderr, stdout_path.open("ab") as stdout:
            try:
                self.process = subprocess.Popen(
                    command,
                    cwd=self.snake.cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    start_new_session=True,  # its own process group: stop() reaches its children too
                    # Runs no Python code that takes a lock (no import, no allocation by us): one prctl call
                    # through a function resolved before the fork, so the threads of a worker cannot deadlock it.
                    preexec_fn=_die_with_parent,  # noqa: PLW1509
                )
            except OSError as exc:
                raise SnakeStartError(f"cannot start snake {command[0]!r}: {exc.strerror or exc}") from None
        self._logs = LogCap(self._stderr_path, stdout_path)  # started after the fork: no thread of ours in it
        self._logs.start()
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.snake.startup_timeout
        while True:
            code = self.process.poll()
            if code is not None:
                tail = self.stderr_tail()
                raise SnakeStartError(
                    f"snake server exited with status {code} before answering GET {self.url}/"
                    + (f": {_last_line(tail)}" if tail else ""),
                    tail,
                )
            if _answers(self.url):
                return
            if time.monotonic() >= deadline:
                tail = self.stderr_tail()
                raise SnakeStartError(
                    f"snake server did not answer GET {self.url}/ within {self.snake.startup_timeout:g} s", tail
                )
            time.sleep(_POLL_SECONDS)

    def check_alive(self) -> None:
        """Raise :class:`SnakeCrashedError` (with its stderr tail) if the server has exited."""
        status = self.exit_status()
        if status is not None:
            raise SnakeCrashedError(f"snake server exited with status {status} while playing", self.stderr_tail())

    def exit_status(self) -> int | None:
        """The process's exit status, ``None`` while it runs (or before it started)."""
        return None if self.process is None else self.process.poll()

    def stderr_tail(self, chars: int = STDERR_TAIL_CHARS) -> str:
        """The last ``chars`` characters the server wrote to stderr (while its workspace exists)."""
        if self._stderr_path is None:
            return ""
        return tail(self._stderr_path, chars)

    def stop(self) -> None:
        """Stop the process group (SIGTERM, then SIGKILL) and remove the workspace; idempotent."""
        process, self.process = self.process, None
        if process is not None:
            _stop_group(process)
        logs, self._logs = self._logs, None
        if logs is not None:
            logs.stop()
        workspace, self.workspace = self.workspace, None
        if workspace is not None:
            shutil.rmtree(workspace, ignore_errors=True)


_PR_SET_PDEATHSIG = 1
_SIGTERM = int(signal.SIGTERM)
_PRCTL = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError, AttributeError):
        _PRCTL = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent() -> None:
    """In the child before exec (Linux): a SIGTERM when the process that started it dies.

    A worker killed with ``kill -9`` cannot stop its trial's server itself; this way the server
    does not outlive it. Resolved before the fork, one plain system call in the child.
    """
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, _SIGTERM)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the whole group, SIGKILL to what is left after a grace period, then reap."""
    group = process.pid  # start_new_session: the group id is the leader's pid
    _signal_group(group, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_GRACE_SECONDS)
    _signal_group(group, signal.SIGKILL)  # children that outlived the leader, or a leader that ignored TERM
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_GRACE_SECONDS)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""An opener that ignores ``http_proxy``: the snake is on this machine."""


def _answers(url: str) -> bool:
    """Whether ``GET url/`` gets any HTTP answer of 2xx now."""
    try:
        with _DIRECT.open(f"{url}/", timeout=1.0) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
