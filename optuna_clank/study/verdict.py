"""Is a validated trial better than the base config? A paired test on the same games.

``validate`` re-plays the top K trials and the base config on the same fresh games (one seed,
so game ``i`` deals the same start, seats and food to every config: common random numbers)
and stores each one's per-game results. A trial is called better only when the paired
bootstrap interval of its mean per-game difference from the base lies wholly above zero at
level ``alpha / K`` (Bonferroni: the chance that *any* of the K trials is wrongly called
better stays below ``alpha``). Bonferroni rather than Holm because each trial's interval is
then a simultaneous interval: the decision is exactly "the printed interval excludes zero".

Only records of the same games are compared: same seed, game count, opponents, board, mode
and turn cap as the base record. Records of other validation rounds stay stored but are
ignored. Every number here is recomputed from the stored per-game results, so anyone can
re-check a verdict from the storage alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna_clank.core.stats import PairedDifference, paired_bootstrap

RESULTS_KEY = "results"
"""Validation record key: per-game results in game order, one letter each (W, D, L)."""

REFUSED_KEY = "refused"
"""Validation record key: why the record is no measurement of its config (its servers failed answers,
see :mod:`optuna_clank.arena.served.faults`). Such a record is stored, shown, and never compared."""

_SCORES = {"W": 1.0, "D": 0.5, "L": 0.0}
_RESULT_LETTERS = {"win": "W", "draw": "D", "loss": "L"}
GAME_KEYS = ("seed", "games", "opponents", "board_size", "mode", "max_turns")
"""What makes two validation records the same games."""

DEFAULT_ALPHA = 0.05
METHOD = "paired bootstrap of the mean per-game difference, Bonferroni over the trials compared"


def encode_results(results: list[str]) -> str:
    """``["win", "draw", "loss"]`` (in game order) -> ``"WDL"``: 1,000 games in 1 KB."""
    return "".join(_RESULT_LETTERS[r] for r in results)


def scores_of(record: Mapping[str, Any]) -> list[float] | None:
    """Per-game scores of a validation record, or None for a record without them."""
    text = record.get(RESULTS_KEY)
    if not isinstance(text, str) or len(text) != record.get("games") or set(text) - set(_SCORES):
        return None
    return [_SCORES[letter] for letter in text]


def same_games(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two records were played on the same games by the same snake (both with per-game results)."""
    return all(a.get(key) == b.get(key) for key in (*GAME_KEYS, "snake")) and None not in (scores_of(a), scores_of(b))


@dataclass(frozen=True)
class Comparison:
    """One validated trial against the base config on the same games."""

    trial: int
    record: dict[str, Any]
    difference: PairedDifference
    compared: int  # K: trials compared to the base on these games
    alpha: float

    @property
    def better(self) -> bool:
        return self.difference.better

    @property
    def p_adjusted(self) -> float:
        """Bonferroni-adjusted p-value: better needs it at or below ``alpha``."""
        return min(1.0, self.difference.p_value * self.compared)

    def describe(self) -> str:
        """``+3.1 points [+1.2, +5.0] over the base on 1,000 games (98.3% interval, p 0.002, ...)``."""
        d = self.difference
        return (
            f"{d.describe().replace(' on ', ' over the base on ', 1)} "
            f"({100 * d.confidence:.1f}% interval; p {_p_text(d.p_value)}, "
            f"{self.compared} trial(s) compared at level {self.alpha:g})"
        )

    def as_json(self) -> dict[str, Any]:
        d = self.difference
        return {
            "trial": self.trial,
            "difference": round(d.mean, 4),
            "interval": [round(d.low, 4), round(d.high, 4)],
            "confidence": round(d.confidence, 6),
            "p_value": round(d.p_value, 6),
            "p_adjusted": round(self.p_adjusted, 6),
            "games": d.games,
            "compared": self.compared,
            "alpha": self.alpha,
            "better": self.better,
            "method": METHOD,
        }


@dataclass(frozen=True)
class Verdict:
    """Every comparable trial against the base; ``winner`` is None when none is better."""

    base: dict[str, Any]
    comparisons: tuple[Comparison, ...]  # largest mean difference first
    ignored: int  # validation records of other games, not compared
    refused: int = 0  # records of these games refused for their servers' faults, not compared

    @property
    def winner(self) -> Comparison | None:
        """The better trial with the largest mean difference, if any is better."""
        return next((c for c in self.comparisons if c.better), None)

    @property
    def closest(self) -> Comparison | None:
        """The trial with the largest mean difference, better or not."""
        return self.comparisons[0] if self.comparisons else None


def judge(base: Mapping[str, Any] | None, records: Mapping[int, Mapping[str, Any]]) -> Verdict | None:
    """Compare every trial record played on the base record's games; None without such a pair.

    Refused records (:data:`REFUSED_KEY`) are never compared: a refused base gives no verdict at all.
    """
    if not base or scores_of(base) is None or base.get(REFUSED_KEY):
        return None
    same = {n: r for n, r in records.items() if same_games(r, base)}
    comparable = {n: r for n, r in same.items() if not r.get(REFUSED_KEY)}
    if not comparable:
        return None
    alpha = float(base.get("alpha") or DEFAULT_ALPHA)
    k = len(comparable)
    reference = scores_of(base)
    assert reference is not None
    comparisons = []
    for number, record in comparable.items():
        scores = scores_of(record)
        assert scores is not None
        difference = paired_bootstrap(scores, reference, confidence=1.0 - alpha / k, seed=_bootstrap_seed(base, number))
        comparisons.append(Comparison(number, dict(record), difference, k, alpha))
    comparisons.sort(key=lambda c: (-c.difference.mean, c.trial))
    refused = len(same) - k
    return Verdict(base=dict(base), comparisons=tuple(comparisons), ignored=len(records) - k - refused, refused=refused)


def _bootstrap_seed(base: Mapping[str, Any], trial: int) -> int:
    """A fixed resampling seed per (games, trial): a re-check reproduces every digit."""
    text = f"{base.get('seed')}:{base.get('games')}:{trial}"
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _p_text(p: float) -> str:
    return f"{p:.3f}" if p >= 0.001 else "< 0.001"
