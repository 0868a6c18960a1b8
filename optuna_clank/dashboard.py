"""optuna-dashboard for a study's storage: live trials, user attributes, notes."""

from __future__ import annotations

import sys

from optuna_clank.errors import UserError
from optuna_clank.storage import open_storage, redact_url


def serve(storage_url: str, *, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve optuna-dashboard on ``host:port`` until interrupted."""
    try:
        import optuna_dashboard
    except ImportError as exc:  # pragma: no cover - it is a dependency
        raise UserError("optuna-dashboard is not installed (pip install optuna-dashboard)") from exc
    storage = open_storage(storage_url, heartbeat=None)
    print(f"optuna-dashboard for {redact_url(storage_url)} at http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    try:
        optuna_dashboard.run_server(storage, host=host, port=port)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
