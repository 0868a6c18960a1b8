"""Log files a child process writes, kept to a bounded size: only their end is worth keeping.

A snake server's stderr and stdout go to files in its workspace (a file never blocks the bot, as
a pipe that we read too slowly would). A bot that prints without end would fill the disk, so a
watcher thread looks at the files a few times a second: one grown past the cap has its last part
copied to ``<name>.prev`` and is emptied; the child, which appends (the file is opened with
``O_APPEND``), goes on writing at its new end. :func:`tail` reads the end back across both files.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

CAP_BYTES = 1024 * 1024
"""A log file is emptied once past this size (its last :data:`KEEP_BYTES` kept in ``.prev``)."""
KEEP_BYTES = 64 * 1024
CHECK_SECONDS = 0.05


def previous(path: Path) -> Path:
    """Where the end of ``path`` is kept when it is emptied."""
    return path.with_name(path.name + ".prev")


class LogCap:
    """Keeps ``paths`` under :data:`CAP_BYTES` each while it runs (:meth:`start`, :meth:`stop`)."""

    def __init__(self, *paths: Path, cap: int = CAP_BYTES, keep: int = KEEP_BYTES) -> None:
        self.paths = paths
        self.cap = cap
        self.keep = keep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="log-cap", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def trim(self) -> None:
        """Empty each file past the cap, keeping its end in ``.prev``."""
        for path in self.paths:
            with contextlib.suppress(OSError):  # a workspace being removed
                if path.stat().st_size > self.cap:
                    with path.open("rb") as file:
                        file.seek(-self.keep, os.SEEK_END)
                        end = file.read(self.keep)  # bounded: the file may grow while it is read
                    previous(path).write_bytes(end)
                    os.truncate(path, 0)

    def _watch(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            self.trim()


def tail(path: Path, chars: int) -> str:
    """The last ``chars`` characters written to ``path`` (its ``.prev`` part first), as text."""
    data = b""
    size = 4 * chars  # bytes: a character is at most 4 of them in UTF-8
    for part in (previous(path), path):
        with contextlib.suppress(OSError), part.open("rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - size))
            data = data[-size:] + file.read(size)  # bounded: the file may grow while it is read
    return data.decode("utf-8", errors="replace")[-chars:]
