"""The Rust baseline's weights and its f32 arithmetic, shared by the scalar reference and the batched player.

go-battleclank's trainer benchmarked the bot against the Rust snake in the bot repository's ``baseline/``
folder; its ``ScoringWeights::default()`` is :class:`ScoringWeights` here, field for field. Where the Rust
code computes in ``f32`` (space ratios, the food-trap threshold, health multipliers, the centre term),
numpy's ``float32`` reproduces every rounding step; the helpers below keep those steps in one place.
Importing this module costs no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

f32 = np.float32
"""Rust's ``f32``: ``f32(a) / f32(b)`` rounds exactly as ``a as f32 / b as f32`` does."""

CRITICAL_RATIO = f32(0.4)
"""Space ratio (reachable cells / length) below which a move is a critical trap."""
SEVERE_RATIO = f32(0.6)
MODERATE_RATIO = f32(0.8)
DEAD_END_SHRINK = f32(0.8)
"""The look-ahead's ``worst_next_ratio < current_ratio * 0.8``."""
DEAD_END_PENALTY = -200
FOOD_TRAP_SHARE = f32(0.7)
"""Eating needs ``(length as f32 * 0.7) as usize`` reachable cells with the own tail blocking."""
SEARCH_CAP = 121
"""The flood fill stops at ``min(width * height, 121)`` cells ("cap at 11x11 for perf")."""
PURSUIT_BONUS: dict[int, int] = {2: 100, 3: 50, 4: 25, 5: 10}
"""Bonus per shorter enemy head at Manhattan distance 2..5 from the cell entered."""
URGENCY_RANGE = 5
"""Hunger bonus applies when some food is at Manhattan distance below this from the cell entered."""
HUNGRY_BELOW, STARVING_BELOW = 30, 15
HEALTHY_HAZARD_ABOVE = 50
FATAL = -1000
"""Every collision weight; a best total at or below it makes the snake answer ``up``."""


@dataclass(frozen=True)
class ScoringWeights:
    """``ScoringWeights::default()`` of ``baseline/src/scoring.rs``, in its field order."""

    wall_collision: int = -1000
    self_collision: int = -1000
    other_snake_collision: int = -1000
    win_head_to_head: int = 500
    lose_head_to_head: int = -500
    food_adjacent: int = 30
    food_near: int = 15
    food_medium: int = 5
    food_when_hungry: int = 40
    food_when_starving: int = 80
    food_death_trap: int = -800
    open_space: int = 5
    trap_penalty: int = -250
    critical_trap_penalty: int = -600
    severe_trap_penalty: int = -450
    center_control: int = 2
    maintain_direction: int = 1
    near_wall_penalty: int = -5
    hazard_penalty: int = -30
    hazard_when_healthy: int = -10

    def with_combat_aggression(self, multiplier: float) -> ScoringWeights:
        """``win_head_to_head`` scaled in f32 and truncated to i32 (the Rust snake calls it with 1.0)."""
        return replace(self, win_head_to_head=as_i32(f32(self.win_head_to_head) * f32(multiplier)))


def weights_for(ruleset: str, *, longest: bool) -> ScoringWeights:
    """``direction.rs``'s choice of weights by ruleset name (today every branch is the default)."""
    if ruleset in ("royale", "constrictor"):
        return ScoringWeights()
    if longest:
        return ScoringWeights().with_combat_aggression(1.0)
    return ScoringWeights()


def as_i32(value: np.floating) -> int:
    """Rust's ``f32 as i32`` for the small finite values here: truncation toward zero."""
    return int(value)


def rust_round(value: np.floating) -> int:
    """Rust's ``f32::round`` (halves away from zero, unlike numpy's halves to even), as an int.

    ``abs(value) + 0.5`` is exact in Python's float64 for any f32 of this size, so the floor is exact too.
    """
    magnitude = math.floor(abs(float(value)) + 0.5)
    return magnitude if value >= 0 else -magnitude


def health_multiplier(health: int) -> np.float32:
    """Food proximity's hunger multiplier: 2.0 below 20 health, 1.5 below 40, else 1.0."""
    if health < 20:
        return f32(2.0)
    if health < 40:
        return f32(1.5)
    return f32(1.0)


def food_points(distance: int, weights: ScoringWeights) -> int:
    """Food proximity's points for one food at Manhattan ``distance``, before the hunger multiplier."""
    if distance == 0:
        return weights.food_adjacent * 2
    if distance == 1:
        return weights.food_adjacent
    if distance in (2, 3):
        return weights.food_near
    if distance in (4, 5):
        return weights.food_medium
    return 0


def food_score(distance: int, health: int, weights: ScoringWeights) -> int:
    """``(score as f32 * health_multiplier) as i32`` for one food."""
    return as_i32(f32(food_points(distance, weights)) * health_multiplier(health))


def centre_score(x: int, y: int, width: int, height: int, weights: ScoringWeights) -> int:
    """The centre term, in f32 as Rust computes it: ``round((1 - d / d_max) * center_control)``.

    ``powi(2)`` is one f32 multiplication; ``sqrt`` and the division round once each, as in Rust.
    """
    centre_x = f32(width) / f32(2.0)
    centre_y = f32(height) / f32(2.0)
    dx, dy = f32(x) - centre_x, f32(y) - centre_y
    distance = np.sqrt(dx * dx + dy * dy)
    max_distance = np.sqrt(centre_x * centre_x + centre_y * centre_y)
    return rust_round((f32(1.0) - distance / max_distance) * f32(weights.center_control))


def min_food_space(length: int) -> int:
    """``(body_length as f32 * 0.7) as usize``: cells needed after eating."""
    return int(f32(length) * FOOD_TRAP_SHARE)
