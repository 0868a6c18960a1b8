"""What sits in a seat: the player interface of the arena.

A player answers, once per turn, for *all* the seats it holds across the batch at once
(``Seats``: parallel tensors of batch rows and seat numbers), returning one move index per
seat. Tensor snakes compute the answer in a few vectorised ops; a player that is not a tensor
function (a snake behind the Battlesnake HTTP API) converts the rows it needs to JSON and asks
over the network, sending its requests when asked (:meth:`Player.choose_later`) and reading the
answers when the arena needs them. The engine never needs to know which kind it is talking to.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from optuna_clank.arena.engine import FoodSettings
from optuna_clank.arena.features import TurnView

NO_MOVE = -1
"""A move index meaning "no valid answer": the engine applies the official default move."""

FORFEIT = -2
"""A move index meaning "this snake leaves the game" (its server is gone): it is eliminated
with cause ``disconnected`` before the turn is played, so its games end as losses for it."""


class Faults(NamedTuple):
    """Answers a snake failed to give in one game (the arena repeated its previous move instead)."""

    timeouts: int = 0  # no answer within the game's timeout
    errors: int = 0  # non-200 status or a broken connection
    invalid: int = 0  # not JSON, or not one of the four moves
    disconnects: int = 0  # the server refused the connection: the snake forfeited

    @property
    def total(self) -> int:
        return self.timeouts + self.errors + self.invalid + self.disconnects

    def __add__(self, other: object) -> Faults:
        if not isinstance(other, Faults):
            return NotImplemented
        return Faults(*(a + b for a, b in zip(self, other, strict=True)))


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
        """Move indices (int64 [len(seats)], 0..3 = up/down/left/right, ``NO_MOVE`` or ``FORFEIT``)."""

    def choose_later(self, view: TurnView, seats: Seats) -> Callable[[], torch.Tensor]:
        """Start choosing; calling the result gives what :meth:`choose` would.

        A snake behind a server sends its requests here and reads the answers when called, so
        the arena plays other seats and games while the server thinks. The default chooses at once.
        """
        moves = self.choose(view, seats)
        return lambda: moves

    def prepare(self, *, food: FoodSettings) -> None:
        """Called once before a match with its rules settings (a server is told them). No-op here."""
        del food

    def take_faults(self, game: int, seat: int) -> Faults:
        """The faults of seat ``seat`` in finished game ``game`` (then forgotten). None here."""
        del game, seat
        return Faults()

    def start_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        """Called once when games begin; ``snake_ids[i]`` are the ids of row i's seats."""
        del view, seats, snake_ids

    def end_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        """Called once when games end, with their final boards. No-op here."""
        del view, seats, snake_ids

    @property
    def family(self) -> Hashable | None:
        """Players of one family answer for each other's seats in one call (:meth:`choose_mixed`).

        A tensor snake whose configs only change numbers (``gbc``, the heuristic snake) names its
        family, so that a batch holding many of its configs (the trials of a continuous batch) is
        scored in one vectorised call instead of one call per config. ``None`` (the default): the
        player answers for its own seats only.
        """
        return None

    @classmethod
    def choose_mixed(cls, players: Sequence[Player], view: TurnView, seats: Seats, which: torch.Tensor) -> torch.Tensor:
        """Moves for seats held by several players of this family: seat ``i`` plays ``players[which[i]]``.

        Must equal asking each player for its own seats (what this default does); a family
        overrides it with one call that looks each seat's config up.
        """
        return choose_each(players, view, seats, which)

    @property
    def holds_process_resources(self) -> bool:
        """Whether the player holds what a copy in a forked process could not use (connections, threads).

        A pure tensor snake holds nothing: a worker process forked from this one plays it exactly
        as it would be played here. A player that answers later or has something to close does.
        """
        return self.answers_later or type(self).close is not Player.close

    @property
    def answers_later(self) -> bool:
        """Whether :meth:`choose_later` returns before the moves are known (the arena then overlaps work)."""
        return type(self).choose_later is not Player.choose_later

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately empty
        """Release what the player holds (connections, threads). No-op here."""


def choose_each(players: Sequence[Player], view: TurnView, seats: Seats, which: torch.Tensor) -> torch.Tensor:
    """Each player's moves for its own seats (seat ``i`` is ``players[which[i]]``'s), in seat order."""
    if len(players) == 1:
        return players[0].choose(view, seats)
    moves = torch.full((len(seats),), NO_MOVE, dtype=torch.int64, device=seats.games.device)
    for index, player in enumerate(players):
        rows = torch.nonzero(which == index).flatten()
        if rows.numel():
            own = Seats(games=seats.games[rows], seats=seats.seats[rows])
            moves[rows] = player.choose(view, own).to(moves.device)
    return moves
