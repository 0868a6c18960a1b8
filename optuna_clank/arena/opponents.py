"""Opponent names -> players: the stable strings a study spec or the CLI may use.

``baseline`` (go-battleclank's benchmark snake: the Rust snake of the bot repository's ``baseline/``
folder, ported move for move), ``random-safe``, ``greedy-food``, ``heuristic`` (the default config)
and ``gbc`` (go-battleclank with its built-in defaults) are built in; any path to a YAML config file
(``my.yaml`` or ``config:my.yaml``) plays the heuristic snake with that config, and
``gbc:my.yaml`` plays go-battleclank with a YAML of the bot's own (read as the bot reads it).
A URL (``url:http://127.0.0.1:8000`` or bare ``http://...``/``https://...``) seats the
Battlesnake server there (:class:`HttpSnake`), and ``cmd:COMMAND`` (e.g. ``cmd:./go-battleclank``)
the server that command starts: with ``PORT`` (and ``{port}`` in the command) set to a free
loopback port, in the folder of its program (given as a path) or the current one, once per
process (:mod:`optuna_clank.arena.served.command_opponents`).
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import yaml

from optuna_clank.arena.config import Config, ConfigError, load_config
from optuna_clank.arena.served.bot_process import SnakeServerFailure, SnakeStartError
from optuna_clank.arena.served.command_opponents import command_server_url
from optuna_clank.arena.snakes.gbc.schema import GbcConfig, load_gbc_yaml
from optuna_clank.core.errors import UserError
from optuna_clank.core.userfiles import UserFileError, read_text, short_repr

if TYPE_CHECKING:
    from optuna_clank.arena.players import Player


def _baseline() -> Player:

    from optuna_clank.arena.snakes.baseline import BaselineSnake  # noqa: PLC0415 - deferred: loads torch

    return BaselineSnake()


def _random_safe() -> Player:
    from optuna_clank.arena.snakes.simple import RandomSafeSnake  # noqa: PLC0415 - deferred: loads torch

    return RandomSafeSnake()


def _greedy_food() -> Player:
    from optuna_clank.arena.snakes.simple import GreedyFoodSnake  # noqa: PLC0415 - deferred: loads torch

    return GreedyFoodSnake()


def _heuristic(config: Config | None = None, name: str = "heuristic") -> Player:
    from optuna_clank.arena.snakes.heuristic import HeuristicSnake  # noqa: PLC0415 - deferred: loads torch

    return HeuristicSnake(config, name=name)


def _gbc(config: GbcConfig | None = None, name: str = "gbc") -> Player:

    from optuna_clank.arena.snakes.gbc import GbcSnake  # noqa: PLC0415 - deferred: loads torch

    return GbcSnake(config, name=name)


def _server(url: str, name: str) -> Player:
    from optuna_clank.arena.http.player import HttpSnake  # noqa: PLC0415 - deferred: loads torch

    return HttpSnake(url, name=name)


def _started_server(name: str, command: tuple[str, ...], folder: Path) -> Player:

    try:
        url = command_server_url(command, folder)
    except SnakeServerFailure as exc:
        raise SnakeStartError(f"opponent {short_repr(name)}: {exc}", exc.stderr_tail) from None
    return _server(url, Path(command[0]).name)


BUILTIN_OPPONENTS: dict[str, Callable[[], Player]] = {
    "baseline": _baseline,
    "random-safe": _random_safe,
    "greedy-food": _greedy_food,
    "heuristic": _heuristic,
    "gbc": _gbc,
}
"""Built-in opponents by their stable name (each factory imports its snake, and torch, when called)."""

GBC_PREFIX = "gbc:"
"""Prefix of an opponent that plays go-battleclank with the YAML config after it."""

COMMAND_PREFIX = "cmd:"
"""Prefix of an opponent that is the snake server the command after it starts."""

OTHER_FORMS = "a config file (*.yaml), gbc:FILE.yaml, a server URL (url:http://...) or a server command (cmd:./my-bot)"
"""The opponents that are not built-in names, for error messages."""


class UnknownOpponentError(UserError, ValueError):
    """An opponent name that is neither built in nor a readable config file."""


def short_name(opponent: str) -> str:
    """How every text names a spec's opponent: a built-in by its name, a config file or server by the
    last part of its path or URL (``configs/aggressive.yaml`` -> ``aggressive.yaml``)."""
    return Path(opponent).name if "/" in opponent else opponent


def opponent_names() -> list[str]:
    """The names accepted besides config paths, for help texts and error messages."""
    return sorted(BUILTIN_OPPONENTS)


def is_server_reference(name: str) -> bool:
    """Whether ``name`` is the URL of a Battlesnake server (``url:...`` or ``http(s)://...``)."""
    return name.startswith(("url:", "http://", "https://"))


def is_command_reference(name: str) -> bool:
    """Whether ``name`` is a command that starts a snake server (``cmd:...``)."""
    return name.startswith(COMMAND_PREFIX)


def command_of(name: str, *, base_dir: Path | None = None) -> tuple[tuple[str, ...], Path]:
    """The command of a ``cmd:`` opponent, its program resolved, and the folder it runs in.

    A program given as a path (``./bot``, ``bots/bot``) is taken relative to ``base_dir`` (the
    spec's folder) and runs in its own folder; a bare name is looked up on ``PATH`` and runs in
    the current folder. :class:`UnknownOpponentError` if the command is empty or unparsable, or
    the program is missing or not executable.
    """
    text = name.removeprefix(COMMAND_PREFIX)
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UnknownOpponentError(f"opponent {short_repr(name)}: cannot split the command: {exc}") from None
    if not words:
        raise UnknownOpponentError(f"opponent {short_repr(name)}: no command after {COMMAND_PREFIX!r}")
    program = words[0]
    if "/" in program:
        path = Path(program).expanduser()
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        if not path.is_file() or not os.access(path, os.X_OK):
            raise UnknownOpponentError(f"opponent {short_repr(name)}: {path} is not an executable file")
        program_path = path.absolute()  # not resolved: a venv's python is a symlink that must stay one
        return (str(program_path), *words[1:]), program_path.parent
    found = shutil.which(program)
    if found is None:
        raise UnknownOpponentError(f"opponent {short_repr(name)}: {program!r} is not a program on PATH")
    return (found, *words[1:]), Path.cwd()


def stable_command_name(name: str, *, base_dir: Path | None = None) -> str:
    """``name`` with its program as an absolute path, so that it means the same from any folder."""
    command, _ = command_of(name, base_dir=base_dir)
    return COMMAND_PREFIX + shlex.join(command)


def is_config_reference(name: str) -> bool:
    """Whether ``name`` refers to a config file rather than a built-in opponent."""
    return name.startswith(("config:", GBC_PREFIX)) or name.endswith((".yaml", ".yml"))


def check_opponent(name: str, *, base_dir: Path | None = None) -> None:
    """Raise :class:`UnknownOpponentError` (with the choices) unless ``name`` resolves.

    Config files are read and checked, but no player is built: checking stays free of torch, so a
    mistake in a spec or on the command line is reported before the heavy imports.
    """
    resolve_opponent(name, base_dir=base_dir)


def make_opponent(name: str, *, base_dir: Path | None = None) -> Player:
    """The player behind an opponent name (config paths are relative to ``base_dir``)."""
    return resolve_opponent(name, base_dir=base_dir)()


def resolve_opponent(name: str, *, base_dir: Path | None = None) -> Callable[[], Player]:
    """A checked opponent name as a factory of its player (config files already read)."""
    if name in BUILTIN_OPPONENTS:
        return BUILTIN_OPPONENTS[name]
    if is_server_reference(name):
        url = name.removeprefix("url:")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UnknownOpponentError(f"opponent {name!r}: not an http(s) URL")
        return lambda: _server(url, parts.netloc)
    if is_command_reference(name):
        command, folder = command_of(name, base_dir=base_dir)
        return lambda: _started_server(name, command, folder)
    if name.startswith(GBC_PREFIX):
        path = Path(name.removeprefix(GBC_PREFIX))
        path = base_dir / path if base_dir is not None and not path.is_absolute() else path
        gbc_config = _read_gbc_config(path, name)
        return lambda: _gbc(gbc_config, name=f"gbc-{path.stem}")
    if is_config_reference(name):
        path = Path(name.removeprefix("config:"))
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            config = load_config(path)
        except ConfigError as exc:
            raise UnknownOpponentError(f"opponent {short_repr(name)}: {exc}") from exc
        return lambda: _heuristic(config, name=path.stem)
    raise UnknownOpponentError(
        f"unknown opponent {short_repr(name)}; choose one of {', '.join(opponent_names())}, {OTHER_FORMS}"
    )


def _read_gbc_config(path: Path, name: str) -> GbcConfig:
    """go-battleclank's YAML at ``path``, read the way the bot reads it (missing keys are 0)."""
    try:
        return load_gbc_yaml(read_text(path, what="config file"))  # yaml.v2's scalars; empty: all zeros
    except UserFileError as exc:
        raise UnknownOpponentError(f"opponent {short_repr(name)}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UnknownOpponentError(f"opponent {name!r}: {path} is not valid YAML") from exc
