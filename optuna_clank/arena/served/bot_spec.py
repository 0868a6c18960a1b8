"""Which snake a study tunes: the ``[snake]`` spec section's :class:`SnakeSpec`, and trial configs in any YAML shape.

By default a study tunes the built-in heuristic snake in-process. A ``[snake]`` section can
name any Battlesnake server instead, started once per trial with that trial's config::

    [snake]
    command = ["./go-battleclank"]            # run in the spec's folder
    env = { PORT = "{port}", BATTLESNAKE_CONFIG = "{config}" }
    url = "http://127.0.0.1:{port}"
    base_config = "my-bot/config.yaml"        # the trial's values are written into a copy of it

``{port}`` (a free loopback port), ``{config}`` (the trial's YAML file) and ``{workspace}``
(the trial's own temporary folder) are replaced in ``command``, ``env`` and ``url``. A server
snake reads its config itself, so its keys are whatever its YAML holds: nested by dots
(``weights.space``), and keys the base lacks are added, because bots read missing keys as 0.

The spec layer reads and checks the table (:mod:`optuna_clank.spec.snake_table`); the arena keeps
what it plays with: the spec, the base configs and writing a trial's values into them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from optuna_clank.arena.snakes.gbc.schema import default_gbc_config, gbc_yaml_mapping, load_gbc_yaml
from optuna_clank.core.errors import UserError
from optuna_clank.core.userfiles import UserFileError, load_yaml, parse_yaml, read_text, write_text_atomically

PLACEHOLDERS = ("port", "config", "workspace")
"""The ``{name}`` placeholders replaced in a server snake's command, env and url."""

TUNABLE_BUILTINS = ("heuristic", "gbc")
"""Built-in snakes a study can tune in-process (each reads a config)."""

OWN_YAML_BUILTINS = ("gbc",)
"""Built-in snakes that read a bot's own YAML (``[snake] base_config``, dotted keys of its schema)."""

SHIPPED_GBC_CONFIG = "shipped"
"""``[snake] base_config = "shipped"`` (``gbc``): go-battleclank's own ``config.yaml``, shipped with this package."""

DEFAULT_STARTUP_TIMEOUT = 60.0
"""Seconds a started snake has to answer ``GET /`` (a cold Python or JVM bot is slow to start)."""

DEFAULT_MOVE_TIMEOUT_MS = 500
"""The game's move timeout, as the official CLI sets it: a later answer repeats the last move."""

DEFAULT_MAX_IN_FLIGHT = 256
"""Most ``/move`` requests a server gets at once; fewer while it answers slowly (see arena.http_limit)."""

SAFE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM")
"""The variables of the run's environment every snake server gets (and ``LC_*``): what any program
expects, nothing secret. Everything else - LLM provider keys, database URLs and passwords, the
storage URL - reaches a server only when the spec passes it on purpose (``env``, ``pass_env``)."""

_PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Za-z_][A-Za-z0-9_]*)\}")


class SnakeConfigError(UserError, ValueError):
    """A base config that cannot take a trial's values (unreadable, not a mapping, a scalar in the way)."""


@dataclass(frozen=True)
class SnakeSpec:
    """``[snake]``: a built-in snake (``builtin``) or a Battlesnake server (``url``, maybe ``command``).

    ``cwd`` is the folder a command runs in (the spec's folder), so ``./my-bot`` works.
    """

    builtin: str = "heuristic"
    command: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    url: str = ""
    base_config: Path | None = None
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    move_timeout_ms: int = DEFAULT_MOVE_TIMEOUT_MS
    cwd: Path | None = None
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    pass_env: tuple[str, ...] = ()

    @property
    def is_server(self) -> bool:
        """Whether the snake is reached over the Battlesnake API (not played in-process)."""
        return bool(self.url)

    @property
    def starts_server(self) -> bool:
        """Whether each trial starts its own server process (``command``) with its own config."""
        return bool(self.command)

    @property
    def reads_own_yaml(self) -> bool:
        """Whether the snake's config is a bot's own YAML (a server, or ``gbc``), not the heuristic's schema."""
        return self.is_server or self.builtin in OWN_YAML_BUILTINS

    def describe(self) -> str:
        """A few words for logs and reports."""
        if not self.is_server:
            base = f" with {describe_base_config(self.base_config)}" if self.base_config is not None else ""
            return f"built-in {self.builtin}{base}"
        if self.starts_server:  # each config's server gets its own port: no one URL to show
            fixed = "" if _PLACEHOLDER.search(self.url) else f" at {self.url}"
            return f"server {' '.join(self.command)}{fixed} (one process per config)"
        return f"server at {self.url}"

    def to_raw(self) -> dict[str, Any]:
        """The section as TOML-shaped data (for spec overrides, which re-read it)."""
        if not self.is_server:
            own = {"base_config": str(self.base_config)} if self.base_config is not None else {}
            return {"builtin": self.builtin, **own}
        raw: dict[str, Any] = {
            "url": self.url,
            "startup_timeout": self.startup_timeout,
            "move_timeout_ms": self.move_timeout_ms,
        }
        if self.command:
            raw["command"] = list(self.command)
        if self.env:
            raw["env"] = dict(self.env)
        if self.base_config is not None:
            raw["base_config"] = str(self.base_config)
        if self.max_in_flight != DEFAULT_MAX_IN_FLIGHT:
            raw["max_in_flight"] = self.max_in_flight
        if self.pass_env:
            raw["pass_env"] = list(self.pass_env)
        return raw

    def environment(self, places: Mapping[str, str], outer: Mapping[str, str]) -> dict[str, str]:
        """The server's environment: :data:`SAFE_ENV` and ``pass_env`` from ``outer``, then ``env`` filled in."""
        env = {name: value for name, value in outer.items() if name in SAFE_ENV or name.startswith("LC_")}
        env.update({name: outer[name] for name in self.pass_env if name in outer})
        env.update({name: substitute(value, places) for name, value in self.env})
        return env


# --------------------------------------------------------------------------- configs of any shape


def shipped_gbc_config_path() -> Path:
    """go-battleclank's ``config.yaml`` at the commit the ``gbc`` stand-in models (package data, MIT; its
    header names the source): the main study starts from it, so it runs with no file of the user's."""
    return Path(__file__).resolve().parents[1] / "snakes" / "gbc" / "shipped_config.yaml"


def describe_base_config(path: Path | None) -> str:
    """A base config as messages name it: its path, or what the shipped one is."""
    if path is None:
        return "the built-in defaults"
    if path.resolve() == shipped_gbc_config_path():
        return "go-battleclank's shipped config.yaml"
    return str(path)


def load_base_config(path: Path | None) -> dict[str, Any]:
    """A server snake's base config as plain YAML data (no schema: the bot is the schema)."""
    if path is None:
        return {}
    try:
        data = load_yaml(path, what="config file")  # size cap, UTF-8, bounded aliases
    except UserFileError as exc:
        raise SnakeConfigError(str(exc)) from None
    if data is None:
        raise SnakeConfigError(f"{path}: {_EMPTY}")
    if not isinstance(data, dict):
        raise SnakeConfigError(f"{path}: a config must be a mapping of keys, got {type(data).__name__}")
    return data


_EMPTY = "empty config (no keys); write {} to start from an empty one on purpose, or leave base_config out"


def gbc_base_config(path: Path | None) -> dict[str, Any]:
    """go-battleclank's config as the bot reads ``path``, naming every key (nested, as its YAML nests them).

    ``None`` gives the bot's built-in defaults (no YAML at all); a YAML's missing keys read as 0. A value
    the bot cannot decode is refused: the bot would silently play all its defaults instead.
    """

    if path is None:
        return dict(gbc_yaml_mapping(default_gbc_config()))
    try:
        text = read_text(path, what="config file")  # size cap, UTF-8
    except UserFileError as exc:
        raise SnakeConfigError(str(exc)) from None
    try:
        if parse_yaml(text) is None:  # the bot would read every key as 0 (aliases bounded)
            raise SnakeConfigError(f"{path}: {_EMPTY}")
        config = load_gbc_yaml(text)
    except UserFileError as exc:
        raise SnakeConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SnakeConfigError(f"{path}: not valid YAML ({problem})") from None
    if config.type_errors:
        problems = "; ".join(config.type_errors)
        raise SnakeConfigError(f"{path}: go-battleclank cannot decode {problems} (it would play its defaults)")
    return dict(gbc_yaml_mapping(config))


def dotted_value(data: Mapping[str, Any], name: str) -> Any:
    """The value at a dotted path (``weights.space``), or ``None`` where the YAML lacks it."""
    node: Any = data
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def with_dotted_values(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with each dotted key set, adding the mappings and keys it lacks."""
    data = copy.deepcopy(dict(base))
    for name, value in values.items():
        parts = name.split(".")
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join(parts[: depth + 1])
                raise SnakeConfigError(f"cannot set {name!r}: {where!r} is {child!r}, not a mapping")
            node = child
        node[parts[-1]] = _plain(value)
    return data


def _plain(value: Any) -> Any:
    """numpy numbers as plain Python ones, so the YAML carries no Python tags."""
    return value.item() if hasattr(value, "item") else value


def write_config(path: Path, data: Mapping[str, Any]) -> None:
    """Write a config as YAML, keys in the base's order, atomically (a starting bot never reads half a file)."""
    write_text_atomically(path, yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False))


def placeholder_names(text: str) -> list[str]:
    """The names of the ``{name}`` placeholders in ``text``, known or not (``${NAME}`` is the shell's)."""
    return _PLACEHOLDER.findall(text)


def substitute(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{port}``, ``{config}``, ``{workspace}`` replaced (others left alone)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)
