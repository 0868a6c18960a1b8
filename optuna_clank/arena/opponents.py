"""Opponent names -> players: the stable strings a study spec or the CLI may use.

``baseline``, ``random-safe``, ``greedy-food``, ``heuristic`` (the default config) and ``gbc``
(go-battleclank with its built-in defaults) are built in; any path to a YAML config file
(``my.yaml`` or ``config:my.yaml``) plays the heuristic snake with that config, and
``gbc:my.yaml`` plays go-battleclank with a YAML of the bot's own (read as the bot reads it).
A URL (``url:http://127.0.0.1:8000`` or bare ``http://...``/``https://...``) seats the
Battlesnake server there (:class:`HttpSnake`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from optuna_clank.arena.config import ConfigError, load_config
from optuna_clank.arena.http_player import HttpSnake
from optuna_clank.arena.players import Player
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.gbc.schema import load_gbc_yaml
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.arena.snakes.simple import GreedyFoodSnake, RandomSafeSnake
from optuna_clank.errors import UserError
from optuna_clank.userfiles import UserFileError, read_text, short_repr

BUILTIN_OPPONENTS: dict[str, Callable[[], Player]] = {
    "baseline": BaselineSnake,
    "random-safe": RandomSafeSnake,
    "greedy-food": GreedyFoodSnake,
    "heuristic": HeuristicSnake,
    "gbc": GbcSnake,
}
"""Built-in opponents by their stable name."""

GBC_PREFIX = "gbc:"
"""Prefix of an opponent that plays go-battleclank with the YAML config after it."""


class UnknownOpponentError(UserError, ValueError):
    """An opponent name that is neither built in nor a readable config file."""


def opponent_names() -> list[str]:
    """The names accepted besides config paths, for help texts and error messages."""
    return sorted(BUILTIN_OPPONENTS)


def is_server_reference(name: str) -> bool:
    """Whether ``name`` is the URL of a Battlesnake server (``url:...`` or ``http(s)://...``)."""
    return name.startswith(("url:", "http://", "https://"))


def is_config_reference(name: str) -> bool:
    """Whether ``name`` refers to a config file rather than a built-in opponent."""
    return name.startswith(("config:", GBC_PREFIX)) or name.endswith((".yaml", ".yml"))


def check_opponent(name: str, *, base_dir: Path | None = None) -> None:
    """Raise :class:`UnknownOpponentError` (with the choices) unless ``name`` resolves."""
    make_opponent(name, base_dir=base_dir)


def make_opponent(name: str, *, base_dir: Path | None = None) -> Player:
    """The player behind an opponent name (config paths are relative to ``base_dir``)."""
    if name in BUILTIN_OPPONENTS:
        return BUILTIN_OPPONENTS[name]()
    if is_server_reference(name):
        url = name.removeprefix("url:")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UnknownOpponentError(f"opponent {name!r}: not an http(s) URL")
        return HttpSnake(url, name=parts.netloc)
    if name.startswith(GBC_PREFIX):
        path = Path(name.removeprefix(GBC_PREFIX))
        return _gbc_opponent(base_dir / path if base_dir is not None and not path.is_absolute() else path, name)
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
        f"unknown opponent {short_repr(name)}; choose one of {', '.join(opponent_names())}, "
        "a config file (*.yaml) or a server URL (url:http://...)"
    )


def _gbc_opponent(path: Path, name: str) -> GbcSnake:
    """go-battleclank with the YAML at ``path``, read the way the bot reads it (missing keys are 0)."""
    try:
        config = load_gbc_yaml(read_text(path, what="config file"))  # yaml.v2's scalars; empty: all zeros
    except UserFileError as exc:
        raise UnknownOpponentError(f"opponent {short_repr(name)}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UnknownOpponentError(f"opponent {name!r}: {path} is not valid YAML") from exc
    return GbcSnake(config, name=f"gbc-{path.stem}")
