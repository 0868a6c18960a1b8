"""How a trial's values compare with the base config's: the same value (an older study stored a float's
round trip of the base's int), the keys that hold it, the keys that changed."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from optuna_clank.arena.served.bot_spec import dotted_value


def is_base_params(params: Mapping[str, Any], base: Mapping[str, float]) -> bool:
    """Whether ``params`` are the base config's values (to a relative 1e-9: older studies stored a round trip)."""
    if set(params) != set(base):
        return False
    return all(same_value(params[name], base[name]) for name in params)


def same_value(value: Any, base: float) -> bool:
    """Whether ``value`` is the number ``base`` (to a relative 1e-9), never a bool or a string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isclose(float(value), float(base), rel_tol=1e-9, abs_tol=1e-12)


def unchanged_names(params: Mapping[str, Any], base: Mapping[str, float]) -> set[str]:
    """The keys of ``params`` that hold the base's value: export writes the base's own value (and type) there."""
    return {name for name, value in params.items() if name in base and same_value(value, base[name])}


def changed_params(params: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters whose value differs from ``base``'s (a nested config, read by dotted names): where a
    trial holds the base's own value, an export keeps the base's value as written in its YAML."""
    known = {name: dotted_value(base, name) for name in params}
    numbers = {n: v for n, v in known.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    same = unchanged_names(params, numbers)
    return {name: value for name, value in params.items() if name not in same}
