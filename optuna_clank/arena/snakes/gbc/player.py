"""``gbc``: a batched player that picks go-battleclank's move for any config of the bot."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import torch

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes._seat_values import table_for
from optuna_clank.arena.snakes.gbc._score import best_moves, score_terms, total_score
from optuna_clank.arena.snakes.gbc._seats import GbcSeats
from optuna_clank.arena.snakes.gbc.schema import GbcConfig, read_gbc_config

UNMODELLED_KEYS: frozenset[str] = frozenset({"search.max_astar_nodes"})
"""Keys the bot reads that this player does not model: A*'s node budget (the bot gives up a food path
search past it). Measured: no move differs at the bot's budgets of 100 and more; see ``_food``."""


class GbcSnake(Player):
    """go-battleclank's greedy search (its /move path), batched over games, on any device.

    ``config`` is the bot's YAML as a parsed mapping (read with the bot's semantics: a key it leaves
    out is 0, an unknown key is ignored, a value of the wrong type makes it play its defaults) or a
    :class:`GbcConfig`; ``None`` plays the bot's built-in defaults. What the bot would silently
    ignore or replace is warned about here, since it is most likely a mistake.
    """

    def __init__(self, config: Mapping[str, Any] | None = None, *, name: str = "gbc") -> None:
        self.config: GbcConfig = config if isinstance(config, GbcConfig) else read_gbc_config(config)
        self.name = name
        if self.config.type_errors:
            problems = "; ".join(self.config.type_errors)
            warnings.warn(f"go-battleclank cannot decode {problems}; it plays its defaults", stacklevel=2)
        if self.config.unknown_keys:
            unknown = ", ".join(self.config.unknown_keys)
            warnings.warn(f"go-battleclank ignores these config keys: {unknown}", stacklevel=2)

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        c = GbcSeats(view, seats)
        return best_moves(c, total_score(c, score_terms(c, self.config)))

    @property
    def family(self) -> Hashable:
        return type(self)

    @classmethod
    def choose_mixed(cls, players: Sequence[Player], view: TurnView, seats: Seats, which: torch.Tensor) -> torch.Tensor:
        """Every seat scored with its own player's config, in one vectorised call."""
        if len(players) == 1:
            return players[0].choose(view, seats)
        configs = [player.config for player in players if isinstance(player, GbcSnake)]
        if len(configs) != len(players):
            raise TypeError("choose_mixed of gbc snakes got a player of another kind")
        c = GbcSeats(view, seats)
        return best_moves(c, total_score(c, score_terms(c, table_for(configs).for_seats(which))))

    def scores(self, view: TurnView, seats: Seats) -> dict[str, torch.Tensor]:
        """What ``choose`` decides from, to inspect a decision: float64 [n, 4] per score term (in the
        bot's order; fatal moves keep their terms), ``total`` (fatal moves at -10000) and ``choice``
        (int64 [n], a cutoff kill's move where one applies)."""
        c = GbcSeats(view, seats)
        terms = score_terms(c, self.config)
        total = total_score(c, terms)
        return {**terms, "total": total, "choice": best_moves(c, total)}
