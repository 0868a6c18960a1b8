"""TODO: docstring of optuna_clank.core.paths."""

from __future__ import annotations

DEFAULT_STORAGE_DIR = "storage"
"""Folder (relative to the project root) that holds the default SQLite files."""
