"""Stop and abort requests shared by the processes of one run, as flag files.

The first Ctrl-C asks every worker to finish its running trial and stop; the second asks them
to stop now (the running trials end as FAIL and are queued again with the same parameters, so
the next run plays them first). Workers are separate processes, so the request is a file in a
folder they all know, checked between trials and between rounds of games: cheap, and it
survives any signal routing of terminals and pools.

Signals that arrive within :data:`PRESS_WINDOW` seconds of the last counted one are the same
press: ``timeout -s INT``, or a terminal that signals the whole process group, can deliver
two signals at once, and that must not abort the running trials.
"""

from __future__ import annotations

import math
import signal
import sys
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from types import FrameType

_STOP = "stop"
_ABORT = "abort"
PRESS_WINDOW = 1.0
"""Seconds within which further SIGINT/SIGTERM signals count as the same press."""


class StopReason(StrEnum):
    """Why a slot stopped (``SlotReport.stopped``), when it is one of the fixed reasons.

    A ``StrEnum``, so a reason read back from a slot's JSON report (a plain string) compares
    equal to its member. Stops for trouble that needs a number carry a message of their own
    instead (``"5 failed trials in a row"``, ``"worker exited with status 2"``).
    """

    TARGET_REACHED = "target reached"
    STOP_REQUESTED = "stop requested"
    TIMEOUT = "timeout"
    ABORTED = "aborted"
    NO_REPORT = "no report"


CLEAN_STOPS = (StopReason.TARGET_REACHED, StopReason.STOP_REQUESTED, StopReason.TIMEOUT)
"""Stops that are no trouble: ``optimize`` reports a slot only when it stopped otherwise (or had errors)."""


class RunControl:
    """Flags of one run, in ``folder`` (created if missing)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="optuna-clank-run-"))
        self.folder.mkdir(parents=True, exist_ok=True)

    def request_stop(self) -> None:
        """Finish the running trials, start no new ones."""
        (self.folder / _STOP).touch()

    def request_abort(self) -> None:
        """Stop the running trials at their next round of games."""
        self.request_stop()
        (self.folder / _ABORT).touch()

    def stop_requested(self) -> bool:
        return (self.folder / _STOP).exists()

    def abort_requested(self) -> bool:
        return (self.folder / _ABORT).exists()

    def install_interrupt_handler(self, *, quiet: bool = False) -> None:
        """Ctrl-C once: stop after the running trials; twice: abort them; three times: exit.

        A signal within :data:`PRESS_WINDOW` seconds of the last counted press is ignored.
        """
        presses = 0
        last_press = -math.inf

        def handler(signum: int, frame: FrameType | None) -> None:
            del signum, frame
            nonlocal presses, last_press
            now = time.monotonic()
            if now - last_press < PRESS_WINDOW:
                return  # the same press, delivered twice
            last_press = now
            presses += 1
            if presses == 1:
                self.request_stop()
                if not quiet:
                    print(
                        "\nstopping after the running trials finish (Ctrl-C again to stop them now)",
                        file=sys.stderr,
                        flush=True,
                    )
            elif presses == 2:
                self.request_abort()
                if not quiet:
                    print(
                        "\nstopping the running trials now (marked failed and queued again: the next run plays them)",
                        file=sys.stderr,
                        flush=True,
                    )
            else:
                raise KeyboardInterrupt

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
