"""argparse value types shared by the subcommands: they turn bad input into usage errors."""

from __future__ import annotations

import argparse

from optuna_clank.arena.bounds import BOARD_MAX, BOARD_MIN, within_bounds


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def n_jobs(text: str) -> int | str:
    """``auto`` or an integer >= 1."""
    return "auto" if text.strip().lower() == "auto" else positive_int(text)


def int_list(text: str) -> list[int]:
    """Comma-separated game numbers, e.g. ``0,3,7``."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated game numbers, got {text!r}") from exc
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError("game numbers are >= 0")
    return values


def port(text: str) -> int:
    """A TCP port number, 0..65535 (0: any free port)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from exc
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is within 0..65535, got {value}")
    return value


def board_size(text: str) -> tuple[int, int]:
    """``N`` (square) or ``WxH``, sides 7..25."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected N or WxH, got {text!r}") from exc
    width, height = (parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    if len(parts) > 2 or not within_bounds(width, height):
        raise argparse.ArgumentTypeError(f"board sides must be within {BOARD_MIN}..{BOARD_MAX}, got {text!r}")
    return width, height
