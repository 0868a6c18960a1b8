"""What a benchmark match may be: board sides 7..25, and the two modes.

``play_match``, the spec's ``board_size`` and ``mode`` and the command line's ``--board-size``
all check against these names, so they live here, in a module that imports nothing: the command
line checks its arguments without loading torch or optuna.
"""

from __future__ import annotations

from typing import Literal, get_args

Mode = Literal["duel", "free-for-all"]
"""A duel seats one opponent; free-for-all seats every opponent on one board."""

MODES: tuple[Mode, ...] = get_args(Mode)

BOARD_MIN = 7
"""Smallest side of a benchmark board."""

BOARD_MAX = 25
"""Largest side of a benchmark board."""


def within_bounds(width: int, height: int) -> bool:
    """Whether a ``width`` x ``height`` board is one a benchmark may use."""
    return BOARD_MIN <= width <= BOARD_MAX and BOARD_MIN <= height <= BOARD_MAX
