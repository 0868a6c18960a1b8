"""go-battleclank stand-in: its config schema, a scalar reference of its move choice, a batched player.

``GbcSnake`` (torch) loads on first use (PEP 562), so that the schema can be read without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna_clank.arena.snakes.gbc.player import GbcSnake

__all__ = ["GbcSnake"]


def __getattr__(name: str) -> Any:
    if name != "GbcSnake":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = importlib.import_module("optuna_clank.arena.snakes.gbc.player").GbcSnake
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
