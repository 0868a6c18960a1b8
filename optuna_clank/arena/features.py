"""Per-turn board analysis shared by every snake of a batch.

Whatever several snakes need (which cells are free next turn, how much space each free cell
opens onto, how far the nearest food is) is computed once per turn for all games and cached
on the :class:`TurnView`. Labels and distances are int16 on purpose: the elementwise min of
small integers is the hot loop, and int16 halves its memory traffic against int32.
"""

from __future__ import annotations

from functools import cached_property

import torch

from optuna_clank.arena.state import BatchState

_NO_DIRECTION = -1


class TurnView:
    """Read-only analysis of a :class:`BatchState` at the start of a turn."""

    def __init__(self, state: BatchState) -> None:
        self.state = state
        self.grid = state.grid

    @cached_property
    def blocked(self) -> torch.Tensor:
        """Bool [B, P]: walls and the cells snakes will still cover after this turn's moves.

        Every live body counts except one copy of each tail, which moves away (a stacked tail,
        after eating, keeps a copy). Heads count: they become necks.
        """
        state = self.state
        cover = state.cover.clone()
        alive = state.alive.to(torch.int16)
        cover.scatter_add_(1, state.head, alive)
        cover.scatter_add_(1, state.tail(), -alive)
        return (cover > 0) | ~self.grid.on_board.unsqueeze(0)

    @cached_property
    def free(self) -> torch.Tensor:
        """Bool [B, P]: cells a snake can move into without hitting a wall or a body."""
        return ~self.blocked

    @cached_property
    def region_labels(self) -> torch.Tensor:
        """Int64 [B, P + 1]: the label of each free cell's region (P on blocked cells and the sentinel)."""
        return component_labels(self.blocked, self.grid.stride).long()

    @cached_property
    def region_label_sizes(self) -> torch.Tensor:
        """Int64 [B, P + 1]: cells per region label (0 at label P), indexed by :attr:`region_labels`."""
        return label_sizes(self.region_labels)

    @cached_property
    def space(self) -> torch.Tensor:
        """Int64 [B, P]: size of the free region each free cell belongs to (0 when blocked)."""
        return self.region_label_sizes.gather(1, self.region_labels)[:, : self.grid.n_cells]

    @cached_property
    def free_cells(self) -> torch.Tensor:
        """Int64 [B]: number of free board cells."""
        return self.free.sum(1)

    def food_distance(self, limit: int) -> torch.Tensor:
        """Int64 [B, P]: steps from each cell to the nearest food through free cells.

        Cells farther than ``limit`` (or cut off from all food) read ``limit + 1``.
        """
        cache = self.__dict__.setdefault("_food_distance", {})
        if limit not in cache:
            cache[limit] = _distance_to(self.state.food > 0, self.blocked, self.grid.stride, limit)
        return cache[limit]

    @cached_property
    def direction(self) -> torch.Tensor:
        """Int64 [B, S]: index of each snake's current heading, -1 when its neck is stacked."""
        diff = self.state.head - self.state.neck()
        direction = torch.full_like(diff, _NO_DIRECTION)
        for index, offset in enumerate(self.grid.move_offsets.tolist()):
            direction = torch.where(diff == offset, index, direction)
        return direction

    @cached_property
    def candidates(self) -> torch.Tensor:
        """Int64 [B, S, 4]: the cell each snake's head would enter with each move."""
        return self.state.head.unsqueeze(2) + self.grid.move_offsets.view(1, 1, 4)


def _neighbour_min(values: torch.Tensor, stride: int) -> torch.Tensor:
    """Elementwise min of each cell and its four neighbours on the flattened padded grid.

    Flattened shifts wrap from one row's right border into the next row's left border, which is
    harmless because border cells are always blocked.
    """
    out = values.clone()
    n = values.shape[1]
    for shift in (1, stride):
        torch.minimum(out[:, shift:], values[:, : n - shift], out=out[:, shift:])
        torch.minimum(out[:, : n - shift], values[:, shift:], out=out[:, : n - shift])
    return out


def component_labels(blocked: torch.Tensor, stride: int) -> torch.Tensor:
    """Int16 [B, P + 1]: for each free cell, the smallest cell index of its free region.

    Blocked cells and the extra sentinel column hold P. Min-propagation with pointer jumping
    (``label = label[label]``) converges in a few rounds even along long corridors.
    """
    n_games, n_cells = blocked.shape
    sentinel = torch.full((n_games, 1), True, dtype=torch.bool, device=blocked.device)
    blocked = torch.cat([blocked, sentinel], dim=1)
    floor = blocked.to(torch.int16) * n_cells  # max(label, floor) pins blocked cells to P
    labels = torch.arange(n_cells + 1, dtype=torch.int16, device=blocked.device).expand(n_games, -1)
    labels = torch.maximum(labels, floor)
    while True:
        spread = torch.maximum(_neighbour_min(labels, stride), floor)
        spread = spread.gather(1, spread.long())
        if torch.equal(spread, labels):
            return labels
        labels = spread


def label_sizes(labels: torch.Tensor) -> torch.Tensor:
    """Int64 [B, P + 1]: cells carrying each label of int64 ``labels`` [B, P + 1] (0 at the blocked label P)."""
    n_cells = labels.shape[1] - 1
    sizes = torch.zeros(labels.shape[0], n_cells + 1, dtype=torch.int64, device=labels.device)
    sizes.scatter_add_(1, labels, torch.ones_like(labels))
    sizes[:, n_cells] = 0
    return sizes


def _distance_to(targets: torch.Tensor, blocked: torch.Tensor, stride: int, limit: int) -> torch.Tensor:
    """Breadth-first distance to the nearest target through free cells, capped at ``limit + 1``."""
    far = limit + 1
    floor = blocked.to(torch.int16) * far
    distance = torch.where(targets & ~blocked, 0, far).to(torch.int16)
    for _ in range(limit):
        stepped = torch.minimum(_neighbour_min(distance, stride) + 1, torch.full_like(distance, far))
        stepped = torch.maximum(torch.minimum(stepped, distance), floor)
        if torch.equal(stepped, distance):
            break
        distance = stepped
    return distance.long()
