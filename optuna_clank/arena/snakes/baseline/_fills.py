"""The Rust baseline's flood fill, batched: counts from region labels instead of one search per start.

``count_accessible_squares`` blocks every body but each snake's last segment, the same cells for every
seat of a game, which are exactly :attr:`TurnView.blocked`: one labelling of the turn serves all seats.
A search from a free cell counts that cell's region; a search from a covered cell (the Rust code
counts its start whatever lies there) counts 1 plus every distinct free region next to it. Either
count stops at ``min(width * height, 121)``. The food-trap search also blocks the eater's own last
segment, which differs per seat: those few seats get a labelling of their own.
"""

from __future__ import annotations

import torch

from optuna_clank.arena.features import TurnView, component_labels, label_sizes


def search_cap(view: TurnView) -> int:
    """``min(width * height, 121)``: where the Rust search stops counting."""
    return min(view.grid.n_board_cells, 121)


def fill_counts(
    labels: torch.Tensor,
    sizes: torch.Tensor,
    blocked: torch.Tensor,
    rows: torch.Tensor,
    cells: torch.Tensor,
    *,
    offsets: torch.Tensor,
    cap: int,
) -> torch.Tensor:
    """Int64 like ``cells`` [m, k]: the capped count of a search from each on-board cell of board ``rows`` [m].

    ``labels`` [b, P + 1] are the region labels of ``blocked`` [b, P] (blocked cells carry label P),
    ``sizes`` [b, P + 1] the cells per label; ``offsets`` [4] are the grid's steps to a cell's neighbours.
    """
    board = rows.view(-1, *([1] * (cells.dim() - 1)))
    own_size = sizes[board, labels[board, cells]]
    around = labels[board.unsqueeze(-1), cells.unsqueeze(-1) + offsets]  # [m, k, 4]
    repeated = torch.zeros_like(around, dtype=torch.bool)
    for j in range(1, 4):
        repeated[..., j] = (around[..., j : j + 1] == around[..., :j]).any(-1)
    around_sizes = torch.where(repeated, 0, sizes[board.unsqueeze(-1), around])
    covered_count = 1 + around_sizes.sum(-1)
    count = torch.where(blocked[board, cells], covered_count, own_size)
    return count.clamp(max=cap)


def turn_fill_counts(view: TurnView, rows: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """:func:`fill_counts` on the turn's shared labelling (every body but each last segment blocks)."""
    return fill_counts(
        view.region_labels,
        view.region_label_sizes,
        view.blocked,
        rows,
        cells,
        offsets=view.grid.move_offsets,
        cap=search_cap(view),
    )


def grown_fill_counts(view: TurnView, rows: torch.Tensor, tails: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """Int64 [m]: the search from ``cells`` [m] on board ``rows`` [m] with the eater's ``tails`` [m] blocking too."""
    blocked = view.blocked[rows].clone()
    local = torch.arange(rows.shape[0], device=rows.device)
    blocked[local, tails] = True
    labels = component_labels(blocked, view.grid.stride).long()
    counts = fill_counts(
        labels,
        label_sizes(labels),
        blocked,
        local,
        cells.unsqueeze(1),
        offsets=view.grid.move_offsets,
        cap=search_cap(view),
    )
    return counts.squeeze(1)


def cut_by_removing(view: TurnView, rows: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """Bool [m]: blocking free ``cells`` [m] of boards ``rows`` [m] might split their region.

    False when the cell's free neighbours touch each other through the eight cells around it (two
    neighbours connect through the corner between them): the region then only loses the cell. True
    otherwise, which may still leave the region whole (around a longer loop): those get searched.
    """
    stride = view.grid.stride
    ring = torch.tensor(
        [stride, stride + 1, 1, 1 - stride, -stride, -stride - 1, -1, stride - 1], device=cells.device
    )  # N, NE, E, SE, S, SW, W, NW: a neighbour at every even place, the corners between them
    free = ~view.blocked[rows.unsqueeze(1), cells.unsqueeze(1) + ring]  # [m, 8]
    sides, corners = free[:, 0::2], free[:, 1::2]  # corner i lies between side i and side i + 1
    joined_to_previous = sides.roll(1, dims=1) & corners.roll(1, dims=1)
    groups = (sides & ~joined_to_previous).sum(1)
    return groups >= 2
