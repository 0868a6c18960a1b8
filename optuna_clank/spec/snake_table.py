"""``[snake]``: the spec table that names the snake a study tunes, read into a checked :class:`SnakeSpec`.

Reading a spec table is the spec layer's job, so the reader and its checks live here; the arena
keeps :class:`~optuna_clank.arena.served.bot_spec.SnakeSpec` itself and the config helpers it plays with.
A problem raises :class:`SnakeSpecError` naming the key; :mod:`optuna_clank.spec.readers` adds
the file and section, and a snake file (:mod:`optuna_clank.trial.snake_file`) reads the same table.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optuna_clank.arena.served.bot_spec import (
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MOVE_TIMEOUT_MS,
    DEFAULT_STARTUP_TIMEOUT,
    OWN_YAML_BUILTINS,
    PLACEHOLDERS,
    SHIPPED_GBC_CONFIG,
    TUNABLE_BUILTINS,
    SnakeConfigError,
    SnakeSpec,
    gbc_base_config,
    load_base_config,
    placeholder_names,
    shipped_gbc_config_path,
)

__all__ = ["SnakeSpecError", "read_snake_table"]


class SnakeSpecError(ValueError):
    """A ``[snake]`` problem: ``key`` names the offending key ('' for the whole section).

    ``unknown`` marks a key that is not one of the section's (shown quoted, like the other sections do).
    """

    def __init__(self, key: str, what: str, *, unknown: bool = False) -> None:
        super().__init__(what)
        self.key = key
        self.what = what
        self.unknown = unknown


_KEYS = (
    "builtin",
    "command",
    "env",
    "pass_env",
    "url",
    "base_config",
    "startup_timeout",
    "move_timeout_ms",
    "max_in_flight",
)


def read_snake_table(table: Mapping[str, Any], base_dir: Path) -> SnakeSpec:
    """The ``[snake]`` section, checked; raises :class:`SnakeSpecError` naming the key."""
    for key in table:
        if key not in _KEYS:
            raise SnakeSpecError(key, f"unknown key{_did_you_mean(key, _KEYS)}", unknown=True)
    if not table:
        return SnakeSpec()
    if "builtin" in table:
        return _read_builtin(table, base_dir)
    if "url" not in table:
        raise SnakeSpecError(
            "",
            'name a built-in snake (builtin = "heuristic") or a server (url = "http://127.0.0.1:{port}", '
            "with the command that starts it)",
        )
    url = _string("url", table["url"])
    if not re.match(r"^https?://", url):
        raise SnakeSpecError("url", f"{url!r} is not an http:// URL")
    command = _command(table["command"]) if "command" in table else ()
    env = _env(table["env"]) if "env" in table else ()
    pass_env = _names("pass_env", table["pass_env"]) if "pass_env" in table else ()
    for key, given in (("env", env), ("pass_env", pass_env)):
        if given and not command:
            raise SnakeSpecError(key, "is only used with a command that starts the server")
    if not command:
        raise SnakeSpecError(
            "command",
            f"missing: a study must start its snake with each trial's config, and a server already "
            f"running at {url} cannot take one (a bare url serves probe, fidelity and moves)",
        )
    _check_placeholders(command, env, url)
    base = _base_config(table["base_config"], base_dir) if "base_config" in table else None
    startup = _positive("startup_timeout", table.get("startup_timeout", DEFAULT_STARTUP_TIMEOUT))
    move_timeout = _positive_int("move_timeout_ms", table.get("move_timeout_ms", DEFAULT_MOVE_TIMEOUT_MS))
    max_in_flight = _positive_int("max_in_flight", table.get("max_in_flight", DEFAULT_MAX_IN_FLIGHT))
    return SnakeSpec(
        builtin="",
        command=command,
        env=env,
        url=url,
        base_config=base,
        startup_timeout=startup,
        move_timeout_ms=move_timeout,
        cwd=base_dir,
        max_in_flight=max_in_flight,
        pass_env=pass_env,
    )


def _read_builtin(table: Mapping[str, Any], base_dir: Path) -> SnakeSpec:
    name = _string("builtin", table["builtin"])
    if name not in TUNABLE_BUILTINS:
        raise SnakeSpecError(
            "builtin",
            f"unknown built-in snake {name!r}{_did_you_mean(name, TUNABLE_BUILTINS)} "
            f"(choose one of {', '.join(TUNABLE_BUILTINS)}, or name a server with url and command)",
        )
    own_keys = ("builtin", "base_config") if name in OWN_YAML_BUILTINS else ("builtin",)
    for key in table:
        if key not in own_keys:
            hint = " (a built-in snake's base config is [benchmark] base_config)" if key == "base_config" else ""
            raise SnakeSpecError(key, f"does not apply to a built-in snake{hint}")
    base = _gbc_base_path(table["base_config"], base_dir) if "base_config" in table else None
    return SnakeSpec(builtin=name, base_config=base)


def _check_placeholders(command: tuple[str, ...], env: tuple[tuple[str, str], ...], url: str) -> None:
    texts = {"command": list(command), "env": [value for _, value in env], "url": [url]}
    for key, values in texts.items():
        for text in values:
            for name in placeholder_names(text):
                if name not in PLACEHOLDERS:
                    raise SnakeSpecError(
                        key,
                        f"unknown placeholder {{{name}}}{_did_you_mean(name, PLACEHOLDERS)} "
                        f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})",
                    )
    launched = " ".join([*command, *(value for _, value in env)])
    if "{port}" not in url:
        raise SnakeSpecError("url", "must contain {port}: each trial's server listens on its own free port")
    if "{port}" not in launched:
        raise SnakeSpecError("command", "neither command nor env passes {port} to the server")
    if "{config}" not in launched and "{workspace}" not in launched:
        raise SnakeSpecError(
            "command",
            "neither command nor env passes {config} (or {workspace}) to the server, so no trial's values "
            "would reach it",
        )


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise SnakeSpecError(key, f"expected a non-empty string, got {value!r}")
    return value


def _command(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            parts = shlex.split(value)
        except ValueError as exc:
            raise SnakeSpecError("command", f"cannot split {value!r} ({exc})") from None
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = list(value)
    else:
        raise SnakeSpecError("command", f"expected a list of strings, got {value!r}")
    if not parts or not parts[0]:
        raise SnakeSpecError("command", "must not be empty")
    return tuple(parts)


def _env(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise SnakeSpecError("env", f'expected a table like {{ PORT = "{{port}}" }}, got {value!r}')
    pairs = []
    for name, item in value.items():
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise SnakeSpecError("env", f"{name}: expected a string or a number, got {item!r}")
        pairs.append((str(name), str(item)))
    return tuple(pairs)


def _names(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(name, str) and _ENV_NAME.match(name) for name in value):
        raise SnakeSpecError(key, f'expected a list of environment variable names like ["GOMAXPROCS"], got {value!r}')
    return tuple(value)


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _base_config(value: Any, base_dir: Path) -> Path:
    path = Path(_string("base_config", value)).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        load_base_config(path)
    except SnakeConfigError as exc:
        raise SnakeSpecError("base_config", str(exc)) from None
    return path


def _gbc_base_path(value: Any, base_dir: Path) -> Path:
    text = _string("base_config", value)
    if text == SHIPPED_GBC_CONFIG:
        return shipped_gbc_config_path()
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        gbc_base_config(path)
    except SnakeConfigError as exc:
        raise SnakeSpecError("base_config", str(exc)) from None
    return path


def _positive(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise SnakeSpecError(key, f"expected a positive number of seconds, got {value!r}")
    return float(value)


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SnakeSpecError(key, f"expected a whole number of at least 1, got {value!r}")
    return value


def _did_you_mean(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
