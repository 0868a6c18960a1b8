"""The bot's food pull for each candidate cell: nearest food, its danger, the path's quality.

The nearest food is the first in the food list at the smallest Manhattan distance, or (when the
bot runs A*: ``search.use_astar`` and health below 50) the first at the shortest path through free
cells, a path of ``d`` steps counting ``d + 1`` cells as the bot's path slices do. A* with the
Manhattan heuristic returns shortest paths, so one breadth-first distance field per candidate cell
gives the same lengths. Not modelled: the bot's node budget (``search.max_astar_nodes``). Its A*
re-queues cells without dedup, so a search around a long detour can take thousands of heap pops
and give up, and then the bot falls back to another food or to Manhattan distance. Measured against
the exact scalar reference: no difference on the 634 recorded low-health positions at budgets of 100,
200, 400 and 1000 (at 50: 17 positions' scores differ, none of their moves), none on 578 low-health positions
of 40 arena games at the bot's 1000, one score (no move) at 400.
"""

from __future__ import annotations

import torch

from optuna_clank.arena.features import _neighbour_min
from optuna_clank.arena.snakes.gbc._board import fill
from optuna_clank.arena.snakes.gbc._seats import GbcSeats, manhattan, where

PATH_QUALITY_DEPTH = 93  # the bot's DefaultFloodFillDepth for path quality fills
_ASTAR_HEALTH = 50
_CRITICAL_HEALTH = 30
_ORDER_BITS = 32  # food order keys stay far below 2^32; the row goes in the bits above
_NONE = torch.iinfo(torch.int64).max


def food_factor(c: GbcSeats, use_astar: bool | torch.Tensor) -> torch.Tensor:
    """Float64 [n, 4]: the bot's EvaluateFoodProximity for every candidate cell.

    ``use_astar`` is the config's ``search.use_astar``, or bool [n] per seat.
    """
    grid = c.view.grid
    cells, present = _food_list(c)  # [n, F] in food-list order
    if cells.shape[1] == 0:
        return torch.zeros(c.cells.shape, dtype=torch.float64, device=c.cells.device)
    steps = manhattan(
        c.cx.unsqueeze(2), c.cy.unsqueeze(2), grid.cell_x[cells].unsqueeze(1), grid.cell_y[cells].unsqueeze(1)
    )  # [n, 4, F]
    pick, distance = _first_nearest(steps, present.unsqueeze(1).expand_as(steps))
    if isinstance(use_astar, torch.Tensor) or use_astar:
        pick, distance = _astar_nearest(c, cells, present, pick, distance, use_astar=use_astar)
    nearest = cells.gather(1, pick)
    fx, fy = grid.cell_x[nearest], grid.cell_y[nearest]

    distance_f = distance.to(torch.float64)
    inverse = 1.0 / distance_f
    risky = where(distance == 0, 0.1, inverse * 0.1)
    safe = where(distance == 0, 1.0, inverse) * _path_quality(c, fx, fy)
    factor = where(_dangerous(c, nearest, fx, fy), risky, safe)
    return where(present.any(1).unsqueeze(1), factor, 0.0)


def _food_list(c: GbcSeats) -> tuple[torch.Tensor, torch.Tensor]:
    """Int64 [n, F] food cells of each seat's game in food-list order, and which are real (padding)."""
    order = c.rows(c.view.state.food)
    row, cell = torch.nonzero(order > 0, as_tuple=True)
    key = order[row, cell].long()
    arranged = torch.argsort((row << _ORDER_BITS) + key)  # by row, then by place in the food list
    row, cell = row[arranged], cell[arranged]
    counts = torch.bincount(row, minlength=order.shape[0])
    most = int(counts.max()) if row.numel() else 0
    slot = torch.arange(row.numel(), device=row.device) - (torch.cumsum(counts, 0) - counts)[row]
    cells = torch.zeros(order.shape[0], most, dtype=torch.int64, device=order.device)
    cells[row, slot] = cell
    return cells, torch.arange(most, device=order.device).unsqueeze(0) < counts.unsqueeze(1)


def _first_nearest(steps: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index [n, 4] of the present food with the fewest ``steps``, the first in food order on ties."""
    pick = where(present, steps, _NONE).argmin(2)  # argmin returns the first minimum
    return pick, steps.gather(2, pick.unsqueeze(2)).squeeze(2)


def _astar_nearest(
    c: GbcSeats,
    cells: torch.Tensor,
    present: torch.Tensor,
    pick: torch.Tensor,
    distance: torch.Tensor,
    *,
    use_astar: bool | torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Swap in the A* choice for low-health seats (of configs that run it) whose candidate cells can reach a food.

    One breadth-first wave per seat spreads from all its foods at once, carrying to every cell the
    list place of the first food among those nearest to it (the minimum over the neighbours one step
    closer), so each candidate cell learns its shortest path and which food the bot would pick.
    """
    wanted = (c.health < _ASTAR_HEALTH) & present.any(1)
    if isinstance(use_astar, torch.Tensor):
        wanted = wanted & use_astar
    rows = torch.nonzero(wanted).flatten()
    if rows.numel() == 0:
        return pick, distance
    stride = c.view.grid.stride
    blocked = c.blocked.index_select(0, rows)
    free = ~blocked
    food, goals = cells[rows], present[rows] & ~blocked.gather(1, cells[rows])  # food on a body is skipped
    none = food.shape[1]  # a place past the list: "no food"
    wave = torch.full_like(blocked, none, dtype=torch.int64)  # list place on the wave's front cells
    wave.scatter_(1, food, where(goals, torch.arange(none, device=food.device).expand_as(food), none))
    unreached = free & (wave == none)
    starts = c.cells[rows]
    chosen = wave.gather(1, starts)
    steps = where(chosen < none, 0, -1)
    pending = (steps < 0) & unreached.gather(1, starts)
    step = 0
    while True:
        if step % 2 == 0 and not bool((pending.any(1) & (wave < none).any(1)).any()):
            break  # (checked every other step: a step past the end changes nothing)
        step += 1
        nearest = _neighbour_min(wave, stride)
        wave = where(unreached, nearest, none)
        unreached &= wave == none
        at_start = wave.gather(1, starts)
        arrived = (at_start < none) & pending
        steps = where(arrived, step, steps)
        chosen = where(arrived, at_start, chosen)
        pending &= ~arrived
    found = steps >= 0
    chosen = chosen.clamp(max=none - 1)
    pick, distance = pick.clone(), distance.clone()
    pick[rows] = where(found, chosen, pick[rows])
    distance[rows] = where(found, steps + 1, distance[rows])  # a path of d steps holds d + 1 cells
    return pick, distance


def _dangerous(c: GbcSeats, nearest: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """Bool [n, 4]: the bot's IsFoodDangerous(food, radius 2) for each candidate's nearest food."""
    enemy_body = (c.rows(c.board.segments) - c.own_segments) > 0
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
