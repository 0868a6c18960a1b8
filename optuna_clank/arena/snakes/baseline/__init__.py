"""``baseline``: go-battleclank's benchmark snake (the Rust snake of its ``baseline/`` folder).

Its weights (:mod:`.weights`), a scalar reference readable against the Rust code (:mod:`.reference`)
and the batched player the arena seats (:class:`BaselineSnake`).

``BaselineSnake`` (torch) loads on first use (PEP 562), so that the weights and the scalar reference
can be read without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.core.lazy import lazy_names

if TYPE_CHECKING:
    from optuna_clank.arena.snakes.baseline.player import BaselineSnake

__all__ = ["BaselineSnake"]


__getattr__, __dir__ = lazy_names(globals(), {"BaselineSnake": "optuna_clank.arena.snakes.baseline.player"})
