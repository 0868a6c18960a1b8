"""What sits in a seat: the player interface of the arena.

A player answers, once per turn, for *all* the seats it holds across the batch at once
(``Seats``: parallel tensors of batch rows and seat numbers), returning one move index per
seat. Tensor snakes compute the answer in a few vectorised ops; a player that is not a tensor
function (a snake behind the Battlesnake HTTP API) converts the rows it needs to JSON and asks
over the network. The engine never needs to know which kind it is talking to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from optuna_clank.arena.features import TurnView

NO_MOVE = -1
"""A move index meaning "no valid answer": the engine applies the official default move."""


@dataclass(frozen=True)
class Seats:
    """The seats a player must move this turn: batch rows and seat numbers (int64 [n])."""

    games: torch.Tensor
    seats: torch.Tensor

    def __len__(self) -> int:
        return int(self.games.shape[0])


class Player(ABC):
    """A snake that can fill seats of a batch; subclasses set ``name``."""

    name: str = "player"

    @abstractmethod
    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        """Move indices (int64 [len(seats)], 0..3 = up/down/left/right, or ``NO_MOVE``)."""

    def start_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        """Called once when games begin; ``snake_ids[i]`` are the ids of row i's seats."""
        del view, seats, snake_ids

    def end_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        """Called once when games end, with their final boards. No-op here."""
        del view, seats, snake_ids

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately empty
        """Release what the player holds (connections, threads). No-op here."""
