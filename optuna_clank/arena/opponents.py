"""Opponent names -> players: the stable strings a study spec or the CLI may use.

``baseline``, ``random-safe``, ``greedy-food`` and ``heuristic`` (the default config) are
built in; any path to a YAML config file (``my.yaml`` or ``config:my.yaml``) plays the
heuristic snake with that config.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from optuna_clank.arena.config import ConfigError, load_config
from optuna_clank.arena.players import Player
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.arena.snakes.simple import GreedyFoodSnake, RandomSafeSnake
from optuna_clank.errors import UserError
from optuna_clank.userfiles import short_repr

BUILTIN_OPPONENTS: dict[str, Callable[[], Player]] = {
    "baseline": BaselineSnake,
    "random-safe": RandomSafeSnake,
    "greedy-food": GreedyFoodSnake,
    "heuristic": HeuristicSnake,
}
"""Built-in opponents by their stable name."""


class UnknownOpponentError(UserError, ValueError):
    """An opponent name that is neither built in nor a readable config file."""


def opponent_names() -> list[str]:
    """The names accepted besides config paths, for help texts and error messages."""
    return sorted(BUILTIN_OPPONENTS)


def is_config_reference(name: str) -> bool:
    """Whether ``name`` refers to a config file rather than a built-in opponent."""
    return name.startswith("config:") or name.endswith((".yaml", ".yml"))


def check_opponent(name: str, *, base_dir: Path | None = None) -> None:
    """Raise :class:`UnknownOpponentError` (with the choices) unless ``name`` resolves."""
    make_opponent(name, base_dir=base_dir)


def make_opponent(name: str, *, base_dir: Path | None = None) -> Player:
    """The player behind an opponent name (config paths are relative to ``base_dir``)."""
    if name in BUILTIN_OPPONENTS:
        return BUILTIN_OPPONENTS[name]()
    if is_config_reference(name):
        path = Path(name.removeprefix("config:"))
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            config = load_config(path)
        except ConfigError as exc:
            raise UnknownOpponentError(f"opponent {short_repr(name)}: {exc}") from exc
        return HeuristicSnake(config, name=path.stem)
    raise UnknownOpponentError(
        f"unknown opponent {short_repr(name)}; choose one of {', '.join(opponent_names())} or a config file (*.yaml)"
    )
