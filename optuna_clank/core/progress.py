"""Progress for long commands: a tqdm bar on a terminal, plain lines every few seconds without one.

A bar redraws itself with carriage returns; piped into a file or a CI log that is one line of many
kilobytes. So when stderr is not a terminal, progress is a plain line at most every
:data:`LINE_SECONDS` seconds (``validate: 1,200/4,000 games (30%), 41 s``), and nothing for work that
ends sooner.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm

__all__ = ["LINE_SECONDS", "LineProgress", "progress_bar"]

LINE_SECONDS = 10.0
"""Seconds between two progress lines without a terminal."""


def progress_bar(*, total: int, unit: str, label: str, enabled: bool = True, stream: TextIO | None = None) -> Any:
    """A tqdm bar when ``stream`` (stderr) is a terminal, else a :class:`LineProgress`; silent when not ``enabled``."""
    stream = stream or sys.stderr
    if enabled and not stream.isatty():
        return LineProgress(total=total, unit=unit, label=label, stream=stream)

    return tqdm(total=total, unit=unit, file=stream, disable=not enabled, dynamic_ncols=True, leave=False)


class LineProgress:
    """The part of tqdm's interface our commands use (``update``, ``close``, ``with``), as plain lines."""

    def __init__(self, *, total: int, unit: str, label: str, stream: TextIO, every: float = LINE_SECONDS) -> None:
        self.total = total
        self.unit = unit
        self.label = label
        self.stream = stream
        self.every = every
        self.n = 0
        self._started = time.monotonic()
        self._last = self._started

    def update(self, count: int = 1) -> None:
        self.n += count
        now = time.monotonic()
        if now - self._last >= self.every and self.n < self.total:
            self._last = now
            share = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
            print(
                f"{self.label}: {self.n:,}/{self.total:,} {self.unit}s{share}, {now - self._started:.0f} s",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        """Nothing to clear: every line is already complete."""

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
