"""Snake files: ``--snake FILE.toml`` names a snake, not a study.

A snake file holds one ``[snake]`` section, e.g. the real bot started with each config::

    [snake]
    command = ["/home/me/go-battleclank/go-battleclank"]   # absolute, or relative to this file
    env = { PORT = "{port}", BATTLESNAKE_CONFIG = "{config}" }
    url = "http://127.0.0.1:{port}"
    base_config = "/home/me/go-battleclank/config.yaml"

``validate --snake``, ``probe``, ``fidelity`` and ``moves`` read it. A whole study spec works too (its
``[snake]`` is used, and ``probe`` takes its ``[search_space]`` as the keys to probe); what a file's
search space says never changes which values reach the snake in ``validate``: those are the validated
trial's parameters, on the file's ``base_config`` (or, without one, the study's base config).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.served.bot_spec import SnakeSpec
from optuna_clank.core.errors import UserError
from optuna_clank.core.userfiles import UserFileError, load_toml
from optuna_clank.spec import load_spec
from optuna_clank.spec.snake_table import SnakeSpecError, read_snake_table
from optuna_clank.trial.snake_kind import kind_of, snake_kind

if TYPE_CHECKING:
    from optuna_clank.spec import ParamSpec, StudySpec

__all__ = ["SnakeFile", "load_snake_file"]


@dataclass(frozen=True)
class SnakeFile:
    """A snake read from a ``.toml`` file: the snake, and the base config its values are written into."""

    path: Path
    snake: SnakeSpec
    base: Mapping[str, Any] = field(repr=False)
    """The config a variant's values are set on: ``[snake] base_config`` (a study spec's base config)."""
    has_base_config: bool
    """Whether the file names the base config itself (a snake-only file without one has none)."""
    search_space: tuple[ParamSpec, ...] = ()
    """A study spec's ``[search_space]``; empty for a snake-only file."""
    spec: StudySpec | None = None
    """The whole spec when the file is one (it has a ``[study]`` section)."""


def load_snake_file(path: str | Path) -> SnakeFile:
    """The snake of a snake file (only ``[snake]``) or of a study spec; a mistake is one :class:`UserError` line."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such snake file")
    try:
        data = load_toml(path, what="snake file")
    except UserFileError as exc:
        raise UserError(str(exc)) from None
    if "study" in data:  # a whole study spec: checked as one, its [snake] used
        return _of_spec(path)
    others = sorted(key for key in data if key != "snake")
    if others:
        raise UserError(
            f"{path}: a snake file holds only a [snake] section, found {', '.join(repr(k) for k in others)} "
            "(a study spec names its study in [study])"
        )
    table = data.get("snake")
    if not isinstance(table, Mapping) or not table:
        raise UserError(f"{path}: no [snake] section (name the snake there, e.g. command, env and url of a server)")
    try:
        snake = read_snake_table(table, path.resolve().parent)
    except SnakeSpecError as exc:
        where = f"[snake] {exc.key!r}:" if exc.unknown else (f"[snake] {exc.key}:" if exc.key else "[snake]:")
        raise UserError(f"{path}: {where} {exc.what}") from None
    return SnakeFile(
        path=path, snake=snake, base=snake_kind(snake).base_config(), has_base_config=snake.base_config is not None
    )


def _of_spec(path: Path) -> SnakeFile:

    spec = load_spec(path)
    has_base = spec.snake.base_config is not None or spec.benchmark.base_config is not None
    return SnakeFile(
        path=path,
        snake=spec.snake,
        base=kind_of(spec).base_config(),
        has_base_config=has_base,
        search_space=spec.search_space,
        spec=spec,
    )
