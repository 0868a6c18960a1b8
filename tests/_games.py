"""Positions of real games (baseline against itself), for tests of request bodies and batches."""

from __future__ import annotations

import torch

from optuna_clank.arena.engine import FoodSettings, step
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.grid import grid_for
from optuna_clank.arena.players import Seats
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.start_boards import start_games
from optuna_clank.arena.state import BatchState


def live_seats(state: BatchState) -> Seats:
    """The seats still playing."""
    rows = torch.nonzero(state.alive & state.running.unsqueeze(1))
    return Seats(games=rows[:, 0], seats=rows[:, 1])


def game_positions(n_games: int = 12, turns: int = 40, n_snakes: int = 2) -> list[tuple[BatchState, Seats]]:
    """States of real 11x11 games every five turns, with their live seats."""
    ids = [f"s{i}" for i in range(n_snakes)]
    state = start_games(
        grid_for(11, 11),
        [ids] * n_games,
        game_ids=list(range(n_games)),
        keys=list(range(7, 7 + n_games)),
        seat_players=[[0] * n_snakes] * n_games,
    )
    snake = BaselineSnake()
    taken = []
    for turn in range(turns):
        seats = live_seats(state)
        if len(seats) == 0:
            break
        if turn % 5 == 0:
            taken.append((state.select(torch.arange(state.n_games)), seats))
        moves = torch.full((state.n_games, n_snakes), -1, dtype=torch.int64)
        moves[seats.games, seats.seats] = snake.choose(TurnView(state), seats)
        over = step(state, moves, FoodSettings())
        state.running &= ~over
        state.alive &= state.running.unsqueeze(1)
    return taken
