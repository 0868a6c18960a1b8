"""``init``: a ready go-battleclank study and a snake file for the real binary, from two paths.

A new user has a bot binary and its ``config.yaml``. ``init`` writes

* ``studies/<name>.toml``: the shipped go-battleclank study (:data:`TEMPLATE_STUDY`) on that config,
  played by the ``gbc`` stand-in, so ``optimize --study <name>`` runs as it is;
* ``snakes/<name>.toml``: a snake file that starts the real binary, where it is, once per config, for
  ``validate --snake`` (and ``probe``, ``fidelity``, ``moves``).

Paths are written absolute, so both files work from any folder and nothing is copied. The study is
built from the shipped spec's text (its comments stay) with three edits: the study's name, the snake's
base config, and a header saying where it came from. Which shipped spec that is, is
:func:`template_spec`: one place to switch.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from optuna_clank.core.errors import UserError
from optuna_clank.core.userfiles import write_text_atomically

__all__ = ["TEMPLATE_STUDY", "InitResult", "default_name", "init_bot", "template_spec"]

TEMPLATE_STUDY = "v2"
"""The shipped spec a go-battleclank study is made from (see :func:`template_spec`)."""

STUDIES_DIR = "studies"
SNAKES_DIR = "snakes"
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\"-]+)\s*\]\s*(?:#.*)?$")


def template_spec() -> Path:
    """The shipped spec ``init`` adapts: the go-battleclank study of this version of optuna-clank."""
    from optuna_clank.spec import shipped_spec_path

    return shipped_spec_path(TEMPLATE_STUDY)


@dataclass(frozen=True)
class InitResult:
    """What ``init`` wrote, and the commands to run next."""

    name: str
    study_file: Path
    snake_file: Path
    bot: Path
    config: Path
    template: Path

    def next_commands(self, *, cwd: Path | None = None) -> list[str]:
        """The three commands that follow: tune on the stand-in, confirm on the real bot, export."""
        snake = _shown(self.snake_file, cwd)
        return [
            f"python -m optuna_clank optimize --study {self.name}",
            f"python -m optuna_clank validate --study {self.name} --snake {snake} --games 200",
            f"python -m optuna_clank export --study {self.name} -o tuned.yaml",
        ]


def default_name(bot: Path) -> str:
    """The study's name from the binary's: ``./go-battleclank`` -> ``go-battleclank``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", bot.name).strip("-.")
    return name.removesuffix(".toml") or "mybot"


def init_bot(
    bot: Path, config: Path, *, name: str | None = None, folder: Path | None = None, force: bool = False
) -> InitResult:
    """Check the binary and the config, then write the study and the snake file into ``folder`` (default: here)."""
    folder = Path.cwd() if folder is None else folder
    bot_path = _checked_bot(bot)
    config_path = _checked_config(config)
    name = name if name is not None else default_name(bot_path)
    _check_name(name)
    study_file = folder / STUDIES_DIR / f"{name}.toml"
    snake_file = folder / SNAKES_DIR / f"{name}.toml"
    existing = [path for path in (study_file, snake_file) if path.exists()]
    if existing and not force:
        shown = " and ".join(str(_shown(path, folder)) for path in existing)
        raise UserError(f"{shown} already exist{'s' if len(existing) == 1 else ''}; pass --force to overwrite")
    template = template_spec()
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    study_text = study_spec_text(template.read_text(), name=name, config=config_path, bot=bot_path, stamp=stamp)
    snake_text = snake_file_text(bot=bot_path, config=config_path, stamp=stamp)
    _check_written(study_text, study_file, lambda path: _check_study(path, name, config_path))
    _check_written(snake_text, snake_file, _check_snake)
    write_text_atomically(study_file, study_text)
    write_text_atomically(snake_file, snake_text)
    return InitResult(name, study_file, snake_file, bot_path, config_path, template)


# --------------------------------------------------------------------------- checks of the input


def _checked_bot(bot: Path) -> Path:
    path = _absolute(bot)
    if not path.exists():
        raise UserError(f"--bot {bot}: no such file (build the bot first, e.g. go build -o go-battleclank .)")
    if not path.is_file():
        raise UserError(f"--bot {bot}: not a file (name the bot's executable)")
    if not os.access(path, os.X_OK):
        raise UserError(f"--bot {bot}: not executable (chmod +x {bot})")
    return path


def _checked_config(config: Path) -> Path:
    from optuna_clank.arena.served.bot_spec import SnakeConfigError, gbc_base_config
    from optuna_clank.core.userfiles import UserFileError, load_yaml

    path = _absolute(config)
    if not path.is_file():
        raise UserError(f"--config {config}: no such file")
    try:
        data = load_yaml(path, what="config file")  # size cap, UTF-8, bounded aliases
    except UserFileError as exc:
        raise UserError(f"--config {exc}") from None
    if not isinstance(data, Mapping) or not data:
        kind = "is empty" if data is None or data == {} else f"holds a {type(data).__name__}, not a mapping of keys"
        raise UserError(f"--config {config} {kind}: name the bot's config.yaml")
    try:
        gbc_base_config(path)  # read as the bot reads it: a value it cannot decode is refused
    except SnakeConfigError as exc:
        raise UserError(f"--config {exc}") from None
    from optuna_clank.arena.snakes.gbc.schema import GBC_KEY_BY_NAME

    if not any(name in GBC_KEY_BY_NAME for name in _dotted_keys(data)):
        raise UserError(
            f"--config {config} names none of go-battleclank's config keys (e.g. weights.space): "
            "the bot would read every key as 0; name the bot's config.yaml"
        )
    return path


def _absolute(path: Path) -> Path:
    """The path made absolute and normal (no ``..``), symbolic links kept: the file where the user put it."""
    return Path(os.path.abspath(path.expanduser()))  # noqa: PTH100 (resolve() would follow links)


def _dotted_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        keys.extend(_dotted_keys(value, f"{name}.") if isinstance(value, Mapping) else [name])
    return keys


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or name.endswith(".toml"):
        raise UserError(f"--name {name!r}: a study name uses only letters, digits, '_', '.', '-' (and no .toml)")


# --------------------------------------------------------------------------- the files


def study_spec_text(template: str, *, name: str, config: Path, bot: Path, stamp: str) -> str:
    """The template spec's text for this bot: its name, the bot's config as ``[snake] base_config``, a header."""
    lines = template.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("#")):
        lines.pop(0)  # the template's own header: how to copy it, which no longer applies
    body: list[str] = []
    section = ""
    has_snake = False
    for line in lines:
        match = _SECTION.match(line)
        if match:
            if section == "snake":
                body.extend(_snake_lines(config, builtin_seen=_has_key(body, "builtin", "snake")))
            section = match[1].strip('"')
            has_snake = has_snake or section == "snake"
            body.append(line)
            continue
        key = _key_of(line)
        if section == "study" and key == "name":
            body.append(f"name = {_toml_string(name)}")
            continue
        if (section == "snake" and key == "base_config") or (section == "benchmark" and key == "base_config"):
            continue  # replaced below by the bot's config (a gbc study reads it from [snake])
        if section == "snake" and line.lstrip().startswith("#"):
            continue  # the template's notes on base_config, which is set now
        if section == "snake" and key == "builtin":
            body.append('builtin = "gbc"                      # go-battleclank\'s /move, batched (the stand-in)')
            body.append(f"base_config = {_toml_string(str(config))}   # your bot's YAML, read as the bot reads it")
            continue
        body.append(line)
    if section == "snake":
        body.extend(_snake_lines(config, builtin_seen=_has_key(body, "builtin", "snake")))
    if not has_snake:
        body += ["", "[snake]", 'builtin = "gbc"', f"base_config = {_toml_string(str(config))}"]
    header = [
        f"# Study spec {name}: go-battleclank ({bot}) on its config {config},",
        f"# tuned through the gbc stand-in. Written by `python -m optuna_clank init` on {stamp}",
        f"# from the shipped spec {TEMPLATE_STUDY!r}; edit it freely (every key is checked when it loads).",
        "#",
        f"#     python -m optuna_clank optimize --study {name}",
        f"#     python -m optuna_clank validate --study {name} --snake {SNAKES_DIR}/{name}.toml --games 200",
        f"#     python -m optuna_clank export --study {name} -o tuned.yaml",
        "",
    ]
    return "\n".join(header + body) + "\n"


def _snake_lines(config: Path, *, builtin_seen: bool) -> list[str]:
    """Lines a template's ``[snake]`` lacks: the gbc snake (its base config follows its ``builtin`` line)."""
    if builtin_seen:
        return []
    return ['builtin = "gbc"', f"base_config = {_toml_string(str(config))}"]


def _has_key(body: list[str], key: str, section: str) -> bool:
    current = ""
    for line in body:
        match = _SECTION.match(line)
        if match:
            current = match[1].strip('"')
        elif current == section and _key_of(line) == key:
            return True
    return False


def _key_of(line: str) -> str:
    """The bare key of a ``key = value`` line ("" for comments, blanks and anything else)."""
    match = re.match(r"^\s*([A-Za-z0-9_-]+)\s*=", line)
    return match[1] if match else ""


def snake_file_text(*, bot: Path, config: Path, stamp: str) -> str:
    """A snake file that starts the real binary with each config (``validate --snake`` and the like)."""
    return "\n".join(
        [
            f"# go-battleclank, the real binary, as a snake file: written by `python -m optuna_clank init` on {stamp}.",
            "# validate --snake, probe --snake, fidelity and moves start it once per config, on a free loopback port,",
            "# with the config's values written into a copy of base_config (BATTLESNAKE_CONFIG). The command is the",
            "# binary where it is; it runs in this file's folder, so a relative path would be read from here.",
            "[snake]",
            f"command = [{_toml_string(str(bot))}]",
            'env = { PORT = "{port}", BATTLESNAKE_CONFIG = "{config}" }',
            'url = "http://127.0.0.1:{port}"',
            f"base_config = {_toml_string(str(config))}",
            "",
        ]
    )


def _toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's too."""
    return json.dumps(text, ensure_ascii=False)


def _check_written(text: str, path: Path, check: Any) -> None:
    """Load what would be written (from a temporary file in the same folder) before writing anything."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".toml")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        check(Path(temporary))
    finally:
        Path(temporary).unlink(missing_ok=True)


def _check_study(path: Path, name: str, config: Path) -> None:
    from optuna_clank.spec import load_spec

    spec = load_spec(path)
    if spec.name != name or spec.snake.builtin != "gbc" or spec.snake.base_config != config:
        raise UserError(f"the shipped spec {TEMPLATE_STUDY!r} could not be adapted to {config} (please report this)")


def _check_snake(path: Path) -> None:
    from optuna_clank.trial.snake_file import load_snake_file

    load_snake_file(path)


def _shown(path: Path, cwd: Path | None) -> Path:
    """``path`` relative to ``cwd`` (default: here) where it lies below it."""
    base = Path.cwd() if cwd is None else cwd
    try:
        return path.relative_to(base)
    except ValueError:
        return path
