"""What the study's history says: where it has been, what was changed, and whether it moves.

The storage is the sampler's only memory, so every worker, machine and earlier run shares it.
Each trial carries its provenance as user attributes (written by the sampler); this module
reads them back into the three things a proposal needs: the points already taken (for the
anti-repeat check, including proposals of trials still running), a summary of recent changes
and their gains (for the LLM prompt), and the trend of the study with a stagnation flag.

Multi-objective studies are ranked by their first objective only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.study import StudyDirection
from optuna.trial import TrialState

from optuna_clank.core.attributes import (
    BASE_TRIAL_KEY,
    CHANGED_PARAMS_KEY,
    PROPOSAL_KEY,
    PROPOSAL_SOURCE_KEY,
    ProposalSource,
)
from optuna_clank.core.pareto import pareto_ranks

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from optuna_clank.sampler._codec import ParamCodec

__all__ = [
    "History",
    "changed_names",
    "nearest_distance",
    "read_history",
]

CHANGE_TOLERANCE = 0.01
"""A parameter counts as changed when it moved more than this share of its (log) range."""

HISTORY_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
_CHANGE_WINDOW = 30
_MAX_SUMMARY_PARAMS = 12
_TREND_WINDOW = 10
_STAGNATION_TRIALS = 15


@dataclass(frozen=True)
class History:
    """One fresh read of the study: trials, scores and the best trial.

    ``scores`` are "higher is better" (the first objective, negated when minimised) of the
    ``complete`` trials that have a finite value and every parameter of the codec, in the
    same order as ``vectors``. In a multi-objective study no objective comes first: a score
    is then minus the trial's Pareto rank (0 on the front, 1 on the front without it, ...;
    see :func:`optuna_clank.core.pareto.pareto_ranks`), so patterns and the best weigh trials by rank.
    """

    trials: tuple[FrozenTrial, ...]
    complete: tuple[FrozenTrial, ...]
    vectors: np.ndarray
    scores: np.ndarray
    sign: float
    by_number: Mapping[int, FrozenTrial] = field(repr=False)
    ranks: Mapping[int, int] | None = None
    """Multi-objective: Pareto rank by trial number (None for a single objective)."""
    front_summary: str = ""
    """Multi-objective: the Pareto front, one trial a line, for the LLM prompt (empty otherwise)."""

    @property
    def best(self) -> FrozenTrial | None:
        """The complete trial with the highest score (the earliest on ties)."""
        if len(self.scores) == 0:
            return None
        return self.complete[int(np.argmax(self.scores))]

    @property
    def best_vector(self) -> np.ndarray | None:
        if len(self.scores) == 0:
            return None
        return self.vectors[int(np.argmax(self.scores))]

    @property
    def finished(self) -> list[FrozenTrial]:
        """COMPLETE and PRUNED trials in the order they finished."""
        done = [t for t in self.trials if t.state in _FINISHED]
        return sorted(done, key=lambda t: (t.datetime_complete is None, t.datetime_complete))

    def score(self, trial: FrozenTrial) -> float | None:
        """The trial's score (higher is better), or None without a finite first value."""
        if trial.state != TrialState.COMPLETE or not trial.values:
            return None
        if self.ranks is not None:
            rank = self.ranks.get(trial.number)
            return None if rank is None else -float(rank)
        value = float(trial.values[0])
        return self.sign * value if math.isfinite(value) else None

    def pareto_front(self) -> list[FrozenTrial]:
        """Multi-objective: the rank-0 trials by number; otherwise empty."""
        if self.ranks is None:
            return []
        return sorted((t for t in self.complete if self.ranks.get(t.number) == 0), key=lambda t: t.number)

    def points(self, codec: ParamCodec, *, exclude: int) -> list[np.ndarray]:
        """Points already taken in [0, 1]^d, NaN where a trial lacks a parameter.

        Finished trials count with their parameters; running trials with the proposal
        they published (parameters not yet suggested are in it) or, failing that, with
        their parameters once all of them are set. Trial number ``exclude`` is left out.
        """
        taken: list[np.ndarray] = []
        for trial in self.trials:
            if trial.number == exclude:
                continue
            proposal = trial.system_attrs.get(PROPOSAL_KEY)
            if trial.state == TrialState.RUNNING and isinstance(proposal, dict):
                point = codec.encode_partial(proposal)
            else:
                point = codec.encode_partial(trial.params)
                if trial.state == TrialState.RUNNING and np.isnan(point).any():
                    continue  # still suggesting: a partial point would match too easily
            if not np.isnan(point).all():
                taken.append(point)
        return taken

    def change_summary(self) -> str:
        """Recently changed parameters with counts, directions and mean gains, for the prompt.

        Over the last ~30 finished trials not proposed by TPE: the gain of a trial is its
        value minus its base trial's value (in the study's direction; x100 "points" when
        every value lies in [0, 1]), averaged per changed parameter. For example
        ``recently changed: weights.space (3x, up 2/down 1, no gain)``.
        """
        scale, unit = self._gain_unit()
        stats: dict[str, _ChangeStats] = defaultdict(_ChangeStats)
        recent = [t for t in self.finished if _source(t) not in (None, ProposalSource.TPE)]
        for rank, trial in enumerate(recent[-_CHANGE_WINDOW:]):
            base = self.by_number.get(_base_number(trial))
            score, base_score = self.score(trial), None if base is None else self.score(base)
            gain = None if score is None or base_score is None else (score - base_score) * scale
            for name in _changed(trial):
                old = None if base is None else base.params.get(name)
                stats[name].add(trial, trial.params.get(name), old, gain, rank)
        if not stats:
            return ""
        ordered = sorted(stats.items(), key=lambda kv: (-kv[1].count, -kv[1].last_rank))
        parts = [entry.text(name, unit) for name, entry in ordered[:_MAX_SUMMARY_PARAMS]]
        return "recently changed: " + ", ".join(parts)

    def trend(self) -> tuple[str, bool]:
        """A one-line trend of the completed values and whether the study stagnates.

        Stagnating: the best value was not improved in the last ~15 finished trials.
        """
        finished = self.finished
        values = [(t, self.score(t)) for t in finished]
        scored = [(t, s) for t, s in values if s is not None]
        if not scored:
            return "no completed trial yet", False
        if self.ranks is not None:
            return self._front_trend(scored)
        best_index = max(range(len(values)), key=lambda i: _rank_key(values[i][1], i))
        best_trial, best_score = values[best_index]
        since = len(values) - 1 - best_index
        raw = [self.sign * s for _, s in scored]
        recent = raw[-_TREND_WINDOW:]
        before = raw[-2 * _TREND_WINDOW : -_TREND_WINDOW]
        text = f"mean of the last {len(recent)} completed: {_fmt(float(np.mean(recent)))}"
        if before:
            text += f" (the {len(before)} before: {_fmt(float(np.mean(before)))})"
        assert best_score is not None
        text += f"; best {_fmt(self.sign * best_score)} at trial #{best_trial.number}, {since} finished trials ago"
        return text, since >= _STAGNATION_TRIALS

    def _front_trend(self, scored: list[tuple[FrozenTrial, float]]) -> tuple[str, bool]:
        """Multi-objective trend: how many recent trials reached the front; stagnating when none lately."""
        recent = scored[-_TREND_WINDOW:]
        on_front = sum(1 for _, s in recent if s == 0.0)
        last_front = max(i for i, (_, s) in enumerate(scored) if s == 0.0)
        since = len(scored) - 1 - last_front
        text = (
            f"Pareto front of {len(self.pareto_front())} trial(s); {on_front} of the last {len(recent)} completed "
            f"are on it; the latest front trial finished {since} completed trials ago"
        )
        return text, since >= _STAGNATION_TRIALS

    def _gain_unit(self) -> tuple[float, str]:
        """Points (x100) for scores in [0, 1] such as win rates, else the raw unit."""
        if self.ranks is not None:
            return 1.0, " Pareto ranks"
        raw = [self.sign * s for s in self.scores]
        if raw and all(0.0 <= v <= 1.0 for v in raw):
            return 100.0, " points"
        return 1.0, ""


@dataclass
class _ChangeStats:
    """How often one parameter was changed, in which direction, and with what gain."""

    count: int = 0
    up: int = 0
    down: int = 0
    pruned: int = 0
    gains: list[float] = field(default_factory=list)
    last_rank: int = -1

    def add(self, trial: FrozenTrial, new: Any, old: Any, gain: float | None, rank: int) -> None:
        """Count one trial that changed the parameter from ``old`` to ``new``."""
        self.count += 1
        self.last_rank = rank
        self.pruned += trial.state == TrialState.PRUNED
        if gain is not None:
            self.gains.append(gain)
        if isinstance(new, int | float) and isinstance(old, int | float):
            self.up += new > old
            self.down += new < old

    def text(self, name: str, unit: str) -> str:
        parts = [f"{self.count}x"]
        if self.up or self.down:
            parts.append(f"up {self.up}/down {self.down}")
        if self.gains:
            mean = float(np.mean(self.gains))
            parts.append(f"+{mean:.1f}{unit}" if mean > 0 else _no_gain(mean, unit))
        elif not self.pruned:
            parts.append("gain unknown")
        if self.pruned:
            parts.append(f"{self.pruned} pruned")
        return f"{name} ({', '.join(parts)})"


def _no_gain(mean: float, unit: str) -> str:
    return "no gain" if mean > -0.05 else f"no gain ({mean:.1f}{unit})"


def _rank_key(score: float | None, index: int) -> tuple[float, int]:
    """Best score first; the earliest trial wins ties, so a repeat is not an improvement."""
    return (-math.inf if score is None else score, -index)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _source(trial: FrozenTrial) -> str | None:
    value = trial.user_attrs.get(PROPOSAL_SOURCE_KEY)
    return value if isinstance(value, str) else None


def _base_number(trial: FrozenTrial) -> int:
    value = trial.user_attrs.get(BASE_TRIAL_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _changed(trial: FrozenTrial) -> list[str]:
    value = trial.user_attrs.get(CHANGED_PARAMS_KEY)
    if not isinstance(value, list):
        return []
    return [name for name in value if isinstance(name, str)]


def read_history(study: Study, codec: ParamCodec) -> History:
    """Read the study's COMPLETE, PRUNED and RUNNING trials fresh from the storage.

    ``study.get_trials`` bypasses the per-trial cache Optuna keeps while sampling, and the
    cached RDB storage re-reads unfinished trials every time, so other processes' running
    trials and their published proposals are included.
    """
    trials = tuple(study.get_trials(deepcopy=False, states=HISTORY_STATES))
    sign = -1.0 if study.directions[0] == StudyDirection.MINIMIZE else 1.0
    complete: list[FrozenTrial] = []
    scores: list[float] = []
    points: list[np.ndarray] = []
    for trial in trials:
        if trial.state != TrialState.COMPLETE or not trial.values:
            continue
        value = float(trial.values[0])
        point = codec.encode_partial(trial.params)
        if math.isfinite(value) and not np.isnan(point).any():
            complete.append(trial)
            scores.append(sign * value)
            points.append(point)
    vectors = np.array(points) if points else np.empty((0, len(codec)))
    ranks = None
    if len(study.directions) > 1:
        ranks = _pareto_ranks_of(complete, study.directions)
        complete = [t for t in complete if t.number in ranks]
        scores = [-float(ranks[t.number]) for t in complete]
        vectors = np.array([codec.encode_partial(t.params) for t in complete]) if complete else vectors
    return History(
        trials=trials,
        complete=tuple(complete),
        vectors=vectors,
        scores=np.array(scores, dtype=float),
        sign=sign,
        by_number={t.number: t for t in trials},
        ranks=ranks,
        front_summary=_front_summary(study, complete, ranks) if ranks is not None else "",
    )


_FRONT_LINES = 8


def _front_summary(study: Study, complete: Sequence[FrozenTrial], ranks: Mapping[int, int]) -> str:
    """``- #12: maximize win_rate 0.6, minimize avg_turns 85`` per front trial (the first few)."""
    names = study.metric_names or [f"objective {i + 1}" for i in range(len(study.directions))]
    goals = [f"{d.name.lower()} {name}" for d, name in zip(study.directions, names, strict=True)]
    front = [t for t in complete if ranks.get(t.number) == 0]
    lines = [
        f"- trial #{t.number}: " + ", ".join(f"{g} {v:.4g}" for g, v in zip(goals, t.values, strict=True))
        for t in front[:_FRONT_LINES]
    ]
    if len(front) > _FRONT_LINES:
        lines.append(f"- ... and {len(front) - _FRONT_LINES} more")
    return "\n".join(lines)


def _pareto_ranks_of(trials: Sequence[FrozenTrial], directions: Sequence[StudyDirection]) -> dict[int, int]:
    """Pareto rank by trial number, over the trials whose every value is finite."""

    usable = [t for t in trials if len(t.values) == len(directions) and all(math.isfinite(v) for v in t.values)]
    ranks = pareto_ranks([t.values for t in usable], directions)
    return {t.number: rank for t, rank in zip(usable, ranks, strict=True)}


def nearest_distance(vector: np.ndarray, points: Sequence[np.ndarray]) -> float:
    """Smallest normalised distance from ``vector`` to ``points`` (inf when there are none).

    The distance is Euclidean over the dimensions both points have, divided by the square
    root of their number, so it lies in [0, 1] whatever the dimension.
    """
    best = math.inf
    for point in points:
        mask = ~np.isnan(point)
        n = int(mask.sum())
        if n == 0:
            continue
        distance = float(np.linalg.norm(vector[mask] - point[mask])) / math.sqrt(n)
        best = min(best, distance)
    return best


def changed_names(codec: ParamCodec, params: Mapping[str, Any], base: Mapping[str, Any] | None) -> list[str]:
    """Names whose value moved more than :data:`CHANGE_TOLERANCE` of their range from ``base``.

    The tolerance keeps float noise (e.g. a decoder's reconstruction error) from counting as a
    change; a one-step move of an integer with a small range still counts.
    """
    if base is None:
        return []
    new, old = codec.encode_partial(params), codec.encode_partial(base)
    return [
        name
        for name, a, b in zip(codec.names, new, old, strict=True)
        if not math.isnan(a) and (math.isnan(b) or abs(a - b) > CHANGE_TOLERANCE)
    ]
