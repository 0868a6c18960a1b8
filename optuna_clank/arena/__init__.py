"""The embedded benchmark: a rules-exact, batched Battlesnake engine and its snakes.

Example::

    from optuna_clank.arena import play_match, step_board

    result = play_match(None, "baseline", games=200, seed=1)  # the default config
    print(result.win_rate, result.win_rate_ci)
    next_board = step_board(board, {"snake-a": "up", "snake-b": "left"})
"""

from __future__ import annotations

from optuna_clank.arena.config import ConfigError, default_config, load_config
from optuna_clank.arena.engine import FoodSettings
from optuna_clank.arena.match import GameOutcome, MatchResult, SnakeResult, play_match
from optuna_clank.arena.opponents import BUILTIN_OPPONENTS, make_opponent
from optuna_clank.arena.params import TUNABLE_PARAMS, TunableParam
from optuna_clank.arena.players import NO_MOVE, Player, Seats
from optuna_clank.arena.rules import RulesError, step_board
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.heuristic import HeuristicSnake

__all__ = [
    "BUILTIN_OPPONENTS",
    "NO_MOVE",
    "TUNABLE_PARAMS",
    "ConfigError",
    "FoodSettings",
    "GameOutcome",
    "GbcSnake",
    "HeuristicSnake",
    "MatchResult",
    "Player",
    "RulesError",
    "Seats",
    "SnakeResult",
    "TunableParam",
    "default_config",
    "load_config",
    "make_opponent",
    "play_match",
    "step_board",
]
