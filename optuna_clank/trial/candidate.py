"""The snake under tuning in its seat: one way in for built-in snakes and for snake servers.

:func:`seat_candidate` is the only place that turns a trial's values into a player. A built-in
snake plays in-process with the values merged into its config; a server snake gets its own
process per trial (:class:`~optuna_clank.arena.served.bot_process.SnakeServer`), seated through the HTTP
player, and is stopped when the ``with`` block ends, however it ends.

Example::

    with seat_candidate(spec.snake, params, base=snake_base_of(spec), label="trial-3") as seated:
        result = play_match(seated.player, "baseline", games=10)
        seated.check_alive()  # a server that died mid-trial fails it, with its stderr tail
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.config import with_values
from optuna_clank.arena.http.player import HttpSnake
from optuna_clank.arena.players import Faults, Player
from optuna_clank.arena.served.bot_process import SnakeServer, SnakeServerFailure
from optuna_clank.arena.served.bot_spec import SnakeSpec, with_dotted_values
from optuna_clank.arena.served.faults import count_faults, fault_problem
from optuna_clank.arena.snakes.heuristic import HeuristicSnake

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


@contextlib.contextmanager
def seat_candidate(
    snake: SnakeSpec, values: Mapping[str, Any], *, base: Mapping[str, Any], label: str = "candidate"
) -> Iterator[SeatedCandidate]:
    """The snake with ``values`` set on ``base``, seated; a server is stopped on leaving, always."""
    if not snake.is_server:
        yield SeatedCandidate(player=_builtin_player(snake.builtin, base, values))
        return

    with SnakeServer(snake, values, base=base, label=label) as server:
        player = HttpSnake(
            server.url, name="candidate", timeout_ms=snake.move_timeout_ms, max_connections=snake.max_in_flight
        )
        try:
            yield SeatedCandidate(player=player, server=server)
        finally:
            player.close()


def _builtin_player(name: str, base: Mapping[str, Any], values: Mapping[str, Any]) -> Player:

    if name == "gbc":
        from optuna_clank.arena.snakes.gbc import GbcSnake  # noqa: PLC0415 - deferred: loads torch

        return GbcSnake(with_dotted_values(base, values), name="candidate")
    if name != "heuristic":
        raise ValueError(f"no tunable built-in snake {name!r}")
    return HeuristicSnake(with_values(dict(base), values), name="candidate")


def fault_attrs(outcomes: Sequence[GameOutcome]) -> dict[str, int]:
    """The candidate server's faults over ``outcomes`` as trial user attributes (``http_timeouts``, ...)."""
    total = sum((o.candidate.faults for o in outcomes), Faults())
    return {f"http_{name}": int(count) for name, count in total._asdict().items()}
