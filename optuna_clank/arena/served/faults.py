"""Server faults of a set of games, and whether the games still measure the config.

A late, failed or invalid answer makes the arena repeat the snake's previous move, and a server
that went away forfeits its games: games with such faults measure the server's trouble (a bot
that answers garbage, a machine too busy to answer in time), not the config it plays. So a trial
or a validation record whose servers (the tuned snake's, or an opponent's) failed more answers
than ``[benchmark] max_faults`` allows (none, by default) is not a measurement: the trial fails
with the reason, the record is stored but refused for the verdict.

Example::

    count = count_faults(result.outcomes)
    problem = fault_problem(count, spec.benchmark.max_faults)   # None, or one sentence with a fix
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.opponents import is_command_reference, is_server_reference
from optuna_clank.arena.players import Faults

if TYPE_CHECKING:
    from optuna_clank.arena.match import GameOutcome

DEFAULT_MAX_FAULTS = 0
"""Faulty answers a trial or validation record may hold and still count (``[benchmark] max_faults``)."""

_WORDS = {"timeouts": "timeouts", "errors": "errors", "invalid": "invalid answers", "disconnects": "disconnects"}


@dataclass(frozen=True)
class FaultCount:
    """The faults of a set of games: the tuned snake's, each opponent's, and how often the snake was asked."""

    candidate: Faults = field(default_factory=Faults)
    opponents: dict[str, Faults] = field(default_factory=dict)  # opponent name -> its faults
    asked: int = 0  # /move requests the tuned snake answered or failed: one per turn it started alive

    @property
    def opponent_total(self) -> Faults:
        return sum(self.opponents.values(), Faults())


def count_faults(outcomes: Sequence[GameOutcome]) -> FaultCount:
    """The faults of ``outcomes`` (built-in snakes never have any)."""
    candidate = Faults()
    opponents: dict[str, Faults] = {}
    asked = 0
    for outcome in outcomes:
        snake = outcome.candidate
        candidate += snake.faults
        asked += snake.eliminated_on_turn if snake.cause else outcome.turns
        for other in outcome.snakes:
            if other.seat != outcome.candidate_seat and other.faults.total:
                opponents[other.player] = opponents.get(other.player, Faults()) + other.faults
    return FaultCount(candidate, opponents, asked)


def describe_faults(faults: Faults | Mapping[str, Any]) -> str:
    """``"27 timeouts, 3 invalid answers"`` ("none" when there are none)."""
    counts = faults._asdict() if isinstance(faults, Faults) else faults
    parts = [f"{int(counts[name]):,} {word}" for name, word in _WORDS.items() if counts.get(name)]
    return ", ".join(parts) or "none"


def fault_problem(count: FaultCount, max_faults: int = DEFAULT_MAX_FAULTS) -> str | None:
    """Why these games do not measure the config (one sentence with a way out), or ``None`` if they do."""
    problems = []
    if count.candidate.total > max_faults:
        problems.append(
            f"the tuned snake's server failed {count.candidate.total:,} of its {count.asked:,} answers "
            f"({describe_faults(count.candidate)})"
        )
    for name, faults in sorted(count.opponents.items()):
        if faults.total > max_faults:
            problems.append(f"opponent {name!r} failed {faults.total:,} answers ({describe_faults(faults)})")
    if not problems:
        return None
    kinds = count.candidate + count.opponent_total
    return (
        f"{'; '.join(problems)}, more than [benchmark] max_faults = {max_faults} allows: these games measure "
        f"the server's trouble, not the config; {_advice(kinds)}"
    )


def _advice(faults: Faults) -> str:
    advice = []
    if faults.timeouts:
        advice.append(
            "answers came after the deadline: run where the bot gets a CPU core of its own, lower [snake] "
            "max_in_flight, or raise [snake] move_timeout_ms"
        )
    if faults.errors or faults.invalid:
        advice.append("check the bot: it answered HTTP errors or no valid move (see its stderr)")
    if faults.disconnects:
        advice.append("the server went away during the games (see its stderr)")
    return "; ".join(advice)


def servers_involved(snake_is_server: bool, opponents: Sequence[str]) -> bool:
    """Whether games of this snake against ``opponents`` ask a server (so their faults are worth reporting)."""

    return snake_is_server or any(is_server_reference(o) or is_command_reference(o) for o in opponents)


def fault_fields(outcomes: Sequence[GameOutcome]) -> dict[str, Any]:
    """A record's fault fields: the tuned snake's and the opponents' counts, the answers asked."""
    count = count_faults(outcomes)
    return {
        "faults": count.candidate._asdict(),
        "opponent_faults": count.opponent_total._asdict(),
        "answers": count.asked,
    }
