"""The tunable parameters of the built-in heuristic snake: names, bounds, scales, types.

Every parameter here changes the snake's moves (a test proves it on recorded positions).
Bounds follow the old tuning loop's v2 ranges; a log scale is used where a range spans
more than a decade, so that a sampler spends as much effort on 1..10 as on 100..1000.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TunableParam:
    """One tunable key of the snake config, with its allowed range."""

    name: str
    low: float
    high: float
    log: bool = False
    is_int: bool = False
    help: str = ""

    def clip(self, value: float) -> float:
        """``value`` clipped into the range (and rounded for integer parameters)."""
        clipped = min(max(float(value), self.low), self.high)
        return float(round(clipped)) if self.is_int else clipped


def _weight(name: str, help: str) -> TunableParam:
    return TunableParam(name, 0.1, 1000.0, log=True, help=help)


TUNABLE_PARAMS: tuple[TunableParam, ...] = (
    _weight("weights.space", "reward for the free space a move opens onto"),
    _weight("weights.head_collision", "penalty for a cell an equal or longer head can also enter"),
    _weight("weights.center_control", "pull toward the centre of the board"),
    _weight("weights.wall_penalty", "penalty for moving along the edge"),
    _weight("weights.cutoff", "penalty for cells with few free neighbours"),
    _weight("weights.food", "overall strength of food attraction"),
    _weight("weights.straight_movement", "bonus for keeping the heading"),
    TunableParam("traps.moderate", 1.0, 2000.0, log=True, help="space/length < 0.8"),
    TunableParam("traps.severe", 1.0, 2000.0, log=True, help="space/length < 0.6"),
    TunableParam("traps.critical", 1.0, 2000.0, log=True, help="space/length < 0.4"),
    TunableParam("traps.food_trap", 1.0, 2000.0, log=True, help="eating would leave too little space"),
    TunableParam("traps.food_trap_threshold", 0.5, 0.95, help="space/length ratio that makes food a trap"),
    TunableParam("pursuit.distance_2", 1.0, 500.0, log=True, help="chasing a shorter head 2 steps away"),
    TunableParam("pursuit.distance_3", 1.0, 500.0, log=True, help="... 3 steps away"),
    TunableParam("pursuit.distance_4", 1.0, 500.0, log=True, help="... 4 steps away"),
    TunableParam("pursuit.distance_5", 1.0, 500.0, log=True, help="... 5 steps away"),
    TunableParam("trapping.weight", 50.0, 1000.0, log=True, help="taking escape space from a shorter snake"),
    TunableParam(
        "trapping.space_cutoff_threshold",
        0.1,
        0.9,
        help="enemy share of the free board that counts as cut off",
    ),
    TunableParam(
        "trapping.trapped_ratio",
        0.1,
        0.9,
        help="share of its 4 exits a blocked enemy keeps below which it is trapped",
    ),
    TunableParam("food_weights.critical_health", 50.0, 800.0, log=True, help="food weight at health <= 20"),
    TunableParam("food_weights.low_health", 50.0, 800.0, log=True, help="food weight at health <= 40"),
    TunableParam("food_weights.medium_health", 50.0, 800.0, log=True, help="food weight at health <= 60"),
    TunableParam("food_weights.healthy_base", 50.0, 800.0, log=True, help="food weight when healthy"),
    TunableParam(
        "food_weights.healthy_early_game",
        50.0,
        800.0,
        log=True,
        help="food weight when healthy, turn < 50",
    ),
    TunableParam("food_weights.healthy_multiplier", 0.1, 1.0, help="food scale when healthy and longest"),
    TunableParam(
        "food_weights.healthy_outmatched",
        0.1,
        1.0,
        help="food scale when healthy and a longer head is near",
    ),
    TunableParam(
        "food_weights.medium_health_outmatched",
        0.1,
        1.0,
        help="food scale at medium health, longer head near",
    ),
    TunableParam(
        "late_game.caution_multiplier",
        1.0,
        2.0,
        help="trap, head-on, cutoff and wall penalties scale late in the game",
    ),
    TunableParam("late_game.turn_threshold", 50, 300, is_int=True, help="turn at which the late game starts"),
    TunableParam("tactics.aggressive_space_control_weight", 0.0, 200.0, help="space grab while longest"),
    TunableParam(
        "tactics.predictive_avoidance_weight",
        0.0,
        200.0,
        help="avoid cells 2 steps from a longer head",
    ),
)
"""The 31 parameters of the v2 study, in a stable order."""

PARAMS_BY_NAME: dict[str, TunableParam] = {p.name: p for p in TUNABLE_PARAMS}
