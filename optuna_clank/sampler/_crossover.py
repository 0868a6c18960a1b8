"""Crossover: a child of two good trials, made on their points in the unit cube.

The pattern network proposes near the centre of the winners; crossover mixes two of them
instead, so a parameter set that works in one winner can meet another winner's settings.
Both work in the codec's [0, 1]^d space, where log-scale parameters are already in log space
and every dimension spans the same range, so one blend width fits every parameter.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optuna_clank.sampler._memory import History

__all__ = ["CROSSOVER_KINDS", "breed", "pick_parents"]

CROSSOVER_KINDS = ("blend", "uniform")

_BLEND_ALPHA = 0.5
"""BLX-alpha: each coordinate is drawn from the parents' interval widened by alpha on both sides."""

_MIN_PARENTS = 2


def pick_parents(history: History, top_quantile: float, rng: np.random.Generator) -> tuple[int, int] | None:
    """Indices (into ``history.complete``) of two distinct parents from the best trials, or None.

    The pool is the top ``top_quantile`` of the completed trials (at least two); the first
    parent is drawn from it uniformly, the second from the rest of it.
    """
    n = len(history.scores)
    if n < _MIN_PARENTS:
        return None
    n_pool = min(n, max(_MIN_PARENTS, math.ceil(top_quantile * n)))
    pool = np.argsort(-history.scores, kind="stable")[:n_pool]
    first, second = rng.choice(len(pool), size=2, replace=False)
    return int(pool[first]), int(pool[second])


def breed(a: np.ndarray, b: np.ndarray, kind: str, rng: np.random.Generator, *, widen: float = 1.0) -> np.ndarray:
    """A child of points ``a`` and ``b`` (in [0, 1]^d), clipped into the cube.

    ``uniform`` takes each coordinate from one parent at random; ``blend`` draws it from the
    parents' interval widened by ``_BLEND_ALPHA * widen`` of its length on each side (``widen``
    grows on re-proposals, so a child refused as a repeat moves further from its parents).
    """
    if kind == "uniform":
        child = np.where(rng.random(len(a)) < 0.5, a, b)
    elif kind == "blend":
        low, high = np.minimum(a, b), np.maximum(a, b)
        margin = _BLEND_ALPHA * widen * (high - low)
        child = rng.uniform(low - margin, high + margin)
    else:
        raise ValueError(f"crossover kind must be one of {', '.join(CROSSOVER_KINDS)}, got {kind!r}")
    return np.clip(child, 0.0, 1.0)
