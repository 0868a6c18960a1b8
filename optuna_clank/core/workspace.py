"""Temporary workspaces of snake servers, and the sweep of those a killed run left behind.

Each snake server gets a fresh folder ``clank-<label>-*`` under the temporary directory (its config,
its logs), removed when the server stops. A run killed outright (``kill -9``, a power cut) cannot
remove its folders; a config and logs of every trial that was running would pile up. So each
folder names its owner (the process that made it, with that process's start time, so a reused
process id is not taken for it), and the first workspace a process makes sweeps away the folders
whose owner is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

PREFIX = "clank-"
OWNER_FILE = ".owner"
"""Inside a workspace: ``<pid> <start time>`` of the process that made it."""

_SWEPT = threading.Event()


def make_workspace(label: str) -> Path:
    """A fresh ``clank-<label>-*`` folder owned by this process (the first call sweeps orphans first)."""
    if not _SWEPT.is_set():
        _SWEPT.set()
        sweep_orphans()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{label}-"))
    (folder / OWNER_FILE).write_text(_identity(os.getpid()))
    return folder


def sweep_orphans(root: Path | None = None) -> list[Path]:
    """Remove the workspaces under ``root`` (default: the temporary directory) whose owner is gone.

    Only folders named like a workspace, owned by this user, with an owner file naming a process
    that no longer runs. Returns what was removed.
    """
    root = Path(tempfile.gettempdir()) if root is None else root
    removed = []
    with contextlib.suppress(OSError):
        for folder in root.iterdir():
            if folder.name.startswith(PREFIX) and _orphaned(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed


def _orphaned(folder: Path) -> bool:
    try:
        if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
            return False
        pid_text, _, started = (folder / OWNER_FILE).read_text().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return False  # not a workspace of ours (or one being made right now)
    return _identity(pid) != f"{pid} {started}"


def _identity(pid: int) -> str:
    """``<pid> <start time>``; the start time is empty for a process that does not run."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        started = stat.rsplit(")", 1)[1].split()[19]  # field 22: start time in clock ticks since boot
    except (OSError, IndexError):
        started = "" if not _running(pid) else "?"
    return f"{pid} {started}"


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists (where /proc cannot tell)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
