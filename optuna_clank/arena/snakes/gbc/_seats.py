"""What the bot knows about each seat to move: itself, its four candidate cells, its enemies.

Everything is gathered once per turn for all seats (leading dim n); enemy tensors keep the seat
order of the game ([n, S]), which is the order the bot's request lists the snakes in and the
order some of its rules break ties by.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Seats
from optuna_clank.arena.snakes.gbc._board import GbcBoard, gbc_board

UP, DOWN, LEFT, RIGHT = range(4)
NO_DIRECTION = -1


def where(cond: torch.Tensor, a: torch.Tensor | float | int, b: torch.Tensor | float | int) -> torch.Tensor:
    """``torch.where`` with Python numbers as cached 0-d tensors: floats stay float64 (a bare float next
    to another bare float or an integer tensor would give float32, rounding the bot's constants and
    config values), and no scalar tensor is built per call."""
    return torch.where(cond, _constant(a, cond.device), _constant(b, cond.device))


_CONSTANTS: dict[tuple[type, float | int, torch.device], torch.Tensor] = {}
_MAX_CONSTANTS = 4096  # config values of many trials would otherwise pile up


def _constant(value: torch.Tensor | float | int, device: torch.device) -> torch.Tensor:
    """A 0-d float64 (float) or int64 (int) tensor of ``value``, made once per device."""
    if isinstance(value, torch.Tensor):
        return value
    key = (type(value), value, device)
    constant = _CONSTANTS.get(key)
    if constant is None:
        if len(_CONSTANTS) >= _MAX_CONSTANTS:
            _CONSTANTS.clear()
        dtype = torch.float64 if isinstance(value, float) else torch.int64
        constant = _CONSTANTS[key] = torch.tensor(value, dtype=dtype, device=device)
    return constant


def manhattan(ax: torch.Tensor, ay: torch.Tensor, bx: torch.Tensor | int, by: torch.Tensor | int) -> torch.Tensor:
    return (ax - bx).abs() + (ay - by).abs()


@dataclass
class GbcSeats:
    """Per-seat tensors of one turn, from the bot's point of view."""

    view: TurnView
    seats: Seats

    @cached_property
    def board(self) -> GbcBoard:
        return gbc_board(self.view)

    @property
    def games(self) -> torch.Tensor:
        return self.seats.games

    @property
    def width(self) -> int:
        return self.view.grid.width

    @property
    def height(self) -> int:
        return self.view.grid.height

    @cached_property
    def head(self) -> torch.Tensor:
        return self.view.state.head[self.games, self.seats.seats]

    @cached_property
    def hx(self) -> torch.Tensor:
        return self.view.grid.cell_x[self.head]

    @cached_property
    def hy(self) -> torch.Tensor:
        return self.view.grid.cell_y[self.head]

    @cached_property
    def length(self) -> torch.Tensor:
        return self.view.state.length[self.games, self.seats.seats]

    @cached_property
    def health(self) -> torch.Tensor:
        return self.view.state.health[self.games, self.seats.seats]

    @cached_property
    def turn(self) -> torch.Tensor:
        return self.view.state.turn[self.games]

    @cached_property
    def cells(self) -> torch.Tensor:
        """Int64 [n, 4]: cell entered by up, down, left, right."""
        return self.head.unsqueeze(1) + self.view.grid.move_offsets.view(1, 4)

    @cached_property
    def cx(self) -> torch.Tensor:
        return self.view.grid.cell_x[self.cells]

    @cached_property
    def cy(self) -> torch.Tensor:
        return self.view.grid.cell_y[self.cells]

    def rows(self, per_game: torch.Tensor) -> torch.Tensor:
        """``per_game[games]`` (far cheaper as an index_select than as advanced indexing)."""
        return per_game.index_select(0, self.games)

    @cached_property
    def blocked(self) -> torch.Tensor:
        """Bool [n, P]: the bot's blocked cells in each seat's game."""
        return self.rows(self.board.blocked)

    @cached_property
    def own_segments(self) -> torch.Tensor:
        """Int16 [n, P]: the seat's own segments on each cell, head and tail included."""
        state = self.view.state
        occ = state.occ.view(-1, state.occ.shape[2])
        own = occ.index_select(0, self.games * state.n_seats + self.seats.seats).to(torch.int16)
        own.scatter_add_(1, self.head.unsqueeze(1), torch.ones_like(self.head, dtype=torch.int16).unsqueeze(1))
        return own

    def at(self, grid_values: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
        """Gather a per-game [B, P] tensor at per-seat cells [n, ...]."""
        games = self.games.view(-1, *([1] * (cells.dim() - 1)))
        return torch.take(grid_values, games * grid_values.shape[1] + cells)  # cheaper than [games, cells]

    @cached_property
    def free(self) -> torch.Tensor:
        """Bool [n, 4]: the move is not fatal (in bounds, not occupied)."""
        return ~self.at(self.board.blocked, self.cells)

    @cached_property
    def region(self) -> torch.Tensor:
        """Int64 [n, 4]: region size behind each candidate cell (0 when blocked)."""
        return self.at(self.board.region, self.cells)

    @cached_property
    def exits(self) -> torch.Tensor:
        """Int64 [n, 4]: free cells around each candidate cell (the bot's countValidMoves)."""
        around = self.cells.unsqueeze(2) + self.view.grid.move_offsets.view(1, 1, 4)
        around = around.clamp(0, self.view.grid.n_cells - 1)
        return (~self.at(self.board.blocked, around)).sum(2)

    @cached_property
    def direction(self) -> torch.Tensor:
        """Int64 [n]: strict heading (a one-cell step from the neck), else -1 (the bot's getDirection)."""
        direction = self.view.direction[self.games, self.seats.seats]
        return torch.where(self.length >= 2, direction, NO_DIRECTION)

    @cached_property
    def heading(self) -> torch.Tensor:
        """Int64 [n]: loose heading, up when the neck is stacked (getCurrentDirection); -1 if no neck."""
        return torch.where(
            self.length >= 2, torch.where(self.direction == NO_DIRECTION, UP, self.direction), NO_DIRECTION
        )

    # ---- the other snakes, [n, S] in seat order ----

    @cached_property
    def enemy(self) -> torch.Tensor:
        """Bool [n, S]: live snakes other than the seat's own."""
        state = self.view.state
        alive = state.alive[self.games]
        own = torch.arange(state.n_seats, device=alive.device).unsqueeze(0) == self.seats.seats.unsqueeze(1)
        return alive & ~own

    @cached_property
    def n_snakes(self) -> torch.Tensor:
        """Int64 [n]: live snakes on the board, the seat's own included."""
        return self.view.state.alive[self.games].sum(1)

    @cached_property
    def e_head(self) -> torch.Tensor:
        return self.view.state.head[self.games]

    @cached_property
    def ex(self) -> torch.Tensor:
        return self.view.grid.cell_x[self.e_head]

    @cached_property
    def ey(self) -> torch.Tensor:
        return self.view.grid.cell_y[self.e_head]

    @cached_property
    def e_length(self) -> torch.Tensor:
        return self.view.state.length[self.games]

    @cached_property
    def e_direction(self) -> torch.Tensor:
        """Int64 [n, S]: each snake's strict heading, -1 when none."""
        return torch.where(self.e_length >= 2, self.view.direction[self.games], NO_DIRECTION)

    @cached_property
    def e_heading(self) -> torch.Tensor:
        """Int64 [n, S]: each snake's loose heading (up when stacked), -1 when it has no neck."""
        direction = self.e_direction
        return torch.where(self.e_length >= 2, torch.where(direction == NO_DIRECTION, UP, direction), NO_DIRECTION)

    @cached_property
    def e_neck(self) -> torch.Tensor:
        """Int64 [n, S]: each snake's second segment (meaningless without one: check e_length)."""
        return self.view.state.neck()[self.games]

    @cached_property
    def e_neck_dx(self) -> torch.Tensor:
        """Int64 [n, S]: head x minus neck x (0 without a neck)."""
        return torch.where(self.e_length >= 2, self.ex - self.view.grid.cell_x[self.e_neck], 0)

    @cached_property
    def e_neck_dy(self) -> torch.Tensor:
        return torch.where(self.e_length >= 2, self.ey - self.view.grid.cell_y[self.e_neck], 0)

    @cached_property
    def head_distance(self) -> torch.Tensor:
        """Int64 [n, S]: Manhattan distance from the seat's head to each snake's head."""
        return manhattan(self.hx.unsqueeze(1), self.hy.unsqueeze(1), self.ex, self.ey)

    @cached_property
    def cell_distance(self) -> torch.Tensor:
        """Int64 [n, 4, S]: Manhattan distance from each candidate cell to each snake's head."""
        return manhattan(self.cx.unsqueeze(2), self.cy.unsqueeze(2), self.ex.unsqueeze(1), self.ey.unsqueeze(1))
