"""The ``baseline`` opponent the old loop measured against, with fixed weights."""

from __future__ import annotations

import torch

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes._context import FAR, SeatContext, pick_best

_FATAL = -1000.0
_HEAD_TO_HEAD = 500.0
_PURSUIT = {2: 100.0, 3: 50.0, 4: 25.0, 5: 10.0}
_PER_CELL = 5.0
_TRAPS = ((0.4, 600.0), (0.6, 300.0), (0.8, 150.0))  # space/length below ratio -> penalty
_FOOD_BY_DISTANCE = (60.0, 30.0, 15.0, 15.0, 5.0, 5.0)  # distance 0, 1, 2-3, 4-5
_FOOD_TRAP = -800.0
_CENTRE = 2.0
_STRAIGHT = 5.0
_WALL = 10.0


class BaselineSnake(Player):
    """One-ply scorer with the baseline's fixed weights; ties go to the last move in MOVES."""

    name = "baseline"

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        c = SeatContext(view, seats)
        scores = torch.where(c.free, 0.0, _FATAL)

        adjacent = c.enemy_distance == 1  # [n, 4, S]
        longer_than = c.length.unsqueeze(1) > c.enemy_length  # [n, S]
        hunt = (adjacent & longer_than.unsqueeze(1)).any(2)
        flee = (adjacent & ~longer_than.unsqueeze(1)).any(2)
        scores = scores + torch.where(flee, -_HEAD_TO_HEAD, torch.where(hunt, _HEAD_TO_HEAD, 0.0))

        prey_distance = torch.where(c.shorter_enemy.unsqueeze(1), c.enemy_distance, FAR).amin(2)
        for distance, bonus in _PURSUIT.items():
            scores = scores + torch.where(prey_distance == distance, bonus, 0.0)

        space = c.space.to(torch.float32)
        scores = scores + _PER_CELL * space
        ratio = space / c.length.unsqueeze(1)
        trap = torch.zeros_like(scores)
        for limit, penalty in reversed(_TRAPS):
            trap = torch.where(ratio < limit, -penalty, trap)
        scores = scores + torch.where(c.free, trap, 0.0)

        food_distance = c.at_cells(view.food_distance(5))
        proximity = torch.tensor((*_FOOD_BY_DISTANCE, 0.0), device=scores.device)[food_distance.clamp(max=6)]
        hunger = torch.where(c.health < 20, 2.0, torch.where(c.health < 40, 1.5, 1.0)).unsqueeze(1)
        scores = scores + proximity * hunger
        traps_on_food = (food_distance == 0) & (space < c.length.unsqueeze(1) + 1)
        scores = scores + torch.where(traps_on_food & c.free, _FOOD_TRAP, 0.0)

        scores = scores - _CENTRE * c.centre_distance
        straight = c.direction.unsqueeze(1) == torch.arange(4, device=scores.device).unsqueeze(0)
        scores = scores + torch.where(straight, _STRAIGHT, 0.0) - torch.where(c.on_edge, _WALL, 0.0)
        return pick_best(scores, prefer_last=True)
