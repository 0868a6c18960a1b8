"""How many requests one snake server gets at once: as many as it answers well within the deadline.

A benchmark must measure the snake, not its overload. A bot on a small machine answers one
``/move`` in a few milliseconds but a few hundred at once only after its deadline, and a late
answer makes the arena repeat the previous move: the benchmark would create the faults it then
counts (the real go-battleclank at 1,000 games per batch lost 2,551 of its answers that way on a
2-core machine). :class:`InFlightLimit` keeps the requests in flight to what the server answers
in time, learning it from the latency it sees, the way TCP learns a congestion window (AIMD):

* it starts at :data:`START` requests and grows by one per answer while answers come back in under
  :data:`GROW_BELOW` of the deadline and requests are waiting for a slot (doubling each round
  trip until the first slow answer, by one per round trip after it);
* an answer later than :data:`SHRINK_ABOVE` of the deadline, or a timeout, halves it (once per
  round trip: the answers to requests sent before the halving do not halve it again);
* between the two it holds.

A server that misses the deadline even with one request in flight is not overloaded by us: it
is hung or too slow. The limit then stops limiting (every waiting request goes out, as the
official CLI sends them), so a dead server costs one deadline per turn rather than one per
request; its timeouts are counted as faults, and the limit starts learning again from its next
answer in time.

Latency is measured from when a request went out to when its answer was read. An answer read
right after the caller was busy elsewhere (the arena computes other players' moves while the
server thinks) may have arrived long before: its latency is only an upper bound, so it may grow
the limit but never shrinks it (``loose``).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

START = 4
"""Requests in flight before anything is known about the server."""

GROW_BELOW = 0.1
"""Answers in under this share of the deadline let the limit grow (100 ms of the usual 500)."""

SHRINK_ABOVE = 0.2
"""An answer after this share of the deadline (200 ms of 500), or a timeout, halves the limit."""


class Ticket(NamedTuple):
    """What :meth:`InFlightLimit.take` hands out and :meth:`InFlightLimit.done` takes back."""

    sent_at: float  # time.perf_counter() when the request went out
    alone: bool  # the only request in flight when sent


Waiter = Callable[[Ticket], bool]
"""Called with a slot taken for it; returns whether it used the slot (False: it gave up waiting)."""


class InFlightLimit:
    """The in-flight limit of one server's requests, at most ``maximum`` (see the module docstring).

    Used on one event loop: :meth:`take` when a request goes out (only while :attr:`free`, or for a
    waiter woken by :meth:`wait`), :meth:`done` when its answer is read or it timed out.
    """

    def __init__(self, deadline_ms: int, *, maximum: int = 256, start: int = START) -> None:
        if deadline_ms < 1 or maximum < 1 or start < 1:
            raise ValueError("deadline_ms, maximum and start must be at least 1")
        self.maximum = maximum
        self._start = float(min(start, maximum))
        self._window = self._start
        self._threshold = float(maximum)  # below it the window doubles per round trip, above it grows by one
        self._grow_below = deadline_ms * GROW_BELOW / 1000
        self._shrink_above = deadline_ms * SHRINK_ABOVE / 1000
        self._deadline = deadline_ms / 1000
        self._last_shrink = -math.inf
        self._unresponsive = False
        self.in_flight = 0
        self.peak = 0  # the highest limit reached
        self.shrinks = 0
        self.slowest = 0.0  # seconds: the slowest answer measured exactly (not loose)
        self._waiters: deque[Waiter] = deque()
        self._waking = False

    @property
    def limit(self) -> int:
        """Requests the server may have in flight now."""
        return self.maximum if self._unresponsive else max(1, int(self._window))

    @property
    def free(self) -> bool:
        """Whether a request may go out now without waiting (nobody waits before it)."""
        return self.in_flight < self.limit and not self._waiters

    def take(self) -> Ticket:
        """A request goes out now."""
        self.in_flight += 1
        return Ticket(time.perf_counter(), self.in_flight == 1)

    def wait(self, waiter: Waiter) -> None:
        """Call ``waiter`` (a slot taken for it) as soon as the limit allows, after earlier waiters."""
        self._waiters.append(waiter)
        self._wake()

    def release(self, ticket: Ticket) -> None:
        """The request of ``ticket`` was dropped unanswered for a reason of ours: nothing is learnt."""
        del ticket
        self.in_flight -= 1
        self._wake()

    def done(self, ticket: Ticket, *, latency: float | None, loose: bool = False) -> None:
        """The request of ``ticket`` ended: answered after ``latency`` seconds, or timed out (``None``)."""
        waiting = bool(self._waiters) or self.in_flight >= self.limit
        self.in_flight -= 1
        if latency is None:
            if not self._unresponsive:
                self._slow(ticket, timed_out=True)
        elif self._unresponsive:
            if latency <= self._deadline:  # answering in time again: learn from the start
                self._unresponsive = False
                self._window, self._threshold = self._start, float(self.maximum)
        elif latency > self._shrink_above and not loose:
            self._slow(ticket, timed_out=False)
        elif latency < self._grow_below and waiting:
            self._grow()
        if latency is not None and not loose:
            self.slowest = max(self.slowest, latency)
        self._wake()

    def _grow(self) -> None:
        self._window += 1.0 if self._window < self._threshold else 1.0 / self._window
        self._window = min(self._window, float(self.maximum))
        self.peak = max(self.peak, self.limit)

    def _slow(self, ticket: Ticket, *, timed_out: bool) -> None:
        if timed_out and ticket.alone and self._window < 2:
            self._unresponsive = True  # too slow even alone: we are not the cause
            return
        if ticket.sent_at <= self._last_shrink:
            return  # sent before the last halving: its answer says nothing about the new limit
        self._threshold = max(self._window / 2, 1.0)
        self._window = self._threshold
        self._last_shrink = time.perf_counter()
        self.shrinks += 1

    def _wake(self) -> None:
        if self._waking:
            return  # a waiter waits again from inside this loop: the loop serves it
        self._waking = True
        try:
            while self._waiters and self.in_flight < self.limit:
                waiter = self._waiters.popleft()
                if not waiter(self.take()):
                    self.in_flight -= 1
        finally:
            self._waking = False
