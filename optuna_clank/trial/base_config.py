"""TODO: docstring of optuna_clank.trial.base_config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.config import Config, default_config, load_config

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec
from typing import TYPE_CHECKING

from optuna_clank.arena.served.bot_spec import dotted_value, gbc_base_config, load_base_config

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec


def base_config_of(spec: StudySpec) -> Config:
    """The config the spec's parameters are set on (its ``base_config`` or the default)."""
    return load_config(spec.benchmark.base_config) if spec.benchmark.base_config else default_config()


def snake_base_of(spec: StudySpec) -> Mapping[str, Any]:
    """The config a trial's values are written into: a server's own YAML, gbc's full config, or the built-in one."""
    if spec.snake.is_server:
        return load_base_config(spec.snake.base_config)
    if spec.snake.builtin == "gbc":
        return gbc_base_config(spec.snake.base_config)

    return base_config_of(spec)


def base_values(spec: StudySpec) -> dict[str, float]:
    """The base config's value of each search-space key (0 where a server's YAML lacks it, as bots read it)."""
    base = snake_base_of(spec)
    values = {}
    for param in spec.search_space:
        value = dotted_value(base, param.name)
        values[param.name] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    return values
