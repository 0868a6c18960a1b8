"""go-battleclank stand-in: its config schema, a scalar reference of its move choice, a batched player."""

from __future__ import annotations

from optuna_clank.arena.snakes.gbc.player import GbcSnake

__all__ = ["GbcSnake"]
