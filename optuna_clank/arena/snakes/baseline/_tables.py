"""The Rust baseline's f32 rules as integer tables, computed once with numpy's float32.

The scalar reference evaluates ``open as f32 / length as f32 < 0.4`` and the other f32 expressions
one at a time. The batched player looks the same answers up: for each body length, the smallest
reachable-cell count that is *not* below each space ratio; for each board size, every cell's centre
term and wall flag; for each hunger band, food points by distance. Integer look-ups give the same
answer on every device, with no float rounding left to the accelerator.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from optuna_clank.arena.grid import Grid
from optuna_clank.arena.snakes.baseline.weights import (
    CRITICAL_RATIO,
    MODERATE_RATIO,
    SEARCH_CAP,
    SEVERE_RATIO,
    ScoringWeights,
    centre_score,
    food_score,
    min_food_space,
)

MAX_LENGTH = 4096
"""Lengths the tables cover (a batch's ring buffer holds at most 2048 segments on a 25x25 board)."""
FOOD_REACH = 5
"""Food farther than this (Manhattan) scores nothing; the tables' last distance column means "farther"."""
HUNGER_BANDS = (100, 39, 19)
"""One health value per hunger multiplier (1.0, 1.5, 2.0): the band index is ``(h < 40) + (h < 20)``."""


@functools.cache
def ratio_floors(device: torch.device) -> torch.Tensor:
    """Int64 [MAX_LENGTH, 3]: per length, the least open-cell count whose ratio reaches 0.4, 0.6, 0.8.

    ``open < floors[length, k]`` is exactly Rust's ``open as f32 / length as f32 < ratio_k``; a fill
    counts at most :data:`SEARCH_CAP` cells, so a floor of ``SEARCH_CAP + 1`` means "always below".
    """
    opens = np.arange(SEARCH_CAP + 1, dtype=np.float32)
    lengths = np.maximum(np.arange(MAX_LENGTH, dtype=np.float32), np.float32(1.0))
    ratios = opens[None, :] / lengths[:, None]  # float32 division, one rounding, as in Rust
    floors = np.empty((MAX_LENGTH, 3), dtype=np.int64)
    for k, limit in enumerate((CRITICAL_RATIO, SEVERE_RATIO, MODERATE_RATIO)):
        reached = ratios >= limit
        floors[:, k] = np.where(reached.any(1), reached.argmax(1), SEARCH_CAP + 1)
    return torch.from_numpy(floors).to(device)


@functools.cache
def food_space_needed(device: torch.device) -> torch.Tensor:
    """Int64 [MAX_LENGTH]: ``(length as f32 * 0.7) as usize``, the cells eating needs."""
    return torch.tensor([min_food_space(length) for length in range(MAX_LENGTH)], dtype=torch.int64, device=device)


@functools.cache
def food_points(device: torch.device) -> torch.Tensor:
    """Int64 [3, FOOD_REACH + 2]: food proximity by hunger band and Manhattan distance (last: farther)."""
    weights = ScoringWeights()
    rows = [[food_score(d, health, weights) for d in range(FOOD_REACH + 2)] for health in HUNGER_BANDS]
    return torch.tensor(rows, dtype=torch.int64, device=device)


def cell_terms(grid: Grid) -> tuple[torch.Tensor, torch.Tensor]:
    """Int64 [P] centre term and bool [P] "within one step of a wall" of every padded cell (0/False off the board)."""
    return _cell_terms(grid.width, grid.height, grid.device)


@functools.cache
def _cell_terms(width: int, height: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    weights = ScoringWeights()
    stride = width + 2
    n_cells = stride * (height + 2)
    centre = torch.zeros(n_cells, dtype=torch.int64)
    near_wall = torch.zeros(n_cells, dtype=torch.bool)
    for y in range(height):
        for x in range(width):
            cell = (y + 1) * stride + x + 1
            centre[cell] = centre_score(x, y, width, height, weights)
            near_wall[cell] = min(x, width - 1 - x, y, height - 1 - y) <= 1
    return centre.to(device), near_wall.to(device)
