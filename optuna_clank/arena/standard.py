"""What the official standard ruleset fixes, as data: moves, health, elimination causes, stage order.

The readable reference (:mod:`optuna_clank.arena.rules`) and the batched torch engine
(:mod:`optuna_clank.arena.engine`, :mod:`optuna_clank.arena.grid`, :mod:`optuna_clank.arena.state`)
both take these names from here, so the two engines cannot drift apart. Importing this module
costs nothing (no torch).
"""

from __future__ import annotations

__all__ = [
    "CAUSE_BODY",
    "CAUSE_DISCONNECTED",
    "CAUSE_HAZARD",
    "CAUSE_HEAD",
    "CAUSE_OUT_OF_HEALTH",
    "CAUSE_SELF",
    "CAUSE_WALL",
    "ELIMINATION",
    "FEED_SNAKES",
    "GAME_OVER",
    "HAZARD_DAMAGE",
    "MOVEMENT",
    "MOVES",
    "MOVE_DELTAS",
    "SNAKE_MAX_HEALTH",
    "SNAKE_START_SIZE",
    "STANDARD_STAGES",
    "STARVATION",
    "TURN_STAGES",
]

MOVES: tuple[str, ...] = ("up", "down", "left", "right")
"""Move names, in the order used for move indices everywhere in the arena."""

MOVE_DELTAS: dict[str, tuple[int, int]] = {
    "up": (0, 1),
    "down": (0, -1),
    "left": (-1, 0),
    "right": (1, 0),
}
"""``(dx, dy)`` of each move: ``(0, 0)`` is the bottom-left corner and ``up`` is ``y + 1``."""

SNAKE_MAX_HEALTH = 100
SNAKE_START_SIZE = 3

# Official elimination causes (constants.go of the official engine).
CAUSE_OUT_OF_HEALTH = "out-of-health"
CAUSE_WALL = "wall-collision"
CAUSE_SELF = "snake-self-collision"
CAUSE_BODY = "snake-collision"
CAUSE_HEAD = "head-collision"
CAUSE_HAZARD = "hazard"
CAUSE_DISCONNECTED = "disconnected"
"""Not official: the arena's cause for a snake whose server went away (see ``players.FORFEIT``)."""

# Stage names: the official registry keys without their ".standard" suffix.
GAME_OVER = "game_over"
MOVEMENT = "movement"
STARVATION = "starvation"
HAZARD_DAMAGE = "hazard_damage"
FEED_SNAKES = "feed_snakes"
ELIMINATION = "elimination"

STANDARD_STAGES: tuple[str, ...] = (GAME_OVER, MOVEMENT, STARVATION, HAZARD_DAMAGE, FEED_SNAKES, ELIMINATION)
"""The official ``Execute`` pipeline, in order: each engine maps every name to one function.

Game over comes first and is a stage like the others: it ends the turn before anything moves.
"""

TURN_STAGES: tuple[str, ...] = STANDARD_STAGES[1:]
"""The stages one set of moves runs: the pipeline past its game-over gate (official order)."""
