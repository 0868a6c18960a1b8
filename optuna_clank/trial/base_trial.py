"""The base trial plays the user's base config exactly: its values, not a rounded or clipped copy.

Everything in a study is measured against the base config: validate re-plays it, export writes it,
the trial notes list changes against it. So the base trial plays the base config's own values,
not their round trip through a sampler's unit cube (``999.9999999999998`` for 1000) and not values
clipped into the search space (101 where the YAML says 359).

A base value outside its search range widens that range **for the base trial only**: Optuna keeps a
distribution per trial, so the base trial holds ``IntDistribution(30, 359)`` while every other trial
holds the spec's ``[30, 101]``, and the samplers keep proposing inside the spec's range. The study
says so when it starts (:func:`base_range_notes`). Two values cannot be held by a widened range and
are clipped instead, with a warning: a value at or below 0 on a log scale, and a value off a stepped
range's grid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna_clank.core.attributes import PROPOSAL_SOURCE_KEY, ProposalSource
from optuna_clank.trial.snake_kind import base_values

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import ParamSpec, StudySpec

__all__ = ["BaseValue", "base_range_notes", "base_ranges", "base_trial_params", "base_values_of"]

_GRID_TOLERANCE = 1e-9


@dataclass(frozen=True)
class BaseValue:
    """One search-space key of the base config: its own value and what the base trial plays."""

    param: ParamSpec
    value: float  # the base config's value (0 where a bot's YAML lacks the key, as bots read it)
    played: float | int  # what the base trial plays: the value itself unless it had to be clipped

    @property
    def widened(self) -> bool:
        """Whether the base trial needs a range wider than the spec's to hold its value."""
        return not self.param.low <= self.played <= self.param.high

    @property
    def clipped(self) -> bool:
        """Whether the base trial cannot play the base value (log scale at or below 0, or off the grid)."""
        return self.played != self.value

    def range(self) -> ParamSpec:
        """The base trial's range: the spec's, widened just enough to hold the played value."""
        if not self.widened:
            return self.param
        return dataclasses.replace(
            self.param, low=min(self.param.low, self.played), high=max(self.param.high, self.played)
        )


def base_values_of(spec: StudySpec) -> list[BaseValue]:
    """Every search-space key's base value and the base trial's value, in the spec's order."""

    values = base_values(spec)
    return [_base_value(param, values[param.name]) for param in spec.search_space]


def _base_value(param: ParamSpec, value: float) -> BaseValue:
    played: float | int = value
    if param.log and value <= 0:
        played = param.low  # a log scale holds no value at or below 0
    elif param.step:
        steps = (value - param.low) / param.step
        on_grid = abs(steps - round(steps)) <= _GRID_TOLERANCE * max(1.0, abs(steps))
        if not on_grid:  # the nearest grid point within the range (on the grid, a range widens by whole steps)
            played = min(max(param.low + round(steps) * param.step, param.low), param.high)
    if param.is_int:
        played = round(played)
    return BaseValue(param, float(value), played)


def _why_clipped(item: BaseValue) -> str:
    if item.param.log and item.value <= 0:
        return "a log scale holds no value at or below 0"
    if item.param.is_int and not float(item.value).is_integer():
        return "the key is an integer"
    return f"it is off the range's grid of step {item.param.step:g}"


def base_trial_params(spec: StudySpec) -> dict[str, Any]:
    """What the base trial plays: the base config's values (ints as ``int``), clipped only where no range holds them."""
    return {item.param.name: item.played for item in base_values_of(spec)}


def base_ranges(spec: StudySpec) -> dict[str, ParamSpec]:
    """The widened range of each key whose base value lies outside the spec's (empty when none does)."""
    return {item.param.name: item.range() for item in base_values_of(spec) if item.widened}


def base_range_notes(spec: StudySpec) -> list[str]:
    """One line per base value outside its search range: widened for the base trial, or clipped."""
    lines = []
    for item in base_values_of(spec):
        name, param = item.param.name, item.param
        bounds = f"[{param.low:g}, {param.high:g}]"
        if item.clipped:
            why = _why_clipped(item)
            lines.append(
                f"base config: {name} = {item.value:g} cannot be played in {bounds} ({why}): the base trial plays "
                f"{item.played:g}; validate and export keep {item.value:g}"
            )
        elif item.widened:
            lines.append(
                f"base config: {name} = {item.value:g} lies outside the search range {bounds}: the base trial plays "
                f"{item.value:g} (its range is widened for that trial only); other trials stay within {bounds}"
            )
    if lines and spec.sampler.name in ("tpe", "cmaes", "gp"):
        lines.append(
            f"  ({spec.sampler.name}: Optuna's intersection search space leaves a key whose range differs between "
            "trials out of the joint model, so such a key is sampled on its own; widen its [search_space] range "
            "to the base value to avoid that)"
        )
    return lines


def suggest_ranges(trial: optuna.Trial, spec: StudySpec, widened: Mapping[str, ParamSpec]) -> dict[str, ParamSpec]:
    """The ranges this trial suggests from: the widened ones where it plays an out-of-range base value.

    The base trial arrives either enqueued (``proposal_source`` base, any sampler) or proposed by
    ClankSampler (its relative parameters hold the base values); a parameter is widened only where the
    trial's value is exactly the base's, so no other trial ever leaves the spec's range.
    """
    if not widened:
        return {}
    if trial.user_attrs.get(PROPOSAL_SOURCE_KEY) == ProposalSource.BASE.value:
        return dict(widened)
    proposed: Mapping[str, Any] = getattr(trial, "relative_params", None) or {}
    played = base_trial_params(spec)
    return {name: param for name, param in widened.items() if name in proposed and proposed[name] == played[name]}
