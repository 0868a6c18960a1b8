"""Validation records as ``validate`` stores them, built from per-game letters for unit tests."""

from __future__ import annotations

from typing import Any

GAME_SCORE = {"W": 1.0, "D": 0.5, "L": 0.0}
"""The score of a won, drawn and lost game."""


def validation_record(results: str, *, seed: int = 99, alpha: float = 0.05) -> dict[str, Any]:
    """A record for per-game results ``W``/``D``/``L`` (its intervals are placeholders)."""
    games = len(results)
    wins = results.count("W")
    return {
        "win_rate": wins / games,
        "ci": [0.0, 1.0],
        "score": sum(GAME_SCORE[c] for c in results) / games,
        "score_ci": [0.0, 1.0],
        "wins": wins,
        "draws": results.count("D"),
        "seed": seed,
        "games": games,
        "opponents": ["baseline"],
        "board_size": [7, 7],
        "mode": "duel",
        "max_turns": 200,
        "snake": "built-in heuristic",
        "alpha": alpha,
        "results": results,
    }
