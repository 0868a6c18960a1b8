"""Reference opponents with no weights: ``random-safe`` and ``greedy-food``."""

from __future__ import annotations

import torch

from optuna_clank.arena.counter_rng import hash32, mix
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes._context import SeatContext, pick_best

_RANDOM_MOVE = 0x7A11


class RandomSafeSnake(Player):
    """Picks uniformly among moves that do not hit a wall or a body (any move if none is safe).

    Its dice come from the game's random key, the turn and the seat, so a given game sees the
    same rolls whichever configuration sits opposite.
    """

    name = "random-safe"

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        context = SeatContext(view, seats)
        state = view.state
        first = mix(state.keys[seats.games], state.turn[seats.games] * 16 + seats.seats, _RANDOM_MOVE)
        second = hash32(first)
        # Four independent 16-bit dice per seat from two 32-bit hashes.
        rolls = torch.stack([first & 0xFFFF, first >> 16, second & 0xFFFF, second >> 16], dim=1)
        safe = context.free
        any_safe = safe.any(1, keepdim=True)
        allowed = torch.where(any_safe, safe, True)
        return pick_best(torch.where(allowed, rolls, -1))


class GreedyFoodSnake(Player):
    """Heads for the nearest reachable food by a safe move; with no food in reach, takes space."""

    name = "greedy-food"

    def __init__(self, *, search_limit: int = 30) -> None:
        self.search_limit = search_limit

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        context = SeatContext(view, seats)
        distance = context.at_cells(view.food_distance(self.search_limit)).to(torch.float32)
        space = context.space.to(torch.float32)
        # Nearer food first; space only breaks ties (and decides when no food is in reach).
        scores = -distance * 1_000.0 + space
        scores = torch.where(context.free, scores, -1e9)
        return pick_best(scores)
