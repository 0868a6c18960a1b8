"""Board geometry shared by the batched engine and the snakes.

Boards are stored *padded*: a one-cell border of wall cells surrounds the W x H board, and
cells are numbered row-major over the padded (W + 2) x (H + 2) grid. A head that leaves the
board lands on a border cell, so every position a snake can ever occupy has an index, and
"one step up" is always ``+ stride`` without wrap-around checks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from optuna_clank.arena.standard import MOVE_DELTAS, MOVES

SPAWN_TABLES = 1024
"""Number of fixed random cell orders a food spawn draws from (see ``Grid.spawn_ranks``)."""


@dataclass(frozen=True)
class Grid:
    """Geometry of one board size on one device (cached, immutable)."""

    width: int
    height: int
    device: torch.device
    on_board: torch.Tensor  # bool [P]: False on the border
    cell_x: torch.Tensor  # int64 [P]: board x of each padded cell (-1 / width on the border)
    cell_y: torch.Tensor  # int64 [P]
    move_offsets: torch.Tensor  # int64 [4]: index delta of each of MOVES (up, down, left, right)
    spawn_ranks: torch.Tensor  # int16 [SPAWN_TABLES, P]: random priority orders of the cells

    @property
    def stride(self) -> int:
        """Index distance between vertically adjacent cells."""
        return self.width + 2

    @property
    def n_cells(self) -> int:
        """Number of padded cells, border included."""
        return (self.width + 2) * (self.height + 2)

    @property
    def n_board_cells(self) -> int:
        """Number of playable cells."""
        return self.width * self.height

    def cell(self, x: int, y: int) -> int:
        """Padded index of board point (x, y); valid for points one step off the board too."""
        return (y + 1) * self.stride + (x + 1)

    def point(self, cell: int) -> tuple[int, int]:
        """Board point (x, y) of a padded index."""
        return cell % self.stride - 1, cell // self.stride - 1


@functools.cache
def grid_for(width: int, height: int, device: str | torch.device = "cpu") -> Grid:
    """The (cached) geometry of a ``width`` x ``height`` board on ``device``."""
    dev = torch.device(device)
    stride = width + 2
    n_cells = stride * (height + 2)
    index = torch.arange(n_cells, dtype=torch.int64)
    cell_x = index % stride - 1
    cell_y = index // stride - 1
    on_board = (cell_x >= 0) & (cell_x < width) & (cell_y >= 0) & (cell_y < height)
    deltas = [MOVE_DELTAS[move] for move in MOVES]
    offsets = torch.tensor([dy * stride + dx for dx, dy in deltas], dtype=torch.int64)
    # A spawn picks the free cell ranked highest by one of these uniformly random orders: the
    # same as a uniform draw among the candidates, at the price of one gather and one argmax.
    generator = torch.Generator().manual_seed(width * 1000 + height)
    ranks = torch.stack([torch.randperm(n_cells, generator=generator) for _ in range(SPAWN_TABLES)])
    return Grid(
        width=width,
        height=height,
        device=dev,
        on_board=on_board.to(dev),
        cell_x=cell_x.to(dev),
        cell_y=cell_y.to(dev),
        move_offsets=offsets.to(dev),
        spawn_ranks=(ranks + 1).to(torch.int16).to(dev),
    )
