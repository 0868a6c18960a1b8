"""Configs a tuner would try, drawn reproducibly: for tests that compare snakes under many configs.

And :data:`V1_PARAM_NAMES`, the keys the old tuning loop's v1 tuned (the v1 study and the heuristic check them).
"""

from __future__ import annotations

import random
from typing import Any

from optuna_clank.arena.config import default_config, with_values
from optuna_clank.arena.params import TUNABLE_PARAMS
from optuna_clank.arena.snakes.gbc.schema import GBC_DEFAULTS, GBC_KEYS, GbcConfig, default_gbc_config

V1_PARAM_NAMES: tuple[str, ...] = (
    "weights.space",
    "weights.head_collision",
    "weights.center_control",
    "weights.wall_penalty",
    "weights.cutoff",
    "weights.food",
    "weights.straight_movement",
    "traps.moderate",
    "traps.severe",
    "traps.critical",
    "traps.food_trap",
    "pursuit.distance_2",
    "pursuit.distance_3",
    "trapping.weight",
)
"""The 14 parameters the old loop's v1 tuned."""


def gbc_config(seed: int) -> GbcConfig:
    """The bot's defaults with about half its numeric keys scaled, the search depth and A* switch varied."""
    rng = random.Random(seed)
    changes: dict[str, Any] = {
        "search.max_depth": rng.choice([0, 3, 8, 40, 200]),
        "search.use_astar": rng.random() < 0.5,
    }
    for key in GBC_KEYS:
        if key.kind in (int, float) and not key.name.startswith("search.") and rng.random() < 0.5:
            value = GBC_DEFAULTS[key.name] * rng.uniform(0.2, 3.0)
            changes[key.name] = round(value) if key.kind is int else float(value)
    return default_gbc_config().with_values(changes)


def heuristic_config(seed: int) -> dict[str, Any]:
    """About half the tunable parameters drawn within their ranges."""
    rng = random.Random(seed)
    values = {}
    for param in TUNABLE_PARAMS:
        if rng.random() < 0.5:
            value = rng.uniform(param.low, param.high)
            values[param.name] = round(value) if param.is_int else value
    return with_values(default_config(), values)
