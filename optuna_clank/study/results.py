"""What a study found: its best config (validated first), its status, its best config as YAML.

A trial's value is a noisy estimate from a few dozen games; the best of many noisy estimates
is biased upward. So once ``validate`` has re-played the top trials and the base config on the
same fresh games, a trial is the study's best only if the paired test of :mod:`optuna_clank.study.verdict`
says it beats the base; otherwise the base config is, and every report says which kind of best
it shows.
Validation results live in the study's user attributes (``validated:<trial number>``):
Optuna freezes a finished trial, so they cannot be added to the trial itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from optuna_clank.core.attributes import (
    CHANGED_PARAMS_KEY,
    DEVICE_KEY,
    GAMES_PLAYED_KEY,
    MEAN_SCORE_KEY,
    OPPONENT_FAULTS_KEY,
    OPPONENTS_KEY,
    PROPOSAL_SOURCE_KEY,
    SLOT_KEY,
    SNAKE_ERROR_KEY,
    VALIDATED_BASE_KEY,
    VALIDATION_PREFIX,
    WIN_RATE_CI_KEY,
    ProposalSource,
)
from optuna_clank.core.pareto import pareto_front
from optuna_clank.study.counts import TrialCounts, count_trials
from optuna_clank.study.run_record import last_run
from optuna_clank.study.verdict import REFUSED_KEY, RESULTS_KEY, Comparison, Verdict, judge


@dataclass(frozen=True)
class Best:
    """The study's best config and the evidence behind it.

    ``kind``: ``"trial"`` (a validated trial beat the base config in the paired test),
    ``"base"`` (trials were validated and none beat the base: the base config is the best),
    or ``"raw"`` (nothing validated yet: the best trial by its study value, no evidence).
    """

    trial: FrozenTrial | None  # None: the base config
    validated: dict[str, Any] | None = None  # the trial's (or base's) validation record
    verdict: Verdict | None = None

    @property
    def kind(self) -> str:
        if self.verdict is None:
            return "raw"
        return "trial" if self.verdict.winner is not None else "base"

    @property
    def comparison(self) -> Comparison | None:
        """The paired difference shown: the winner's, or for the base the closest challenger's."""
        if self.verdict is None:
            return None
        return self.verdict.winner or self.verdict.closest

    def describe(self) -> str:
        """One line: what is best and the evidence (paired difference with its interval)."""
        comparison = self.comparison
        if self.kind == "trial":
            assert self.trial is not None and comparison is not None and self.validated is not None
            return f"trial {self.trial.number}: {comparison.describe()}; validated {_record_text(self.validated)}"
        if self.kind == "base":
            assert comparison is not None and self.validated is not None
            return (
                f"the base config: no validated trial beats it (closest: trial {comparison.trial}, "
                f"{comparison.describe()}); base {_record_text(self.validated)}"
            )
        trial = self.trial
        assert trial is not None
        ci = trial.user_attrs.get(WIN_RATE_CI_KEY)
        interval = f", win rate CI [{100 * ci[0]:.1f}%, {100 * ci[1]:.1f}%]" if ci else ""
        games = trial.user_attrs.get(GAMES_PLAYED_KEY, "?")
        return (
            f"trial {trial.number}{_base_mark(trial)}: value {_value_text(trial)} over {games} games{interval} "
            "(not validated)"
        )


def _base_mark(trial: FrozenTrial) -> str:
    """`` (the base config)`` for the trial that plays the base config (the first trial of a study)."""
    return " (the base config)" if trial.user_attrs.get(PROPOSAL_SOURCE_KEY) == ProposalSource.BASE else ""


def _record_text(record: dict[str, Any]) -> str:
    low, high = record["ci"]
    return (
        f"win rate {100 * record['win_rate']:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%], "
        f"score {record['score']:.3f} over {record['games']:,} fresh games"
    )


def _value_text(trial: FrozenTrial) -> str:
    if trial.values is None:
        return "-"
    return ", ".join(f"{v:.3f}" for v in trial.values)


def validations(study: optuna.Study) -> dict[int, dict[str, Any]]:
    """Validation records by trial number."""
    return {
        int(key[len(VALIDATION_PREFIX) :]): value
        for key, value in study.user_attrs.items()
        if key.startswith(VALIDATION_PREFIX)
    }


def top_trials(study: optuna.Study, count: int) -> list[FrozenTrial]:
    """The ``count`` best COMPLETE trials by their study value (first objective), ties to the earlier."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    sign = 1 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1
    return sorted(complete, key=lambda t: (sign * t.values[0], -t.number), reverse=True)[:count]


def best_raw(study: optuna.Study) -> FrozenTrial | None:
    """The best COMPLETE trial by its study value (first objective for multi-objective)."""
    top = top_trials(study, 1)
    return top[0] if top else None


def verdict_of(study: optuna.Study) -> Verdict | None:
    """The paired verdict of the study's validation records against its base record."""
    return judge(study.user_attrs.get(VALIDATED_BASE_KEY), validations(study))


def best_trial(study: optuna.Study) -> Best | None:
    """The validated verdict when there is one (a better trial, or the base), else the best raw trial."""
    verdict = verdict_of(study)
    if verdict is not None:
        winner = verdict.winner
        if winner is None:
            return Best(trial=None, validated=verdict.base, verdict=verdict)
        trials = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
        if winner.trial in trials:
            return Best(trial=trials[winner.trial], validated=winner.record, verdict=verdict)
    raw = best_raw(study)
    return Best(trial=raw) if raw is not None else None


@dataclass(frozen=True)
class TrialSummary:
    """One trial as ``status`` shows it: state, values, games, where it came from, its validation."""

    number: int
    state: str  # complete, pruned, running, waiting, fail
    values: tuple[float, ...] | None
    games_played: int | None
    mean_score: float | None  # over the games it played: a pruned trial's honest figure
    win_rate_ci: list[float] | None
    opponents: list[dict[str, Any]] | None  # a tournament's per-opponent results
    proposal_source: str | None
    changed_params: Any
    slot: int | None
    device: str | None
    validated: dict[str, Any] | None  # its validation record, without the per-game results
    faults: dict[str, Any] | None = None  # its servers' failed answers: "snake" and/or "opponents" counts
    error: str | None = None  # why it failed, when a snake server made it fail

    @classmethod
    def of(cls, trial: FrozenTrial, validated: dict[str, Any] | None = None) -> TrialSummary:
        attrs = trial.user_attrs
        return cls(
            number=trial.number,
            state=trial.state.name.lower(),
            values=tuple(trial.values) if trial.values is not None else None,
            games_played=attrs.get(GAMES_PLAYED_KEY),
            mean_score=attrs.get(MEAN_SCORE_KEY),
            win_rate_ci=attrs.get(WIN_RATE_CI_KEY),
            opponents=attrs.get(OPPONENTS_KEY),
            proposal_source=attrs.get(PROPOSAL_SOURCE_KEY),
            changed_params=attrs.get(CHANGED_PARAMS_KEY),
            slot=attrs.get(SLOT_KEY),
            device=attrs.get(DEVICE_KEY),
            validated=_shown_record(validated),
            faults=_trial_faults(attrs),
            error=attrs.get(SNAKE_ERROR_KEY),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "state": self.state,
            "values": list(self.values) if self.values is not None else None,
            GAMES_PLAYED_KEY: self.games_played,
            MEAN_SCORE_KEY: self.mean_score,
            WIN_RATE_CI_KEY: self.win_rate_ci,
            OPPONENTS_KEY: self.opponents,
            PROPOSAL_SOURCE_KEY: self.proposal_source,
            CHANGED_PARAMS_KEY: self.changed_params,
            SLOT_KEY: self.slot,
            DEVICE_KEY: self.device,
            "validated": self.validated,
            "faults": self.faults,
            SNAKE_ERROR_KEY: self.error,
        }


_FAULT_KINDS = ("timeouts", "errors", "invalid", "disconnects")


def _trial_faults(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """A trial's server faults from its attributes (``http_*``, ``http_opponent_faults``); None without servers."""
    faults: dict[str, Any] = {}
    if any(f"http_{kind}" in attrs for kind in _FAULT_KINDS):
        faults["snake"] = {kind: int(attrs.get(f"http_{kind}", 0)) for kind in _FAULT_KINDS}
    if isinstance(attrs.get(OPPONENT_FAULTS_KEY), dict):
        faults["opponents"] = attrs[OPPONENT_FAULTS_KEY]
    return faults or None


@dataclass(frozen=True)
class StudyStatus:
    """Where a study stands: what ``status`` prints, as text (see ``_format``) or as ``to_json()``."""

    study: str
    directions: tuple[str, ...]
    trials: TrialCounts
    total_trials: int
    best: Best | None  # the validated verdict first, else the best raw trial
    best_raw: TrialSummary | None
    validated_trials: tuple[int, ...]
    validated_base: dict[str, Any] | None  # the base config's validation record, without per-game results
    validation_records_ignored: int  # records of other games than the base's: not compared
    trials_per_hour: float | None
    last_trials: tuple[TrialSummary, ...]
    pareto_front: tuple[TrialSummary, ...] | None  # multi-objective studies only
    last_run: dict[str, Any] | None = None  # what the last optimize run did (run_record), None before one
    validation_records_refused: dict[str, str] = field(default_factory=dict)  # label -> why (server faults)

    @property
    def best_kind(self) -> str | None:
        """``"trial"``, ``"base"`` or ``"raw"`` (see :class:`Best`); None before any completed trial."""
        return self.best.kind if self.best else None

    def to_json(self) -> dict[str, Any]:
        """The ``status --json`` object."""
        counts = self.trials
        return {
            "study": self.study,
            "directions": list(self.directions),
            "trials": {
                "complete": counts.complete,
                "pruned": counts.pruned,
                "running": counts.running,
                "waiting": counts.waiting,
                "failed": counts.failed,
                "skipped": counts.skipped,
                "total": self.total_trials,
            },
            "best": _best_summary(self.best) if self.best else None,
            "best_kind": self.best_kind,
            "best_raw": self.best_raw.to_json() if self.best_raw else None,
            "validated_trials": list(self.validated_trials),
            VALIDATED_BASE_KEY: self.validated_base,
            "validation_records_ignored": self.validation_records_ignored,
            "validation_records_refused": self.validation_records_refused,
            "trials_per_hour": self.trials_per_hour,
            "last_trials": [t.to_json() for t in self.last_trials],
            "pareto_front": [t.to_json() for t in self.pareto_front] if self.pareto_front is not None else None,
            "last_run": self.last_run,
        }


def status(study: optuna.Study, *, last: int = 10) -> StudyStatus:
    """Trials by state, best validated and raw with intervals, speed, and the last trials."""
    counts = count_trials(study)
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and t.datetime_complete]
    rate = None
    if len(finished) >= 2:
        first = min(t.datetime_start for t in finished if t.datetime_start)
        span = (max(t.datetime_complete for t in finished if t.datetime_complete) - first).total_seconds()
        rate = len(finished) / span * 3600 if span > 0 else None
    best = best_trial(study)
    raw = best_raw(study)
    recent = sorted(trials, key=lambda t: t.number)[-last:]
    validated = validations(study)
    return StudyStatus(
        study=study.study_name,
        directions=tuple(d.name.lower() for d in study.directions),
        trials=counts,
        total_trials=len(trials),
        best=best,
        best_raw=TrialSummary.of(raw, validated.get(raw.number)) if raw else None,
        validated_trials=tuple(sorted(validated)),
        validated_base=_shown_record(study.user_attrs.get(VALIDATED_BASE_KEY)),
        validation_records_ignored=best.verdict.ignored if best and best.verdict else 0,
        trials_per_hour=round(rate, 1) if rate else None,
        last_trials=tuple(TrialSummary.of(t) for t in recent),
        pareto_front=tuple(TrialSummary.of(t) for t in pareto_front(study)) if len(study.directions) > 1 else None,
        last_run=last_run(study.user_attrs),
        validation_records_refused=refused_records(study),
    )


def refused_records(study: optuna.Study) -> dict[str, str]:
    """The study's validation records refused for their servers' faults: label -> why."""
    records = {f"trial {n}": r for n, r in sorted(validations(study).items())}
    records["base config"] = study.user_attrs.get(VALIDATED_BASE_KEY) or {}
    return {label: str(r[REFUSED_KEY]) for label, r in records.items() if isinstance(r, dict) and r.get(REFUSED_KEY)}


def _best_summary(best: Best) -> dict[str, Any]:
    """The status block of the best: the trial (or the base) and its paired difference."""
    if best.trial is not None:
        summary = TrialSummary.of(best.trial, best.validated).to_json()
    else:
        summary = {"number": None, "state": None, "config": "base", "validated": _shown_record(best.validated)}
    comparison = best.comparison
    summary["paired"] = comparison.as_json() if comparison is not None else None
    return summary


def _shown_record(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A validation record without its per-game results (stored for re-checks, too long to show)."""
    if record is None:
        return None
    return {key: value for key, value in record.items() if key != RESULTS_KEY}
