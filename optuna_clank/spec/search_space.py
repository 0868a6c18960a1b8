"""``[search_space]``: the tuned parameters, read three ways for the three kinds of snake.

The built-in heuristic's parameters have known bounds (:mod:`optuna_clank.arena.params`), so an
entry may be ``{}``; go-battleclank's keys come from its schema and need explicit bounds; a server
snake's keys are whatever its YAML holds, at any depth, with explicit bounds. Each reader returns
:class:`~optuna_clank.spec.model.ParamSpec` entries in the spec's order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from optuna_clank.arena.params import PARAMS_BY_NAME, TUNABLE_PARAMS, TunableParam
from optuna_clank.arena.snakes.gbc.schema import GBC_KEY_BY_NAME
from optuna_clank.spec.model import ParamSpec, fail
from optuna_clank.spec.values import BadValue, as_integer, as_number, boolean, describe, did_you_mean

__all__ = ["read_gbc_search_space", "read_search_space"]

_PARAM_KEYS = ("low", "high", "log", "int")
_FREE_PARAM_KEYS = ("low", "high", "log", "int", "step")
_PARAM_SECTIONS = tuple(sorted({param.name.split(".", 1)[0] for param in TUNABLE_PARAMS}))


def read_search_space(table: Any, *, any_key: bool = False) -> tuple[ParamSpec, ...]:
    """The tuned parameters; ``any_key`` (a server snake) allows any YAML key, with explicit bounds."""
    if table is None:
        fail("[search_space]:", "missing section (list the parameters to tune)")
    entries = _nested_entries(table) if any_key else _flat_entries(table)
    if not entries:
        fail("[search_space]:", "is empty (list at least one parameter to tune)")
    if any_key:
        return tuple(_read_free_param(name, entry) for name, entry in entries)
    return tuple(_read_param(name, entry) for name, entry in entries)


def read_gbc_search_space(table: Any) -> tuple[ParamSpec, ...]:
    """go-battleclank's dotted keys (its schema's), explicit bounds; an int field is tuned as an int."""

    if table is None:
        fail("[search_space]:", "missing section (list the parameters to tune)")
    entries = _nested_entries(table)
    if not entries:
        fail("[search_space]:", "is empty (list at least one parameter to tune)")
    params = []
    for name, written in entries:
        where = f"[search_space] {name!r}:"
        key = GBC_KEY_BY_NAME.get(name)
        if key is None:
            fail(where, f"go-battleclank has no such config key{did_you_mean(name, list(GBC_KEY_BY_NAME))}")
        if key.kind not in (int, float):
            fail(where, f"is a {key.kind.__name__} in go-battleclank's config; only numbers can be tuned")
        entry = written
        if key.kind is int and isinstance(written, Mapping) and "int" not in written:
            entry = {**written, "int": True}
        param = _read_free_param(name, entry)
        if param.is_int != (key.kind is int):
            kind = "an integer" if key.kind is int else "a float"
            fail(where, f"int = {describe(param.is_int)}, but go-battleclank reads it as {kind}")
        params.append(param)
    return tuple(params)


# --------------------------------------------------------------------------- the heuristic's parameters


def _flat_entries(table: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``"weights.space" = {}``, ``weights.space = {}`` and ``[search_space.weights]`` alike."""
    entries: list[tuple[str, Any]] = []
    for key, value in table.items():
        if "." not in key and key in _PARAM_SECTIONS and isinstance(value, Mapping):
            entries.extend((f"{key}.{sub}", entry) for sub, entry in value.items())
        else:
            entries.append((key, value))
    _check_listed_once(entries)
    return entries


def _check_listed_once(entries: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for name, _ in entries:
        if name in seen:
            fail(f"[search_space] {name!r}:", "listed twice")
        seen.add(name)


def _read_param(name: str, entry: Any) -> ParamSpec:
    where = f"[search_space] {name!r}:"
    allowed = PARAMS_BY_NAME.get(name)
    if allowed is None:
        fail(where, f"unknown parameter{did_you_mean(name, list(PARAMS_BY_NAME))}")
    if not isinstance(entry, Mapping):
        fail(where, f"expected a table like {{ low = 1, high = 10 }} or {{}}, got {describe(entry)}")
    for key in entry:
        if key not in _PARAM_KEYS:
            fail(where, f"unknown key {key!r}{did_you_mean(key, _PARAM_KEYS)}")
    try:
        return _param_from_entry(allowed, entry)
    except BadValue as exc:
        fail(where, str(exc))


def _param_from_entry(allowed: TunableParam, entry: Mapping[str, Any]) -> ParamSpec:
    is_int = _entry_flag(entry, "int", allowed.is_int)
    if is_int != allowed.is_int:
        kind = "an integer" if allowed.is_int else "not an integer"
        raise BadValue(f"int = {describe(is_int)}, but the parameter is {kind}")
    log = _entry_flag(entry, "log", allowed.log)
    low = _entry_bound(entry, "low", allowed.low, is_int)
    high = _entry_bound(entry, "high", allowed.high, is_int)
    if low < allowed.low:
        raise BadValue(f"low {entry['low']} is below the allowed minimum {allowed.low}")
    if high > allowed.high:
        raise BadValue(f"high {entry['high']} is above the allowed maximum {allowed.high}")
    if low >= high:
        raise BadValue(f"low {low:g} must be below high {high:g}")
    if log and low <= 0:
        raise BadValue(f"log = true needs low > 0, got low {low:g}")
    return ParamSpec(name=allowed.name, low=low, high=high, log=log, is_int=is_int)


def _entry_flag(entry: Mapping[str, Any], key: str, default: bool) -> bool:
    if key not in entry:
        return default
    try:
        return boolean(entry[key])
    except BadValue as exc:
        raise BadValue(f"{key}: {exc}") from None


def _entry_bound(entry: Mapping[str, Any], key: str, default: float, is_int: bool) -> float:
    if key not in entry:
        return float(default)
    try:
        return float(as_integer(entry[key]) if is_int else as_number(entry[key]))
    except BadValue as exc:
        raise BadValue(f"{key}: {exc}") from None


# --------------------------------------------------------------------------- a YAML's own keys


def _nested_entries(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """A server snake's keys at any depth: ``"a.b.c" = {}``, ``a.b.c = {}``, ``[search_space.a.b]``."""
    entries: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        is_group = (
            isinstance(value, Mapping)
            and bool(value)
            and not any(k in _FREE_PARAM_KEYS for k in value)
            and all(isinstance(v, Mapping) for v in value.values())
        )
        entries.extend(_nested_entries(value, f"{name}.") if is_group else [(name, value)])
    if not prefix:
        _check_listed_once(entries)
    return entries


def _read_free_param(name: str, entry: Any) -> ParamSpec:
    """A key of a server snake's YAML: explicit ``low``/``high``, optional ``log``, ``int``, ``step``."""
    where = f"[search_space] {name!r}:"
    if any(not part.strip() for part in name.split(".")):
        fail(where, "a key path has an empty part")
    if not isinstance(entry, Mapping):
        fail(where, f"expected a table like {{ low = 0, high = 10 }}, got {entry!r}")
    for key in entry:
        if key not in _FREE_PARAM_KEYS:
            fail(where, f"unknown key {key!r}{did_you_mean(key, _FREE_PARAM_KEYS)}")
    missing = [key for key in ("low", "high") if key not in entry]
    if missing:
        fail(where, f"needs {' and '.join(missing)}: a server snake's keys have no built-in range")
    try:
        return _free_param_from_entry(name, entry)
    except BadValue as exc:
        fail(where, str(exc))


def _free_param_from_entry(name: str, entry: Mapping[str, Any]) -> ParamSpec:
    is_int = _entry_flag(entry, "int", False)
    log = _entry_flag(entry, "log", False)
    low = _entry_bound(entry, "low", 0.0, is_int)
    high = _entry_bound(entry, "high", 0.0, is_int)
    if low >= high:
        raise BadValue(f"low {low:g} must be below high {high:g}")
    if not math.isfinite(high - low):  # samplers scale by the range: an infinite one overflows in every trial
        raise BadValue(f"the range high - low ({high:g} - {low:g}) is not a finite number; choose closer bounds")
    if log and low <= 0:
        raise BadValue(f"log = true needs low > 0, got low {low:g}")
    step = None
    if "step" in entry:
        step = _entry_bound(entry, "step", 0.0, is_int)
        if step <= 0:
            raise BadValue(f"step must be above 0, got {step:g}")
        if log:
            raise BadValue("step and log = true cannot be combined")
        steps = (high - low) / step
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            raise BadValue(f"high - low ({high - low:g}) is not a multiple of step {step:g}")
    return ParamSpec(name=name, low=low, high=high, log=log, is_int=is_int, step=step)
