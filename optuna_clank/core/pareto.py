"""Multi-objective studies: the Pareto front, Pareto ranks, and picking one trial from the front.

A multi-objective study has no single best trial: a trial is on the front when no other
completed trial is at least as good on every objective and better on one. ``export --pick``
chooses one trial, either by number (``--pick 12``) or by constraints then one optimisation
over the front (``--pick "win_rate>=0.55,min avg_turns"``).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import optuna
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from optuna_clank.core.errors import UserError

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|==|>|<)\s*([-+0-9.eE]+)\s*$")
_GOAL = re.compile(r"^\s*(min|max)\s+([A-Za-z_]+)\s*$")


def pareto_front(study: optuna.Study) -> list[FrozenTrial]:
    """The study's non-dominated COMPLETE trials, by trial number (Optuna's ``best_trials``)."""
    return sorted(study.best_trials, key=lambda t: t.number)


def pareto_ranks(values: Sequence[Sequence[float]], directions: Sequence[StudyDirection]) -> list[int]:
    """Non-dominated sorting: rank 0 is the front, rank 1 the front once rank 0 is removed, ..."""
    signs = [1.0 if d == StudyDirection.MAXIMIZE else -1.0 for d in directions]
    points = [[s * v for s, v in zip(signs, row, strict=True)] for row in values]
    ranks = [-1] * len(points)
    remaining = set(range(len(points)))
    rank = 0
    while remaining:
        front = {i for i in remaining if not any(_dominates(points[j], points[i]) for j in remaining if j != i)}
        for i in front:
            ranks[i] = rank
        remaining -= front
        rank += 1
    return ranks


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is at least as good as ``b`` everywhere and better somewhere (all maximised)."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Pick:
    """A parsed ``--pick``: a trial number, or constraints and one goal over the front."""

    number: int | None = None
    constraints: tuple[tuple[str, str, float], ...] = ()
    goal: tuple[str, str] | None = None  # ("min" | "max", objective)


def parse_pick(text: str, objectives: Sequence[str]) -> Pick:
    """``"12"`` or ``"win_rate>=0.55,min avg_turns"``; a :class:`UserError` names what is wrong."""
    text = text.strip()
    if re.fullmatch(r"#?\d+", text):
        return Pick(number=int(text.lstrip("#")))
    constraints: list[tuple[str, str, float]] = []
    goal: tuple[str, str] | None = None
    for part in (p for p in text.split(",") if p.strip()):
        if match := _CONSTRAINT.match(part):
            name, op, bound = match.groups()
            _check_objective(name, objectives, part)
            try:
                constraints.append((name, op, float(bound)))
            except ValueError:
                raise UserError(f"--pick {part.strip()!r}: {bound!r} is not a number") from None
        elif match := _GOAL.match(part):
            if goal is not None:
                raise UserError(f"--pick {text!r}: give one 'min NAME' or 'max NAME', not several")
            _check_objective(match.group(2), objectives, part)
            goal = (match.group(1), match.group(2))
        else:
            raise UserError(
                f"--pick {part.strip()!r}: expected a trial number, a constraint like 'win_rate>=0.55' "
                "or a goal like 'min avg_turns'"
            )
    if not constraints and goal is None:
        raise UserError("--pick is empty: give a trial number or constraints and a goal")
    return Pick(constraints=tuple(constraints), goal=goal)


def _check_objective(name: str, objectives: Sequence[str], part: str) -> None:
    if name not in objectives:
        raise UserError(f"--pick {part.strip()!r}: {name!r} is not an objective of the study ({', '.join(objectives)})")


def pick_trial(study: optuna.Study, pick: Pick, objectives: Sequence[str]) -> FrozenTrial:
    """The trial ``pick`` names: a COMPLETE trial by number, or the front's trial that meets it.

    Constraints filter the front; the goal then chooses among the survivors (ties to the
    earlier trial). Without a goal, the earliest survivor is taken.
    """
    if pick.number is not None:
        trials = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
        if pick.number not in trials:
            raise UserError(f"--pick {pick.number}: no completed trial with that number")
        return trials[pick.number]
    index = {name: i for i, name in enumerate(objectives)}
    front = pareto_front(study)
    if not front:
        raise UserError(f"study {study.study_name!r} has no completed trial yet: nothing to pick")
    chosen = [
        t for t in front if all(_COMPARISONS[op](t.values[index[name]], bound) for name, op, bound in pick.constraints)
    ]
    if not chosen:
        shown = ", ".join(f"{name}{op}{bound:g}" for name, op, bound in pick.constraints)
        raise UserError(f"--pick: no trial of the Pareto front ({len(front)} trials) meets {shown}")
    if pick.goal is None:
        return chosen[0]
    way, name = pick.goal
    sign = -1.0 if way == "min" else 1.0
    return max(chosen, key=lambda t: (sign * t.values[index[name]], -t.number))


def describe_values(trial: FrozenTrial, objectives: Sequence[str]) -> str:
    """``win_rate 0.600, avg_turns 85.2`` for one trial."""
    values = trial.values or []
    return ", ".join(f"{name} {value:.3f}" for name, value in zip(objectives, values, strict=False))
