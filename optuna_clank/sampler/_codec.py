"""Numeric Optuna parameters <-> points of the unit cube [0, 1]^d.

The pattern network, the anti-repeat distance and random exploration all work in one
space where every parameter spans [0, 1]: log-scale parameters are mapped in log space
(so 0.1 -> 1 is as far as 100 -> 1000), and integers and stepped floats are snapped back
onto their grid when decoded. Decoded values always lie exactly inside the bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import FloatDistribution, IntDistribution

from optuna_clank.sampler._param_info import ParamInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from optuna.distributions import BaseDistribution

__all__ = ["ParamCodec", "is_numeric"]


def is_numeric(distribution: BaseDistribution) -> bool:
    """Whether the codec (and so the clank path of the sampler) handles ``distribution``."""
    return isinstance(distribution, FloatDistribution | IntDistribution)


@dataclass(frozen=True)
class _Axis:
    """One parameter's bounds in the scale it is encoded in (log or linear)."""

    low: float
    high: float
    scaled_low: float
    scaled_high: float
    log: bool
    step: float | None
    is_int: bool

    @classmethod
    def of(cls, distribution: FloatDistribution | IntDistribution) -> _Axis:
        low, high = float(distribution.low), float(distribution.high)
        log = bool(distribution.log)
        is_int = isinstance(distribution, IntDistribution)
        step = float(distribution.step) if distribution.step is not None else None
        if is_int and log:
            step = None  # log ints have step 1, handled by rounding
        scaled = (math.log(low), math.log(high)) if log else (low, high)
        return cls(low, high, scaled[0], scaled[1], log, step, is_int)

    def to_unit(self, value: float) -> float:
        span = self.scaled_high - self.scaled_low
        if span <= 0:
            return 0.0
        scaled = math.log(max(value, self.low)) if self.log else value
        return min(1.0, max(0.0, (scaled - self.scaled_low) / span))

    def to_value(self, u: float) -> float:
        u = min(1.0, max(0.0, float(u)))
        if u == 0.0:
            return self.low
        if u == 1.0:
            return self.high
        scaled = self.scaled_low + u * (self.scaled_high - self.scaled_low)
        return self.snap(math.exp(scaled) if self.log else scaled)

    def snap(self, value: float) -> float:
        """Clip to the bounds and round onto the grid (integers, stepped floats)."""
        value = min(self.high, max(self.low, float(value)))
        if self.step is not None:
            k = round((value - self.low) / self.step)
            value = min(self.high, self.low + k * self.step)
        elif self.is_int:
            value = float(math.floor(value + 0.5))
        return min(self.high, max(self.low, value))


class ParamCodec:
    """Encodes numeric parameters into [0, 1]^d and decodes points back to valid values.

    Only :class:`~optuna.distributions.FloatDistribution` and
    :class:`~optuna.distributions.IntDistribution` are accepted; the order of
    ``distributions`` fixes the order of the vector's dimensions.

    Example:

        .. code::

            codec = ParamCodec({"w": FloatDistribution(0.1, 1000, log=True)})
            codec.encode({"w": 10.0})  # array([0.5])
            codec.decode([0.5])  # {"w": 10.0}
    """

    def __init__(self, distributions: Mapping[str, BaseDistribution]) -> None:
        axes: dict[str, _Axis] = {}
        for name, distribution in distributions.items():
            if not isinstance(distribution, FloatDistribution | IntDistribution):
                raise TypeError(
                    f"ParamCodec handles float and int distributions only; {name!r} is {type(distribution).__name__}"
                )
            axes[name] = _Axis.of(distribution)
        self._names = tuple(axes)
        self._axes = tuple(axes.values())
        self._index = {name: i for i, name in enumerate(self._names)}
        self._distributions = dict(distributions)

    @property
    def names(self) -> tuple[str, ...]:
        """Parameter names in vector order."""
        return self._names

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """The distributions the codec was built from (a copy)."""
        return dict(self._distributions)

    def __len__(self) -> int:
        return len(self._names)

    def encode(self, params: Mapping[str, Any]) -> np.ndarray:
        """The point in [0, 1]^d of a complete set of parameter values."""
        vector = self.encode_partial(params)
        if np.isnan(vector).any():
            unusable = [name for name, u in zip(self._names, vector, strict=True) if math.isnan(u)]
            raise ValueError(f"parameters missing or not numbers: {', '.join(unusable)}")
        return vector

    def encode_partial(self, params: Mapping[str, Any]) -> np.ndarray:
        """Like :meth:`encode`, with NaN where ``params`` lacks a dimension or has no number.

        Old trials may hold a value of another kind under the same name (say, a categorical
        before the space changed); such a value is unknown, not an error.
        """
        return np.array(
            [_unit_or_nan(axis, params.get(name)) for name, axis in zip(self._names, self._axes, strict=True)],
            dtype=float,
        )

    def decode(self, vector: Any) -> dict[str, Any]:
        """Valid parameter values (ints as ``int``) of a point; coordinates are clipped."""
        values = np.asarray(vector, dtype=float).reshape(-1)
        if len(values) != len(self._names):
            raise ValueError(f"expected a vector of length {len(self._names)}, got {len(values)}")
        return {
            name: self._typed(axis, axis.to_value(u))
            for name, axis, u in zip(self._names, self._axes, values, strict=True)
        }

    def to_value(self, i: int, u: float) -> float:
        """Dimension ``i`` at coordinate ``u``, in the parameter's own units (grid-snapped)."""
        return self._axes[i].to_value(u)

    def snap(self, name: str, value: float) -> Any:
        """``value`` clipped and rounded the way the parameter's distribution requires."""
        axis = self._axes[self._index[name]]
        return self._typed(axis, axis.snap(value))

    def param_infos(self, *, base: Mapping[str, Any], best: Mapping[str, Any] | None) -> tuple[ParamInfo, ...]:
        """What the LLM prompt lists per parameter: bounds, scale, best and base value."""
        return tuple(
            ParamInfo(
                name=name,
                low=axis.low,
                high=axis.high,
                log=axis.log,
                is_int=axis.is_int,
                best=None if best is None or name not in best else float(best[name]),
                base=float(base[name]),
            )
            for name, axis in zip(self._names, self._axes, strict=True)
        )

    @staticmethod
    def _typed(axis: _Axis, value: float) -> Any:
        return round(value) if axis.is_int else float(value)


def _unit_or_nan(axis: _Axis, value: Any) -> float:
    """The coordinate of ``value``, or NaN for a missing, non-numeric or non-finite value."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return math.nan
    return axis.to_unit(float(value))
