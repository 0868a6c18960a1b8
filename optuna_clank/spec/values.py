"""The value readers of study specs: one TOML value in, its typed form out, or why not.

Each reader raises :class:`BadValue` with the reason only (``expected an integer, got 'x'``);
:mod:`optuna_clank.spec.readers` adds the file, ``[section]`` and key, so every message reads the same.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from optuna_clank.arena.bounds import BOARD_MAX, BOARD_MIN
from optuna_clank.core.userfiles import short_repr

N_JOBS_AUTO = "auto"

Reader = Callable[[Any], Any]
"""Turns one TOML value into its typed form or raises :class:`BadValue` saying why."""


class BadValue(Exception):
    """A value a reader refuses; the section loop adds ``[section] key:``."""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...], *, section: bool = False) -> str:
    """`` (did you mean 'x'?)`` for a near miss (or a bare ``space`` for ``weights.space``)."""
    close = difflib.get_close_matches(word, choices, n=1)
    if not close:
        close = [choice for choice in choices if choice.rsplit(".", 1)[-1] == word][:1]
    if not close:
        return ""
    shown = f"[{close[0]}]" if section else repr(close[0])
    return f" (did you mean {shown}?)"


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return short_repr(value)


def as_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"expected a number, got {describe(value)}")
    if not math.isfinite(value):
        raise BadValue(f"expected a finite number, got {describe(value)}")
    return value


def as_integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadValue(f"expected an integer, got {describe(value)}")
    if isinstance(value, float) and not value.is_integer():
        raise BadValue(f"expected an integer, got {describe(value)}")
    return int(value)


def integer(minimum: int = 0, maximum: int | None = None) -> Reader:
    def read(value: Any) -> int:
        number = as_integer(value)
        if number < minimum:
            raise BadValue(f"must be at least {minimum}, got {number}")
        if maximum is not None and number > maximum:
            raise BadValue(f"must be at most {maximum}, got {number}")
        return number

    return read


def real(minimum: float = 0.0, maximum: float | None = None, *, open_low: bool = False) -> Reader:
    """A float from ``minimum`` (excluded when ``open_low``) up to ``maximum``."""

    def read(value: Any) -> float:
        number = float(as_number(value))
        if number < minimum or (open_low and number == minimum):
            bound = "above" if open_low else "at least"
            raise BadValue(f"must be {bound} {minimum}, got {describe(value)}")
        if maximum is not None and number > maximum:
            raise BadValue(f"must be at most {maximum}, got {describe(value)}")
        return number

    return read


def slots(value: Any) -> int | str:
    """``"auto"`` or a number of slots (at least 1)."""
    if value == N_JOBS_AUTO:
        return value
    if isinstance(value, str):
        raise BadValue(f'expected "auto" or a number of slots, got {describe(value)}')
    return integer(1)(value)


def auto_or_count(what: str) -> Reader:
    """``"auto"`` or a number of ``what`` (at least 1)."""

    def read(value: Any) -> int | str:
        if value == N_JOBS_AUTO:
            return value
        if isinstance(value, str):
            raise BadValue(f'expected "auto" or a number of {what}, got {describe(value)}')
        return integer(1)(value)

    return read


def fraction_open() -> Reader:
    """A float strictly between 0 and 1 (a p-value threshold)."""

    def read(value: Any) -> float:
        number = float(as_number(value))
        if not 0.0 < number < 1.0:
            raise BadValue(f"must be between 0 and 1 (exclusive), got {describe(value)}")
        return number

    return read


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, got {describe(value)}")
    return value


def string(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValue(f"expected a string, got {describe(value)}")
    return value


def choice(options: Iterable[str]) -> Reader:
    """One of ``options`` (a tuple, or a registry's names)."""
    options = tuple(options)

    def read(value: Any) -> str:
        text = string(value)
        if text not in options:
            raise BadValue(
                f"unknown value {short_repr(text)}{did_you_mean(text, options)} (choose one of {', '.join(options)})"
            )
        return text

    return read


def list_of(item: Reader, *, non_empty: bool = True) -> Reader:
    def read(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise BadValue(f"expected a list, got {describe(value)}")
        if non_empty and not value:
            raise BadValue("must not be empty")
        return tuple(item(element) for element in value)

    return read


def database_url(value: Any) -> str:
    text = string(value)
    if text and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", text):
        raise BadValue(
            f"{short_repr(text)} is not a database URL (like sqlite:///file.db or "
            'postgresql://user@host/db; "" means storage/<name>.db)'
        )
    return text


def board_size(value: Any) -> tuple[int, int]:
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise BadValue(f"expected a size or [width, height], got {describe(value)}")
        width, height = (as_integer(side) for side in value)
    else:
        width = height = as_integer(value)
    for side in (width, height):
        if not BOARD_MIN <= side <= BOARD_MAX:
            raise BadValue(f"sides must be {BOARD_MIN}..{BOARD_MAX}, got {side}")
    return (width, height)


def opponent_weights(value: Any) -> tuple[float, ...] | dict[str, float]:
    """``[2, 1]`` (one per opponent, in order) or ``{ baseline = 2, greedy-food = 1 }`` (by name as written)."""
    if isinstance(value, Mapping):
        return {str(name): positive_weight(weight) for name, weight in value.items()}
    if not isinstance(value, list | tuple) or not value:
        raise BadValue(f"expected a list like [2, 1] or a table like {{ baseline = 2 }}, got {describe(value)}")
    return tuple(positive_weight(weight) for weight in value)


def positive_weight(value: Any) -> float:
    weight = as_number(value)
    if weight <= 0:
        raise BadValue(f"weights must be positive, got {value!r}")
    return float(weight)
