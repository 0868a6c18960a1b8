"""TODO: docstring of optuna_clank.study.export."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.bot_spec import dotted_value, gbc_base_config, load_base_config

if TYPE_CHECKING:
    from optuna_clank.spec.study_spec import StudySpec


def export_server_config(
    spec: StudySpec, study: Any, path: Path | None, *, base: Path | None = None
) -> tuple[str, Any]:
    """A server's or gbc's best config: its YAML (``base`` or ``[snake] base_config``) with the best trial's values.

    Written atomically to ``path`` when given; returns the YAML text and the :class:`~optuna_clank.study.results.Best`.
    The built-in export merges onto the built-in schema; a server's keys are its own, so they go in as they are.
    A ``gbc`` study writes every key of go-battleclank's config (the base's value where untuned), so the Go bot
    reads exactly what the stand-in played, not 0 for the keys its own YAML lacks.
    """
    import yaml

    from optuna_clank.arena.bot_spec import with_dotted_values
    from optuna_clank.core.errors import UserError
    from optuna_clank.core.userfiles import write_text_atomically
    from optuna_clank.study.results import best_trial

    best = best_trial(study)
    if best is None:
        raise UserError(f"study {spec.name!r} has no completed trial yet: nothing to export")
    params = best.trial.params if best.trial is not None else {}  # None: no validated trial beats the base
    if spec.snake.builtin == "gbc":
        from optuna_clank.arena.snakes.gbc.schema import gbc_yaml_mapping, read_gbc_config

        base_config = gbc_base_config(base or spec.snake.base_config)
        played = with_dotted_values(base_config, _changed(params, base_config))
        config: dict[str, Any] = gbc_yaml_mapping(read_gbc_config(played))
    else:
        base_config = load_base_config(base or spec.snake.base_config)
        config = with_dotted_values(base_config, _changed(params, base_config))
    text = f"# optuna-clank: study {spec.name}, {best.describe()}\n" + yaml.safe_dump(config, sort_keys=False)
    if path is not None:
        write_text_atomically(path, text)
    return text, best


def _changed(params: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that differ from ``base``: where a trial holds the base's own value, the base's value
    (as written in its YAML) is kept, not a float's round trip of it."""
    from optuna_clank.trial.base_trial import unchanged_names

    known = {name: dotted_value(base, name) for name in params}
    numbers = {n: v for n, v in known.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    same = unchanged_names(params, numbers)
    return {name: value for name, value in params.items() if name not in same}
