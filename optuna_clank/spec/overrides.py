"""Command-line overrides of a spec: which options exist, and how each lands in the spec's TOML data.

An override is applied to the spec as TOML-shaped data, which the section readers then read
again, so a value from the command line is checked exactly like one from the file.
:meth:`~optuna_clank.spec.assembly.StudySpec.with_overrides` drives it; this module only knows
the options (:data:`OVERRIDES`, from the sections' field metadata) and what each one writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optuna_clank.arena.opponents import is_config_reference
from optuna_clank.core.redact import redact_url
from optuna_clank.core.userfiles import short_repr
from optuna_clank.spec.model import OPTION, SECTION_CLASSES, SpecError
from optuna_clank.spec.readers import resolved
from optuna_clank.spec.values import BadValue, as_integer, did_you_mean

__all__ = ["OVERRIDES", "apply_overrides", "shown_overrides"]

OVERRIDES: dict[str, tuple[str, str]] = {
    key.metadata[OPTION] or key.name: (section, key.name)
    for section, cls in SECTION_CLASSES.items()
    for key in dataclasses.fields(cls)
    if OPTION in key.metadata
}
"""Override option -> (section, key) it replaces in :meth:`StudySpec.with_overrides`."""


def apply_overrides(raw: dict[str, Any], changes: Mapping[str, Any], label: str) -> dict[str, Any]:
    """``raw`` (a spec's TOML data, changed in place) with each option of ``changes`` applied.

    An unknown option raises :class:`SpecError` naming the spec ``label``. Lowering
    ``games_per_trial`` lowers ``round_size`` too unless that is overridden as well; new
    ``opponents`` drop the spec's ``opponent_weights`` unless those are overridden as well.
    """
    for option, value in changes.items():
        _apply_override(raw, option, value, label)
    if "games_per_trial" in changes and "round_size" not in changes:
        _lower_round_size(raw["benchmark"])
    if "opponents" in changes and "opponent_weights" not in changes:
        raw["benchmark"].pop("opponent_weights", None)  # the spec's weights were for its own opponents
    return raw


def shown_overrides(changes: Mapping[str, Any]) -> str:
    """The overrides as messages show them: ``key=value, ...``, short, storage URLs without passwords."""
    return ", ".join(f"{key}={_shown_override(key, value)}" for key, value in changes.items())


def _shown_override(option: str, value: Any) -> str:
    """An override as messages show it: short, and a storage URL without its password."""
    if option == "storage_url" and isinstance(value, str):
        return repr(redact_url(value))
    return short_repr(value)


def _apply_override(raw: dict[str, Any], option: str, value: Any, label: str) -> None:
    if option not in OVERRIDES:
        raise SpecError(
            f"{label}: override {option!r}: unknown option{did_you_mean(option, list(OVERRIDES))}"
            f" (known: {', '.join(sorted(OVERRIDES))})"
        )
    section, key = OVERRIDES[option]
    own_yaml = "builtin" not in raw["snake"] or raw["snake"]["builtin"] == "gbc"
    if option == "base_config" and own_yaml:
        section = "snake"  # a server's or gbc's base config is its own YAML: [snake] base_config
    if section == "snake" and str(value) == "default":
        raw["snake"].pop("base_config", None)  # gbc: the bot's built-in defaults
        return
    raw[section][key] = _override_value(option, value)


def _lower_round_size(benchmark: dict[str, Any]) -> None:
    """Keep ``round_size <= games_per_trial`` when only the games were overridden."""
    try:
        games = as_integer(benchmark["games_per_trial"])
    except BadValue:
        return  # the reader reports it, naming the option
    benchmark["round_size"] = min(benchmark["round_size"], games)


def _override_value(option: str, value: Any) -> Any:
    """Paths from the command line are relative to where it runs, not to the spec file."""
    here = Path.cwd()
    if option == "base_config" and isinstance(value, str | Path) and str(value) not in ("default", "shipped"):
        return resolved(str(value), here)
    if option == "opponents" and isinstance(value, list | tuple):
        return [_absolute_if_config(name, here) for name in value]
    if isinstance(value, tuple):
        return list(value)
    return value


def _absolute_if_config(name: Any, here: Path) -> Any:

    if isinstance(name, str) and is_config_reference(name):
        return resolved(name, here)
    return name
