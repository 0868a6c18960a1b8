"""Small, dependency-free statistics for win rates and scores."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z_95 = 1.959963984540054
"""Two-sided 95% normal quantile."""


def wilson_interval(successes: float, trials: int, *, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion (well behaved near 0 and 1 and for small n).

    ``successes`` may be fractional (e.g. draws counted as half wins). With no trials the
    interval is the uninformative ``(0, 1)``.
    """
    if trials <= 0:
        return 0.0, 1.0
    p = min(max(successes / trials, 0.0), 1.0)
    z2 = z * z
    denominator = 1.0 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: Sequence[float], *, z: float = Z_95) -> tuple[float, float]:
    """Normal-approximation interval of a mean (``(mean, mean)`` for fewer than two values)."""
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    mean = sum(values) / n
    if n < 2:
        return mean, mean
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return mean - half, mean + half


def game_phase(turn: int) -> str:
    """Phase of the game a turn falls in, as the old loop bucketed deaths: early/mid/late."""
    if turn < 50:
        return "early"
    if turn < 150:
        return "mid"
    return "late"
