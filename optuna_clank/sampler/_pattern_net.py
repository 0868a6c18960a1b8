"""The sampler's pattern network over the study: fitted per search space, refitted as trials complete.

``_patterns`` is the network itself and knows nothing of studies; this module decides when it
is trained (from scratch for a new search space, a few warm epochs after new trials), which
winner a decoded candidate comes from, and what the prompt is told about the winning patterns.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from optuna_clank.sampler._patterns import PatternModel

if TYPE_CHECKING:
    from optuna_clank.sampler._codec import ParamCodec
    from optuna_clank.sampler._memory import History

__all__ = ["MIN_NET_TRIALS", "PatternNet", "nearest_top_trial", "pattern_text"]

MIN_NET_TRIALS = 5
"""Completed trials the pattern network needs (its minimum number of winners)."""

_FIRST_EPOCHS = 200
_REFIT_EPOCHS = 50
"""Warm-started refits after new trials need only a few epochs."""

_PATTERN_TOP_K = 10
_MAX_PATTERNS = 6


class PatternNet:
    """The network of the current search space and the number of completed trials it was fitted on.

    Not thread-safe: the sampler calls it with its own lock held (the network draws from the
    sampler's generator).
    """

    def __init__(self, top_quantile: float) -> None:
        self._top_quantile = top_quantile
        self._model: PatternModel | None = None
        self._codec: ParamCodec | None = None
        self._fitted_n = 0

    @property
    def model(self) -> PatternModel | None:
        """The network as last fitted, None before the first fit."""
        return self._model

    def fitted(self, codec: ParamCodec, history: History, rng: np.random.Generator) -> PatternModel:
        """The pattern network, refitted (warm) when the number of completed trials changed."""
        if self._model is None or self._codec is not codec:
            seed = int(rng.integers(2**31))
            self._model = PatternModel(len(codec), seed=seed)
            self._codec = codec
            self._fitted_n = 0
        n_complete = len(history.complete)
        if n_complete != self._fitted_n:
            epochs = _FIRST_EPOCHS if self._fitted_n == 0 else _REFIT_EPOCHS
            self._model.fit(history.vectors, history.scores, top_quantile=self._top_quantile, epochs=epochs)
            self._fitted_n = n_complete
        return self._model


def nearest_top_trial(history: History, vector: np.ndarray, top_quantile: float) -> int:
    """The winner a decoded candidate lies closest to: the trial it started from."""
    n = len(history.scores)
    n_top = min(n, max(MIN_NET_TRIALS, math.ceil(top_quantile * n)))
    top = np.argsort(-history.scores, kind="stable")[:n_top]
    distances = np.linalg.norm(history.vectors[top] - vector, axis=1)
    return history.complete[int(top[int(np.argmin(distances))])].number


def pattern_text(model: PatternModel, codec: ParamCodec, history: History) -> str:
    """The network's winning patterns, one a line, for the prompt."""
    patterns = model.winning_patterns(
        history.vectors,
        history.scores,
        codec.names,
        codec.to_value,
        top_k=_PATTERN_TOP_K,
        max_patterns=_MAX_PATTERNS,
    )
    return "\n".join(p.text() for p in patterns)
