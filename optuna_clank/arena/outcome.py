"""What a finished game says about its candidate, and the aggregates of many such games.

Shared by :func:`~optuna_clank.arena.match.play_match` and the continuous batch
(:mod:`optuna_clank.arena.scheduler`): a game's outcome is the same whichever of them played it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from optuna_clank.arena.players import Faults
from optuna_clank.core.stats import game_phase, mean_interval, wilson_interval


class SnakeResult(NamedTuple):
    """How one snake of a finished game fared."""

    seat: int
    player: str
    cause: str  # "" while alive at the end
    eliminated_on_turn: int
    eliminated_by: str  # player name of the killer, "" for none
    length: int
    faults: Faults = Faults()  # answers a server failed to give (always none for built-in snakes)


Result = Literal["win", "loss", "draw"]
"""A finished game, for the candidate."""


class GameOutcome(NamedTuple):
    """One finished game from the candidate's point of view."""

    game: int
    result: Result
    turns: int
    candidate_seat: int
    opponents: tuple[str, ...]
    snakes: tuple[SnakeResult, ...]
    capped: bool  # ended by the turn cap (counted as a draw)

    @property
    def score(self) -> float:
        """Graded score used as the study objective: win 1, draw 0.5, loss 0."""
        return {"win": 1.0, "draw": 0.5, "loss": 0.0}[self.result]

    @property
    def candidate(self) -> SnakeResult:
        return self.snakes[self.candidate_seat]

    @property
    def opponent_faults(self) -> Faults:
        """Faults of the opponents' servers in this game, summed."""
        return sum((s.faults for s in self.snakes if s.seat != self.candidate_seat), Faults())


@dataclass(frozen=True)
class MatchResult:
    """Per-game outcomes (sorted by game index) and their aggregates."""

    outcomes: tuple[GameOutcome, ...]
    seconds: float
    history: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    processes: int = 1  # processes that played the games (see optuna_clank.arena.processes)

    @property
    def games(self) -> int:
        return len(self.outcomes)

    def _count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def wins(self) -> int:
        return self._count("win")

    @property
    def losses(self) -> int:
        return self._count("loss")

    @property
    def draws(self) -> int:
        return self._count("draw")

    @property
    def win_rate(self) -> float:
        return self.wins / self.games if self.games else 0.0

    @property
    def win_rate_ci(self) -> tuple[float, float]:
        """Wilson 95% interval of the win rate."""
        return wilson_interval(self.wins, self.games)

    @property
    def mean_score(self) -> float:
        return sum(o.score for o in self.outcomes) / self.games if self.games else 0.0

    @property
    def score_ci(self) -> tuple[float, float]:
        """95% interval of the mean score, within [0, 1]."""
        low, high = mean_interval([o.score for o in self.outcomes])
        return max(low, 0.0), min(high, 1.0)

    @property
    def turns(self) -> int:
        """Turns played over all games."""
        return sum(o.turns for o in self.outcomes)

    @property
    def avg_turns(self) -> float:
        return self.turns / self.games if self.games else 0.0

    def death_causes(self, *, who: Literal["candidate", "opponents"] = "candidate") -> dict[str, dict[str, int]]:
        """``{cause: {phase: count}}`` of the deaths of the candidate (or of its opponents)."""
        counts: Counter[tuple[str, str]] = Counter()
        for outcome in self.outcomes:
            for snake in outcome.snakes:
                is_candidate = snake.seat == outcome.candidate_seat
                if snake.cause and is_candidate == (who == "candidate"):
                    counts[(snake.cause, game_phase(snake.eliminated_on_turn))] += 1
        table: dict[str, dict[str, int]] = {}
        for (cause, phase), count in sorted(counts.items()):
            table.setdefault(cause, {})[phase] = count
        return table

    def faults(self, *, who: Literal["candidate", "opponents"] = "candidate") -> Faults:
        """Faults of the candidate's (or the opponents') server over all games, summed."""
        if who == "candidate":
            return sum((o.candidate.faults for o in self.outcomes), Faults())
        return sum((o.opponent_faults for o in self.outcomes), Faults())

    def summary(self) -> dict[str, Any]:
        """The aggregates as a JSON-ready dict (what ``play --json`` prints)."""
        low, high = self.win_rate_ci
        seconds = max(self.seconds, 1e-9)
        return {
            "games": self.games,
            "wins": self.wins,
            "losses": self.losses,
            "draws": self.draws,
            "win_rate": self.win_rate,
            "ci_low": low,
            "ci_high": high,
            "mean_score": self.mean_score,
            "avg_turns": self.avg_turns,
            "capped_games": sum(1 for o in self.outcomes if o.capped),
            "seconds": self.seconds,
            "games_per_second": self.games / seconds,
            "turns_per_second": self.turns / seconds,
            "processes": self.processes,
            "death_causes": self.death_causes(),
            "opponent_death_causes": self.death_causes(who="opponents"),
            "faults": self.faults()._asdict(),
            "opponent_faults": self.faults(who="opponents")._asdict(),
        }
