"""The vote that turns several models' answers into one set of changes.

Several models are asked at once so that no one model's whim moves a parameter: a change
survives only when most answers make it, in the same direction.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optuna_clank.sampler._answers import (
    MAX_RATIONALE_CHARS,
    Change,
    clip_to_param,
    same_value,
    shorten,
    strongest_changes,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from optuna_clank.sampler._answers import ParsedAnswer
    from optuna_clank.sampler._param_info import ParamInfo

__all__ = ["Advice"]


@dataclass(frozen=True)
class Advice:
    """What one proposal round yields: the voted changes and who contributed."""

    changes: tuple[Change, ...]
    rationale: str
    models: tuple[str, ...]
    n_dropped: int
    failures: tuple[str, ...]
    n_failed_calls: int = 0  # every failed request, retries included
    last_error: str = ""  # class of the last failed request's error


def _combine(
    answers: Sequence[ParsedAnswer],
    params: Mapping[str, ParamInfo],
    *,
    labels: Sequence[str] | None,
) -> tuple[tuple[Change, ...], str]:
    """Vote several answers into one set of changes, plus a rationale joined under ``labels`` (model names).

    A parameter survives if more than half of the answers mention it; its direction is
    the majority sign of (target - base) among the mentions (a tie drops it) and its
    target is the median of the targets on the winning side.
    """
    if not answers:
        return (), ""
    targets = _targets_by_param(answers)
    changes: list[Change] = []
    for name, info in params.items():
        mentions = targets.get(name, [])
        if 2 * len(mentions) <= len(answers):
            continue
        change = _voted_change(info, mentions)
        if change is not None:
            changes.append(change)
    return tuple(strongest_changes(changes, params)), _joined_rationale(answers, labels)


def _targets_by_param(answers: Sequence[ParsedAnswer]) -> dict[str, list[float]]:
    """Every answer's target per parameter (each answer mentions a parameter at most once)."""
    targets: dict[str, list[float]] = {}
    for answer in answers:
        for change in {c.param: c for c in reversed(answer.changes)}.values():
            targets.setdefault(change.param, []).append(change.target)
    return targets


def _voted_change(info: ParamInfo, mentions: Sequence[float]) -> Change | None:
    """The majority direction's median target, or None on a tie or a rounded no-op."""
    ups = [t for t in mentions if t > info.base]
    downs = [t for t in mentions if t < info.base]
    if len(ups) == len(downs):
        return None
    winners = ups if len(ups) > len(downs) else downs
    target = clip_to_param(statistics.median(winners), info)
    if target is None or same_value(target, info.base):
        return None
    return Change(info.name, target)


def _joined_rationale(answers: Sequence[ParsedAnswer], labels: Sequence[str] | None) -> str:
    """The models' rationales, briefly, in one string."""
    parts = [a.rationale for a in answers]
    if len(answers) == 1:
        return parts[0]
    names = list(labels) if labels is not None else [f"#{i + 1}" for i in range(len(answers))]
    budget = max(80, MAX_RATIONALE_CHARS // len(answers))
    return " | ".join(f"{name}: {shorten(text, budget)}" for name, text in zip(names, parts, strict=False) if text)
