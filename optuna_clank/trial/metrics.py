"""What a trial's games are worth: the objectives a spec may name, the attributes every trial records, and the
death causes the LLM reads. The formulas themselves live on :class:`~optuna_clank.arena.outcome.MatchResult`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import optuna

from optuna_clank.arena.match import GameOutcome, MatchResult
from optuna_clank.core.attributes import DEATH_CAUSES_KEY, GAMES_PLAYED_KEY, MEAN_SCORE_KEY, WIN_RATE_CI_KEY
from optuna_clank.trial.tournament import Tournament

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec


def mean_score(outcomes: Sequence[GameOutcome], max_turns: int) -> float:
    """Win 1, draw 0.5, loss 0, averaged over games."""
    del max_turns
    return MatchResult(tuple(outcomes), 0.0).mean_score


def win_rate(outcomes: Sequence[GameOutcome], max_turns: int) -> float:
    del max_turns
    return MatchResult(tuple(outcomes), 0.0).win_rate


def survival(outcomes: Sequence[GameOutcome], max_turns: int) -> float:
    """Mean share of the turn cap the candidate stays alive."""
    lived = [o.candidate.eliminated_on_turn if o.candidate.cause else o.turns for o in outcomes]
    return sum(lived) / len(lived) / max_turns


def avg_turns(outcomes: Sequence[GameOutcome], max_turns: int) -> float:
    del max_turns
    return MatchResult(tuple(outcomes), 0.0).avg_turns


_METRICS: dict[str, Callable[[Sequence[GameOutcome], int], float]] = {
    "score": mean_score,
    "win_rate": win_rate,
    "survival": survival,
    "avg_turns": avg_turns,
}


def objective_values(
    spec: StudySpec, outcomes: Sequence[GameOutcome], tournament: Tournament | None = None
) -> tuple[float, ...]:
    """The spec's objectives over ``outcomes`` (a tournament's: weighted means over its opponents)."""
    max_turns = spec.benchmark.max_turns
    metrics = _metrics(spec.study.objectives)
    if tournament is not None:
        return tuple(tournament.weighted(metric, outcomes, max_turns) for metric in metrics)
    return tuple(metric(outcomes, max_turns) for metric in metrics)


def _metrics(names: Sequence[str]) -> list[Callable[[Sequence[GameOutcome], int], float]]:
    return [_METRICS[name] for name in names]


def outcome_attrs(outcomes: Sequence[GameOutcome], seconds: float) -> dict[str, Any]:
    """The user attributes recorded on every trial (also used for validation runs)."""
    result = MatchResult(tuple(outcomes), seconds)
    n = result.games
    low, high = result.win_rate_ci
    score_low, score_high = result.score_ci
    return {
        GAMES_PLAYED_KEY: n,
        MEAN_SCORE_KEY: round(result.mean_score, 4) if n else None,
        "wins": result.wins,
        "losses": result.losses,
        "draws": result.draws,
        WIN_RATE_CI_KEY: [round(low, 4), round(high, 4)],
        "score_ci": [round(score_low, 4), round(score_high, 4)],
        "avg_turns": round(result.avg_turns, 2),
        DEATH_CAUSES_KEY: result.death_causes(),
        "seconds": round(seconds, 3),
    }


def death_cause_summary(trials: Sequence[optuna.trial.FrozenTrial]) -> str:
    """One line for the LLM prompt: how the candidate died in recent trials, by cause and phase."""
    totals: Counter[str] = Counter()
    phases: dict[str, Counter[str]] = {}
    games = 0
    for trial in trials:
        games += int(trial.user_attrs.get(GAMES_PLAYED_KEY, 0))
        for cause, by_phase in (trial.user_attrs.get(DEATH_CAUSES_KEY) or {}).items():
            for phase, count in by_phase.items():
                totals[cause] += count
                phases.setdefault(cause, Counter())[phase] += count
    if not games or not totals:
        return ""
    parts = []
    for cause, count in totals.most_common():
        detail = ", ".join(f"{phase} {n}" for phase, n in sorted(phases[cause].items(), key=lambda p: -p[1]))
        parts.append(f"{cause} {100 * count / games:.0f}% of games ({detail})")
    return f"deaths of the tuned snake over the last {len(trials)} trials ({games} games): " + "; ".join(parts)
