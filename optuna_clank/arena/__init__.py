"""The embedded benchmark: a rules-exact, batched Battlesnake engine and its snakes.

Example (a doctest; real matches use hundreds of games on 11x11)::

    >>> from optuna_clank.arena import play_match, step_board
    >>> result = play_match(None, "baseline", games=4, seed=1, board_size=7)  # the default config
    >>> result.games, 0.0 <= result.win_rate_ci[0] <= result.win_rate <= result.win_rate_ci[1] <= 1.0
    (4, True)
    >>> from optuna_clank.arena.rng import SeededRandom
    >>> from optuna_clank.arena.rules import create_board
    >>> board = create_board(7, 7, ["snake-a", "snake-b"], SeededRandom("1:0"))
    >>> step_board(board, {"snake-a": "up", "snake-b": "left"})["turn"]
    1

The public names load on first use (PEP 562), so that reading a config or a spec
(``optuna_clank.arena.config``, ``optuna_clank.spec``) does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.core.lazy import lazy_names

if TYPE_CHECKING:
    from optuna_clank.arena.config import ConfigError, default_config, load_config
    from optuna_clank.arena.engine import FoodSettings
    from optuna_clank.arena.match import GameOutcome, MatchResult, SnakeResult, play_match
    from optuna_clank.arena.opponents import BUILTIN_OPPONENTS, make_opponent
    from optuna_clank.arena.params import TUNABLE_PARAMS, TunableParam
    from optuna_clank.arena.players import NO_MOVE, Player, Seats
    from optuna_clank.arena.rules import RulesError, step_board
    from optuna_clank.arena.snakes.gbc import GbcSnake
    from optuna_clank.arena.snakes.heuristic import HeuristicSnake

# public name -> the module that defines it
_HOMES = {
    "BUILTIN_OPPONENTS": "optuna_clank.arena.opponents",
    "NO_MOVE": "optuna_clank.arena.players",
    "TUNABLE_PARAMS": "optuna_clank.arena.params",
    "ConfigError": "optuna_clank.arena.config",
    "FoodSettings": "optuna_clank.arena.engine",
    "GameOutcome": "optuna_clank.arena.match",
    "GbcSnake": "optuna_clank.arena.snakes.gbc",
    "HeuristicSnake": "optuna_clank.arena.snakes.heuristic",
    "MatchResult": "optuna_clank.arena.match",
    "Player": "optuna_clank.arena.players",
    "RulesError": "optuna_clank.arena.rules",
    "Seats": "optuna_clank.arena.players",
    "SnakeResult": "optuna_clank.arena.match",
    "TunableParam": "optuna_clank.arena.params",
    "default_config": "optuna_clank.arena.config",
    "load_config": "optuna_clank.arena.config",
    "make_opponent": "optuna_clank.arena.opponents",
    "play_match": "optuna_clank.arena.match",
    "step_board": "optuna_clank.arena.rules",
}

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


__getattr__, __dir__ = lazy_names(globals(), _HOMES)
