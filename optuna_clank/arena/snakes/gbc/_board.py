"""Per-turn board analysis with go-battleclank's own notion of a blocked cell, for all games.

The bot treats a cell as occupied when any segment of a live snake lies there, except the last
segment of a snake whose health is not 100 (its tail moves away). Its flood fills are breadth-
first searches that stop after ``cap`` cells, so a fill counts ``min(region size, max(cap, 1))``
cells of the start's free region: every fill of a turn is one component labelling of the board.
Eating keeps the tail in place, so the food-trap fill uses a second labelling where every
segment blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from optuna_clank.arena.features import TurnView, component_labels, label_sizes

_MAX_HEALTH = 100
_CACHE_KEY = "_gbc_board"


@dataclass
class GbcBoard:
    """Masks and region sizes of every game of a turn ([B, P] over padded cells)."""

    segments: torch.Tensor  # int16: live snake segments on each cell, tails included
    blocked: torch.Tensor  # bool: off the board, or occupied as the bot's IsOccupied(skipTails) says
    region: torch.Tensor  # int64: size of each free cell's region under ``blocked`` (0 where blocked)
    every_segment: torch.Tensor  # bool: off the board, or any live segment (eating keeps the tail)
    kept_tail: torch.Tensor  # bool [B, S]: the tail cell still counts (health 100)


def gbc_board(view: TurnView) -> GbcBoard:
    """The analysis of ``view``'s turn, computed once per turn and shared by every gbc player."""
    cached = view.__dict__.get(_CACHE_KEY)
    if cached is None:
        cached = _analyse(view)
        view.__dict__[_CACHE_KEY] = cached
    return cached


def fill(region: torch.Tensor, cap: int | torch.Tensor) -> torch.Tensor:
    """The bot's capped flood-fill count from cells whose region sizes are ``region``.

    ``cap`` is one depth, or int64 per seat shaped to broadcast against ``region`` (``[n, 1]``).
    """
    if isinstance(cap, torch.Tensor):
        return torch.minimum(region, cap.clamp(min=1))
    return region.clamp(max=max(cap, 1))


def _analyse(view: TurnView) -> GbcBoard:
    state = view.state
    grid = view.grid
    alive = state.alive.to(torch.int16)
    segments = state.cover.clone()  # body[1:] of the live snakes
    segments.scatter_add_(1, state.head, alive)
    off_board = ~grid.on_board.unsqueeze(0)
    every_segment = (segments > 0) | off_board
    kept_tail = state.health == _MAX_HEALTH
    moving_tail = (state.alive & ~kept_tail).to(torch.int16)
    staying = segments.clone()
    staying.scatter_add_(1, state.tail(), -moving_tail)
    blocked = (staying > 0) | off_board
    region = view.space if torch.equal(blocked, view.blocked) else region_sizes(blocked, grid.stride)
    return GbcBoard(
        segments=segments,
        blocked=blocked,
        region=region,
        every_segment=every_segment,
        kept_tail=kept_tail,
    )


def region_sizes(blocked: torch.Tensor, stride: int) -> torch.Tensor:
    """Int64 [b, P]: size of the free region of each free cell (0 where ``blocked``)."""
    labels = component_labels(blocked, stride).long()
    return label_sizes(labels).gather(1, labels)[:, : blocked.shape[1]]
