"""The snake under tuning in its seat: its player, its server if it has one, and the faults it may show.

Its kind seats it (:meth:`optuna_clank.trial.snake_kind.SnakeKind.seat`). Example::

    with seat_candidate(spec.snake, params, base=kind_of(spec).base_config(), label="trial-3") as seated:
        result = play_match(seated.player, "baseline", games=10)
        seated.check_alive()  # a server that died mid-trial fails it, with its stderr tail
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optuna_clank.arena.players import Faults, Player
from optuna_clank.arena.served.bot_process import SnakeServer, SnakeServerFailure
from optuna_clank.arena.served.faults import count_faults, fault_problem

if TYPE_CHECKING:
    from optuna_clank.arena.match import GameOutcome


@dataclass
class SeatedCandidate:
    """A player ready for :func:`~optuna_clank.arena.match.play_match`, and its server if it has one."""

    player: Player
    server: SnakeServer | None = None

    def check_alive(self) -> None:
        """Raise :class:`~optuna_clank.arena.served.bot_process.SnakeCrashedError` if the trial's server has exited."""
        if self.server is not None:
            self.server.check_alive()

    def check_faults(self, outcomes: Sequence[GameOutcome], max_faults: int) -> None:
        """Raise :class:`ServerFaultsError` if servers failed more answers than ``max_faults`` allows."""

        problem = fault_problem(count_faults(outcomes), max_faults)
        if problem is not None:
            raise ServerFaultsError(problem, self.server.stderr_tail() if self.server is not None else "")


class ServerFaultsError(SnakeServerFailure):
    """A snake server (the tuned one, or an opponent) failed too many answers: the games measure no config."""


def fault_attrs(outcomes: Sequence[GameOutcome]) -> dict[str, int]:
    """The candidate server's faults over ``outcomes`` as trial user attributes (``http_timeouts``, ...)."""
    total = sum((o.candidate.faults for o in outcomes), Faults())
    return {f"http_{name}": int(count) for name, count in total._asdict().items()}
