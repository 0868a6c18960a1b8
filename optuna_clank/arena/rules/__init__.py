"""The Battlesnake standard ruleset on JSON-shaped boards: the readable, exact reference.

This package is the yardstick for the batched torch engine and the product's public single-board
step. It follows the official Go engine (github.com/BattlesnakeOfficial/rules, ``standard.go`` and
``maps/standard.go``) stage by stage and draws random numbers in the official order, so it
reproduces the official test vectors. It is split along the official seams: the stages of a turn
(:mod:`.stages`, run in the shared order by :mod:`.pipeline`), board setup (:mod:`.setup`) and
food spawning (:mod:`.food`); the names both engines share live in
:mod:`optuna_clank.arena.standard`.

A board is a plain dict shaped like the boards of the official test vectors::

    {"turn": 0, "width": 11, "height": 11, "food": [{"x": 5, "y": 5}], "hazards": [],
     "snakes": [{"id": "a", "body": [{"x": 1, "y": 1}, ...], "health": 100,
                 "eliminated_cause": "", "eliminated_by": "", "eliminated_on_turn": 0}]}

Bodies are head first, ``(0, 0)`` is the bottom-left corner and ``up`` is ``y + 1``. Every public
function is pure: it returns a new board and never mutates its arguments. Eliminated snakes stay in
``snakes`` (frozen), food keeps its order (eaten food is removed, spawned food is appended).
"""

from __future__ import annotations

from optuna_clank.arena.rules.errors import RulesError
from optuna_clank.arena.rules.food import spawn_food
from optuna_clank.arena.rules.pipeline import (
    damage_hazards,
    eliminate_snakes,
    execute,
    feed_snakes,
    move_snakes,
    reduce_health,
    step_board,
)
from optuna_clank.arena.rules.predicates import (
    default_move,
    has_body_collided,
    has_lost_head_to_head,
    is_game_over,
    is_out_of_bounds,
    is_out_of_health,
)
from optuna_clank.arena.rules.setup import create_board, place_food, place_snakes
from optuna_clank.arena.standard import (
    CAUSE_BODY,
    CAUSE_HAZARD,
    CAUSE_HEAD,
    CAUSE_OUT_OF_HEALTH,
    CAUSE_SELF,
    CAUSE_WALL,
    MOVE_DELTAS,
    MOVES,
    SNAKE_MAX_HEALTH,
    SNAKE_START_SIZE,
)

__all__ = [
    "CAUSE_BODY",
    "CAUSE_HAZARD",
    "CAUSE_HEAD",
    "CAUSE_OUT_OF_HEALTH",
    "CAUSE_SELF",
    "CAUSE_WALL",
    "MOVES",
    "MOVE_DELTAS",
    "SNAKE_MAX_HEALTH",
    "SNAKE_START_SIZE",
    "RulesError",
    "create_board",
    "damage_hazards",
    "default_move",
    "eliminate_snakes",
    "execute",
    "feed_snakes",
    "has_body_collided",
    "has_lost_head_to_head",
    "is_game_over",
    "is_out_of_bounds",
    "is_out_of_health",
    "move_snakes",
    "place_food",
    "place_snakes",
    "reduce_health",
    "spawn_food",
    "step_board",
]
