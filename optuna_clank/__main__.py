"""``python -m optuna_clank``: the command-line front door."""

from __future__ import annotations

from optuna_clank.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
