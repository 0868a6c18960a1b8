"""optuna-dashboard for a study's storage: live trials, their notes, replays and pictures.

The dashboard is optuna-dashboard's own WSGI app, served by a small threaded wsgiref server
of ours rather than by ``optuna_dashboard.run_server``: binding the port first turns a taken
port into one clear line before anything is printed, port 0 picks a free port (the printed
URL says which), and the same server runs in a thread beside ``optimize --dashboard`` and
stops with it.
"""

from __future__ import annotations

import errno
import socketserver
import sys
import threading
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from optuna.artifacts import FileSystemArtifactStore

from optuna_clank.core.errors import UserError
from optuna_clank.core.extras import require
from optuna_clank.study.storage import open_storage

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """The page fetches scripts and API calls at once; one thread per request keeps it quick."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No line per request: they would scroll the progress bar of ``optimize`` away."""

    def log_message(self, *args: Any) -> None:
        del args

    def address_string(self) -> str:
        return str(self.client_address[0])  # no reverse DNS lookup per request


def dashboard_app(storage_url: str, artifacts: Path) -> Any:
    """optuna-dashboard's WSGI app on ``storage_url``, serving artifacts from ``artifacts``."""
    optuna_dashboard = require("dashboard", "the dashboard")

    try:
        artifacts.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the artifact folder {artifacts}: {exc.strerror or exc}") from exc
    storage = open_storage(storage_url, heartbeat=None)
    return optuna_dashboard.wsgi(storage, artifact_store=FileSystemArtifactStore(artifacts))


class DashboardServer:
    """optuna-dashboard bound to ``host:port``; :meth:`serve_forever` here, or :meth:`start` in a thread.

    Raises :class:`UserError` at construction when the port is taken or the address unusable.
    """

    def __init__(self, storage_url: str, artifacts: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
        app = dashboard_app(storage_url, artifacts)
        try:
            self._server = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is taken (another dashboard?); choose another with --port"
                ) from exc
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        self.host = host
        self.port = int(self._server.server_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def start(self) -> DashboardServer:
        """Serve in a daemon thread (it never keeps the process alive)."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="optuna-dashboard", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start` and free the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(
    storage_url: str, *, artifacts: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, title: str = ""
) -> None:
    """Serve optuna-dashboard on ``host:port`` until Ctrl-C (the normal way to stop it), after printing its URL."""
    server = DashboardServer(storage_url, artifacts, host=host, port=port)
    print(f"optuna-dashboard{' for ' + title if title else ''}: {server.url}", flush=True)
    print(f"  artifacts from {artifacts}; Ctrl-C stops it", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("optuna-dashboard stopped", file=sys.stderr)
