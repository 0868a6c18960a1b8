"""Reading files a user hands us (snake configs, study specs) without trusting them.

Every YAML and TOML file from the command line or a spec goes through here, so one place
decides the limits: a size cap checked before parsing (a config is a few KB; a 50 MB file
of keys took minutes and gigabytes), strict UTF-8, YAML aliases counted so that a few
hundred bytes of nested anchors (a "billion laughs") cannot expand into millions of
values, and :func:`short_repr` for showing a value in an error message, which is bounded
whatever the value holds.
"""

from __future__ import annotations

import os
import re
import reprlib
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import yaml

from optuna_clank.core.errors import UserError

MAX_FILE_BYTES = 1024 * 1024
"""Largest config or spec file read (1 MiB); real ones are a few KB."""

MAX_YAML_NODES = 100_000
"""Largest YAML document, counted with every alias expanded (the default config has ~120)."""


def _short_repr_settings() -> reprlib.Repr:
    """A ``reprlib.Repr`` that shows a few items, two levels deep, 60 characters a string."""
    short = reprlib.Repr()
    short.maxlevel = 2
    short.maxtuple = short.maxlist = short.maxdict = short.maxset = short.maxfrozenset = 4
    short.maxstring = short.maxother = 60
    short.maxlong = 40
    return short


_SHORT = _short_repr_settings()


class UserFileError(UserError, ValueError):
    """A user file that cannot be read or parsed; ``str()`` is one line naming the file."""


def short_repr(value: Any) -> str:
    """``repr(value)`` cut short: safe for any value in a one-line message."""
    return _SHORT.repr(value)


def read_text(path: str | Path, *, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The file's text, refusing files over ``max_bytes`` and anything that is not UTF-8.

    ``what`` names the kind of file in messages ("config file", "spec file").
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            data = stream.read(max_bytes + 1)  # never more, even from /dev/zero or a FIFO
    except OSError as exc:
        raise UserFileError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise UserFileError(f"{path}: {what} is larger than {_size(max_bytes)}; refused unread (a {what} is a few KB)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserFileError(f"{path}: {what} is not UTF-8 text (byte {exc.start} cannot be decoded)") from None


def write_text_atomically(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename, so that a concurrent reader
    never sees half a file; a failure is one :class:`UserError` line naming the path."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        Path(temporary).replace(target)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:g} MiB" if n_bytes >= 2**20 else f"{n_bytes / 1024:g} KiB"


def load_yaml(path: str | Path, *, what: str = "YAML file") -> Any:
    """Parse a user's YAML file safely (size cap, UTF-8, bounded alias expansion)."""
    path = Path(path)
    text = read_text(path, what=what)
    try:
        return parse_yaml(text)
    except UserFileError as exc:
        raise UserFileError(f"{path}: {exc}") from None


def parse_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses documents whose aliases expand beyond :data:`MAX_YAML_NODES`."""
    try:
        return yaml.load(text, Loader=BoundedYamlLoader)  # a SafeLoader subclass: no Python objects
    except yaml.YAMLError as exc:
        raise UserFileError(f"not valid YAML ({_yaml_problem(exc)})") from None
    except RecursionError:
        raise UserFileError("not valid YAML (nested too deeply)") from None


def load_toml(path: str | Path, *, what: str = "TOML file") -> dict[str, Any]:
    """Parse a user's TOML file (size cap, UTF-8); errors say the line and column."""
    path = Path(path)
    text = read_text(path, what=what)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserFileError(f"{path}: {_toml_problem(str(exc))}") from None
    except RecursionError:
        raise UserFileError(f"{path}: invalid TOML (nested too deeply)") from None


class _AliasBomb(yaml.YAMLError):
    """A document whose aliases expand to more than :data:`MAX_YAML_NODES` values."""


class BoundedYamlLoader(yaml.SafeLoader):
    """SafeLoader that measures the composed document before building any Python value.

    An alias is the same node object as its anchor, so the expanded size is counted with a
    memo per node: linear in the file, however deep the anchors nest.
    """

    def compose_document(self) -> Any:
        node = super().compose_document()
        if node is not None:
            size = _expanded_size(node, {})
            if size > MAX_YAML_NODES:
                raise _AliasBomb(
                    f"aliases expand to more than {MAX_YAML_NODES:,} values (refused: anchors and aliases "
                    "that multiply a small file into a huge one)"
                )
        return node


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Nodes in the tree under ``node`` with every alias expanded (capped, iterative-safe)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = MAX_YAML_NODES + 1  # a cycle (recursive alias) counts as too big
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    total = 1
    for child in children:
        total += _expanded_size(child, memo)
        if total > MAX_YAML_NODES:
            break
    memo[id(node)] = total
    return total


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line from a YAML error: what went wrong and where."""
    if isinstance(exc, _AliasBomb):
        return str(exc)
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unreadable"])[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def _toml_problem(message: str) -> str:
    """``Invalid value (at line 3, column 9)`` -> ``line 3: invalid TOML (invalid value, column 9)``."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)", message)
    if found is None:
        return f"end of file: invalid TOML ({message.replace(' (at end of document)', '')})"
    what = message[: found.start()] + message[found.end() :]
    return f"line {found[1]}: invalid TOML ({what.strip()}, column {found[2]})"
