"""Per-seat views of a turn: what every tensor snake looks at, gathered once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Seats

FAR = 1_000
"""Distance used for enemies that are not there (dead seats, the seat itself)."""


@dataclass
class SeatContext:
    """The situation of each seat to move (leading dim n) and of its four candidate cells."""

    view: TurnView
    seats: Seats

    @cached_property
    def head(self) -> torch.Tensor:
        return self.view.state.head[self.seats.games, self.seats.seats]

    @cached_property
    def length(self) -> torch.Tensor:
        return self.view.state.length[self.seats.games, self.seats.seats]

    @cached_property
    def health(self) -> torch.Tensor:
        return self.view.state.health[self.seats.games, self.seats.seats]

    @cached_property
    def turn(self) -> torch.Tensor:
        return self.view.state.turn[self.seats.games]

    @cached_property
    def direction(self) -> torch.Tensor:
        """Current heading (-1 when stacked), int64 [n]."""
        return self.view.direction[self.seats.games, self.seats.seats]

    @cached_property
    def cells(self) -> torch.Tensor:
        """Cell entered by each move, int64 [n, 4]."""
        return self.view.candidates[self.seats.games, self.seats.seats]

    def at_cells(self, grid_values: torch.Tensor) -> torch.Tensor:
        """Gather a per-cell [B, P] tensor at each seat's four candidate cells -> [n, 4]."""
        return grid_values[self.seats.games.unsqueeze(1), self.cells]

    @cached_property
    def free(self) -> torch.Tensor:
        """Bool [n, 4]: the move does not run into a wall or a body."""
        return self.at_cells(self.view.free)

    @cached_property
    def space(self) -> torch.Tensor:
        """Int64 [n, 4]: free region size behind each move (0 for fatal moves)."""
        return self.at_cells(self.view.space)

    @cached_property
    def free_neighbours(self) -> torch.Tensor:
        """Int64 [n, 4]: free cells next to each candidate cell (exits after the move)."""
        offsets = self.view.grid.move_offsets.view(1, 1, 4)
        around = (self.cells.unsqueeze(2) + offsets).clamp(0, self.view.grid.n_cells - 1)
        free = self.view.free[self.seats.games.view(-1, 1, 1), around]
        return free.sum(2)

    @cached_property
    def enemy(self) -> torch.Tensor:
        """Bool [n, S]: which seats hold a live opponent."""
        state = self.view.state
        alive = state.alive[self.seats.games]
        own = torch.arange(state.n_seats, device=alive.device).unsqueeze(0) == self.seats.seats.unsqueeze(1)
        return alive & ~own

    @cached_property
    def enemy_head(self) -> torch.Tensor:
        return self.view.state.head[self.seats.games]

    @cached_property
    def enemy_length(self) -> torch.Tensor:
        return self.view.state.length[self.seats.games]

    @cached_property
    def enemy_distance(self) -> torch.Tensor:
        """Int64 [n, 4, S]: Manhattan distance from each candidate cell to each enemy head."""
        grid = self.view.grid
        dx = grid.cell_x[self.cells].unsqueeze(2) - grid.cell_x[self.enemy_head].unsqueeze(1)
        dy = grid.cell_y[self.cells].unsqueeze(2) - grid.cell_y[self.enemy_head].unsqueeze(1)
        distance = dx.abs() + dy.abs()
        return torch.where(self.enemy.unsqueeze(1), distance, FAR)

    @cached_property
    def turns_to_meet(self) -> torch.Tensor:
        """Int64 [n, 4, S]: turns until heads could meet after each move, both moving: ceil(d / 2).

        Raw Manhattan distances are useless for this: every start square has an even x + y and
        both heads move each turn, so the distance from a candidate cell to another head is
        always odd, and a weight keyed on an even distance would never fire.
        """
        return (self.enemy_distance + 1) // 2

    @cached_property
    def longer_enemy(self) -> torch.Tensor:
        """Bool [n, S]: live opponents at least as long as this snake."""
        return self.enemy & (self.enemy_length >= self.length.unsqueeze(1))

    @cached_property
    def shorter_enemy(self) -> torch.Tensor:
        """Bool [n, S]: live opponents strictly shorter than this snake."""
        return self.enemy & (self.enemy_length < self.length.unsqueeze(1))

    @cached_property
    def centre_distance(self) -> torch.Tensor:
        """Float [n, 4]: Manhattan distance of each candidate cell to the board centre."""
        grid = self.view.grid
        cx, cy = (grid.width - 1) / 2, (grid.height - 1) / 2
        return (grid.cell_x[self.cells] - cx).abs() + (grid.cell_y[self.cells] - cy).abs()

    @cached_property
    def on_edge(self) -> torch.Tensor:
        """Bool [n, 4]: candidate cell lies on the outermost ring of the board."""
        grid = self.view.grid
        x, y = grid.cell_x[self.cells], grid.cell_y[self.cells]
        return (x == 0) | (y == 0) | (x == grid.width - 1) | (y == grid.height - 1)


def pick_best(scores: torch.Tensor, *, prefer_last: bool = False) -> torch.Tensor:
    """Index of the best move per row; ties go to the first (or last) in up/down/left/right."""
    if prefer_last:
        return 3 - scores.flip(1).argmax(1)
    return scores.argmax(1)
