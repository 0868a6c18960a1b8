"""Warm-start seeds: configs taken from another study, re-played first in this one.

Values of another study are not comparable with this one's (other board, other opponents),
so the seeds are not copied in as finished trials: the study keeps them in a user attribute
and the sampler proposes each one as a trial of its own, right after the base config, the
way it proposes the base config. Everything is read from the storage, so any worker may
play a seed, a seed already played (or running) is never proposed again, and a resumed
study does not seed twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from optuna_clank.core.attributes import WARM_START_KEY, WARM_START_TRIAL_KEY

if TYPE_CHECKING:
    from optuna.study import Study

    from optuna_clank.sampler._memory import History

__all__ = ["pending_seeds", "seeds_of"]


def seeds_of(study: Study) -> list[tuple[int, dict[str, Any]]]:
    """The study's warm-start seeds as (source trial, params), in the order they were picked."""
    record = study.user_attrs.get(WARM_START_KEY)
    if not isinstance(record, Mapping):
        return []
    seeds = []
    for seed in record.get("seeds") or []:
        if isinstance(seed, Mapping) and isinstance(seed.get("trial"), int) and isinstance(seed.get("params"), Mapping):
            seeds.append((int(seed["trial"]), dict(seed["params"])))
    return seeds


def pending_seeds(study: Study, history: History) -> list[tuple[int, dict[str, Any]]]:
    """Seeds no trial of the study has played or is playing yet (failed trials do not count)."""
    seeds = seeds_of(study)
    if not seeds:
        return []
    played = {t.user_attrs.get(WARM_START_TRIAL_KEY) for t in history.trials}
    return [(number, params) for number, params in seeds if number not in played]
