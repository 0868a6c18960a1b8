"""Who sits where in game ``i`` of a match, and under which random key: a pure function of the game.

Game ``i`` of a match with seed ``s`` is fully determined by ``(s, i)``: its start board, seat
order and every random draw of the engine and of random opponents come from the key of the
*deal* ``i // seats``. Consecutive games of a deal replay the same start with the seats rotated,
so no side keeps the favourable start, and two configs playing game ``i`` face the very same
game (common random numbers), whichever batch, row or neighbours the game is played in.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from optuna_clank.arena.bounds import Mode
from optuna_clank.arena.counter_rng import game_key

CANDIDATE = 0
"""Player index of the candidate in every match (its opponents are 1, 2, ...)."""

CANDIDATE_NAME = "candidate"
"""The candidate's snake id and player name in games and outcomes."""


@dataclass(frozen=True)
class Deal:
    """Who sits where in one game, and its random key."""

    game: int
    key: int
    players: tuple[int, ...]  # player index per seat: CANDIDATE or 1 + opponent index


def seat_count(mode: Mode, n_opponents: int) -> int:
    """Seats of every game of a match: a duel seats two (one for a solo game), a free-for-all everyone."""
    if mode == "duel":
        return 2 if n_opponents else 1
    if mode == "free-for-all":
        if not 1 <= n_opponents + 1 <= 8:
            raise ValueError("a free-for-all seats 1 to 8 snakes")
        return n_opponents + 1
    raise ValueError(f"unknown mode {mode!r} (duel or free-for-all)")


def deal_of(game: int, seed: int, n_seats: int, n_opponents: int, mode: Mode) -> Deal:
    """Seats of game ``game``: the candidate rotates through the seats of its deal.

    In a duel against several opponents each deal takes the next opponent in turn.
    """
    deal, candidate_seat = divmod(game, n_seats)
    if mode == "duel":
        others = [1 + deal % n_opponents] * (n_seats - 1) if n_opponents else []
    else:
        others = list(range(1, n_opponents + 1))
    others.insert(candidate_seat, CANDIDATE)
    return Deal(game=game, key=game_key(seed, deal), players=tuple(others))


def player_names(opponent_names: Sequence[str]) -> tuple[str, ...]:
    """Names by player index: the candidate's, then its opponents'."""
    return (CANDIDATE_NAME, *opponent_names)


@functools.lru_cache(maxsize=256)
def snake_ids(names: tuple[str, ...], seat_players: tuple[int, ...]) -> tuple[str, ...]:
    """Unique, readable snake ids per seat: the player name, suffixed when repeated (``baseline-2``)."""
    seen: Counter[str] = Counter()
    ids = []
    for index in seat_players:
        seen[names[index]] += 1
        ids.append(names[index] if seen[names[index]] == 1 else f"{names[index]}-{seen[names[index]]}")
    return tuple(ids)
