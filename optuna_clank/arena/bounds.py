"""The board sizes a benchmark may use: sides 7..25.

``play_match``, the spec's ``board_size`` and the command line's ``--board-size`` all check a
board against these two numbers, so they live here, in a module that imports nothing: the
command line checks its arguments without loading torch or optuna.
"""

from __future__ import annotations

BOARD_MIN = 7
"""Smallest side of a benchmark board."""

BOARD_MAX = 25
"""Largest side of a benchmark board."""


def within_bounds(width: int, height: int) -> bool:
    """Whether a ``width`` x ``height`` board is one a benchmark may use."""
    return BOARD_MIN <= width <= BOARD_MAX and BOARD_MIN <= height <= BOARD_MAX
