"""go-battleclank stand-in: its config schema, a scalar reference of its move choice, a batched player.

``GbcSnake`` (torch) loads on first use (PEP 562), so that the schema can be read without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.core.lazy import lazy_names

if TYPE_CHECKING:
    from optuna_clank.arena.snakes.gbc.player import GbcSnake

__all__ = ["GbcSnake"]


__getattr__, __dir__ = lazy_names(globals(), {"GbcSnake": "optuna_clank.arena.snakes.gbc.player"})
