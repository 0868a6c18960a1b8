"""Where optuna-clank keeps its files by default: the project's ``storage/`` (SQLite files, checkpoints, artifacts)."""

from __future__ import annotations

DEFAULT_STORAGE_DIR = "storage"
"""Folder (relative to the project root) that holds the default SQLite files."""
