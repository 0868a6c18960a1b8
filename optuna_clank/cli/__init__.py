"""The command line (``python -m optuna_clank``): parse, call one function, report. The top layer."""

from __future__ import annotations
