"""The bot's food pull for each candidate cell: nearest food, its danger, the path's quality.

The nearest food is the first in the food list at the smallest Manhattan distance, or (when the
bot runs A*: ``search.use_astar`` and health below 50) the first at the shortest path through free
cells, a path of ``d`` steps counting ``d + 1`` cells as the bot's path slices do. A* with the
Manhattan heuristic returns shortest paths, so one breadth-first distance field per candidate cell
gives the same lengths; only its node budget (``search.max_astar_nodes``) is not modelled: it
stops a search after that many heap pops, which takes far more than the bot's 1000 on 11x11.
"""

from __future__ import annotations

import torch

from optuna_clank.arena.features import _distance_to
from optuna_clank.arena.snakes.gbc._board import fill
from optuna_clank.arena.snakes.gbc._seats import GbcSeats, manhattan, where

PATH_QUALITY_DEPTH = 93  # the bot's DefaultFloodFillDepth for path quality fills
_ASTAR_HEALTH = 50
_CRITICAL_HEALTH = 30
_ORDER_BITS = 32  # food order keys stay far below 2^32; the distance goes in the bits above
_NONE = torch.iinfo(torch.int64).max


def food_factor(c: GbcSeats, use_astar: bool) -> torch.Tensor:
    """Float64 [n, 4]: the bot's EvaluateFoodProximity for every candidate cell."""
    grid = c.view.grid
    order = c.view.state.food[c.games].long()  # [n, P] food order keys, 0 = none
    steps = manhattan(
        c.cx.unsqueeze(2), c.cy.unsqueeze(2), grid.cell_x.view(1, 1, -1), grid.cell_y.view(1, 1, -1)
    )  # [n, 4, P]
    present = (order > 0).unsqueeze(1).expand_as(steps)
    nearest, distance = _first_nearest(steps, present, order)
    if use_astar:
        nearest, distance = _astar_nearest(c, order, nearest, distance)
    fx, fy = grid.cell_x[nearest], grid.cell_y[nearest]

    distance_f = distance.to(torch.float64)
    inverse = 1.0 / distance_f
    risky = where(distance == 0, 0.1, inverse * 0.1)
    safe = where(distance == 0, 1.0, inverse) * _path_quality(c, fx, fy)
    factor = where(_dangerous(c, nearest, fx, fy), risky, safe)
    return where((order > 0).any(1).unsqueeze(1), factor, 0.0)


def _first_nearest(
    steps: torch.Tensor, present: torch.Tensor, order: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell [n, 4] with the fewest ``steps`` among ``present`` ones (ties: first in food order)."""
    key = where(present, (steps << _ORDER_BITS) + order.unsqueeze(1), _NONE)
    nearest = key.argmin(2)
    return nearest, steps.gather(2, nearest.unsqueeze(2)).squeeze(2)


def _astar_nearest(
    c: GbcSeats, order: torch.Tensor, nearest: torch.Tensor, distance: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Swap in the A* choice for low-health seats that have a reachable food."""
    rows = torch.nonzero((c.health < _ASTAR_HEALTH) & (order > 0).any(1)).flatten()
    if rows.numel() == 0:
        return nearest, distance
    grid = c.view.grid
    blocked = c.board.blocked[c.games[rows]].repeat_interleave(4, dim=0)  # [m * 4, P]
    sources = torch.zeros_like(blocked)
    sources.scatter_(1, c.cells[rows].reshape(-1, 1), True)
    limit = grid.n_cells
    steps = _distance_to(sources, blocked, grid.stride, limit).view(rows.numel(), 4, -1)
    goals = ((order[rows] > 0) & ~c.board.blocked[c.games[rows]]).unsqueeze(1) & (steps <= limit)
    cell, path_steps = _first_nearest(steps, goals, order[rows])
    found = goals.any(2)
    nearest, distance = nearest.clone(), distance.clone()
    nearest[rows] = where(found, cell, nearest[rows])
    distance[rows] = where(found, path_steps + 1, distance[rows])
    return nearest, distance


def _dangerous(c: GbcSeats, nearest: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """Bool [n, 4]: the bot's IsFoodDangerous(food, radius 2) for each candidate's nearest food."""
    state = c.view.state
    own = state.occ[c.games, c.seats.seats].to(torch.int16)
    own.scatter_add_(1, c.head.unsqueeze(1), torch.ones_like(c.head, dtype=torch.int16).unsqueeze(1))
    enemy_body = (c.board.segments[c.games] - own) > 0
    near_body = _dilate(_dilate(enemy_body, c.view.grid.stride), c.view.grid.stride)
    dangerous = near_body.gather(1, nearest)

    mine = manhattan(c.hx.unsqueeze(1), c.hy.unsqueeze(1), fx, fy).unsqueeze(2)  # [n, 4, 1]
    theirs = manhattan(c.ex.unsqueeze(1), c.ey.unsqueeze(1), fx.unsqueeze(2), fy.unsqueeze(2))  # [n, 4, S]
    needed = where(c.health < _CRITICAL_HEALTH, 3, 2).view(-1, 1)
    longer_by = (c.e_length - c.length.unsqueeze(1)).unsqueeze(1)  # [n, 1, S]
    faster = theirs < mine - 2
    contested = ((theirs - mine).abs() <= 1) & (longer_by >= needed.unsqueeze(2))
    return dangerous | ((faster | contested) & c.enemy.unsqueeze(1)).any(2)


def _dilate(mask: torch.Tensor, stride: int) -> torch.Tensor:
    """Cells within one step of ``mask`` (flattened padded grid; two steps never wrap onto the board)."""
    out = mask.clone()
    n = mask.shape[1]
    for shift in (1, stride):
        out[:, shift:] |= mask[:, : n - shift]
        out[:, : n - shift] |= mask[:, shift:]
    return out


def _path_quality(c: GbcSeats, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """Float64 [n, 4]: the bot's EvaluatePathQuality multiplier from each candidate toward its food."""
    width, height = c.width, c.height
    current = fill(c.region, PATH_QUALITY_DEPTH)
    on_wall = torch.minimum(torch.minimum(fx, width - 1 - fx), torch.minimum(fy, height - 1 - fy)) == 0
    walls = ((fx == 0) | (fx == width - 1)).long() + ((fy == 0) | (fy == height - 1)).long()
    roomy = current.to(torch.float64) > 0.3 * float(width * height)
    cornered = on_wall & (walls >= 2) & roomy

    dx, dy = fx - c.cx, fy - c.cy
    close = dx.abs() + dy.abs() <= 2
    stride = c.view.grid.stride
    step = where(
        dx.abs() > dy.abs(),
        where(dx > 0, 1, -1),
        where(dy > 0, stride, -stride),
    )
    toward = (c.cells + step).clamp(0, c.view.grid.n_cells - 1)
    open_toward = ~c.at(c.board.blocked, toward)
    ahead = fill(c.at(c.board.region, toward), PATH_QUALITY_DEPTH)
    reduction = (current - ahead).to(torch.float64) / current.to(torch.float64)
    by_reduction = where(reduction > 0.4, 0.7, where(reduction > 0.25, 0.85, 1.0))
    quality = where(close | ~open_toward, 1.0, by_reduction)
    quality = where(cornered, 0.7, quality)
    return where(current < 10, 1.0, quality)
