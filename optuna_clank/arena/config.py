"""Snake configs in the go-battleclank YAML shape: loading, validation, flat views.

A config is a nested mapping ``section -> key -> value``. Its schema is the shipped default
config: a user file may leave keys out (they keep their default) but an unknown key or a value
of the wrong type is refused with a message naming ``section.key`` — a typo must never turn
into a silently ignored weight, which is how the old loop tuned dead keys.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from optuna_clank.core.errors import UserError
from optuna_clank.core.userfiles import UserFileError, load_yaml, parse_yaml, short_repr

Config = dict[str, dict[str, Any]]


class ConfigError(UserError, ValueError):
    """A snake config that does not fit the schema; the message names the offending key."""


def default_config() -> Config:
    """A fresh copy of the shipped default config (the schema of every other config)."""
    return copy.deepcopy(_default_config())


def _default_config() -> Config:
    cached = getattr(_default_config, "_cache", None)
    if cached is None:
        text = resources.files("optuna_clank.arena").joinpath("default_config.yaml").read_text()
        cached = parse_yaml(text)
        _default_config._cache = cached  # type: ignore[attr-defined]
    return cached


def load_config(path: str | Path) -> Config:
    """Read a YAML config file (through the safe reader) and validate it onto the defaults.

    An empty file is refused rather than played as the default config: an empty file is
    almost always a mistake (a failed export, a wrong path), and "{}" says "defaults" on purpose.
    """
    path = Path(path)
    try:
        data = load_yaml(path, what="config file")
    except UserFileError as exc:
        raise ConfigError(str(exc)) from None
    if data is None:
        raise ConfigError(
            f"{path}: empty config (no sections); write {{}} to play the defaults on purpose, or leave the config out"
        )
    try:
        return validate_config(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def validate_config(data: Any, *, base: Config | None = None) -> Config:
    """Check ``data`` against the schema and return it merged onto ``base`` (default: defaults)."""
    schema = _default_config()
    merged = copy.deepcopy(base) if base is not None else default_config()
    if not isinstance(data, Mapping):
        raise ConfigError(f"a config must be a mapping of sections, got {type(data).__name__}")
    for section, values in data.items():
        if section not in schema:
            raise ConfigError(f"unknown section {short_repr(section)} (known: {', '.join(sorted(schema))})")
        if not isinstance(values, Mapping):
            raise ConfigError(f"section {short_repr(section)} must be a mapping of keys to values")
        for key, value in values.items():
            name = f"{section}.{key}"
            if key not in schema[section]:
                raise ConfigError(f"unknown key {short_repr(name)}")
            merged[section][key] = _checked_value(name, value, schema[section][key])
    return merged


def _checked_value(name: str, value: Any, default: Any) -> Any:
    expected = type(default)
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name!r} must be true or false, got {short_repr(value)}")
        return value
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name!r} must be a string, got {short_repr(value)}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name!r} must be a number, got {short_repr(value)}")
    if not math.isfinite(value):
        raise ConfigError(f"{name!r} must be finite, got {short_repr(value)}")
    if expected is int:
        if float(value) != int(value):
            raise ConfigError(f"{name!r} must be an integer, got {short_repr(value)}")
        return int(value)
    return float(value)


def flatten(config: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``{"weights": {"space": 1}}`` -> ``{"weights.space": 1}``."""
    return {f"{section}.{key}": value for section, values in config.items() for key, value in values.items()}


def with_values(config: Config, values: Mapping[str, Any]) -> Config:
    """A copy of ``config`` with dotted ``values`` (e.g. tuned parameters) set, validated."""
    nested: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        section, _, key = name.partition(".")
        if not key:
            raise ConfigError(f"parameter names look like 'section.key', got {short_repr(name)}")
        nested.setdefault(section, {})[key] = value
    return validate_config(nested, base=config)


def dump_config(config: Config) -> str:
    """YAML text of a config, sections and keys sorted like the go-battleclank file."""
    return yaml.safe_dump(config, sort_keys=True, default_flow_style=False)
