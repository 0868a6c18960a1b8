"""Battlesnake ``/move`` request bodies -> batched state and seats, for the ``gbc`` player's tests.

Recorded requests (the gbc-moves ground truth) must run through batched players. Requests of one
board size and snake count share a batch; ``you`` becomes the seat to move. Snakes keep the
request's order: the bot breaks some ties by that order. (The package's own reader of request
bodies, :func:`optuna_clank.arena.http.api.batch_requests`, validates them and hands back a view.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.standard import MOVES
from optuna_clank.arena.state import BatchState, state_from_boards


@dataclass(frozen=True)
class RequestBatch:
    """Requests of one board size and snake count: their indices, state and seats."""

    indices: list[int]
    state: BatchState
    seats: Seats


def batch_requests(requests: Sequence[Mapping[str, Any]], device: str | torch.device = "cpu") -> list[RequestBatch]:
    """Group requests by (width, height, snake count) and batch each group."""
    groups: dict[tuple[int, int, int], list[int]] = {}
    for index, request in enumerate(requests):
        board = request["board"]
        key = (int(board["width"]), int(board["height"]), len(board["snakes"]))
        groups.setdefault(key, []).append(index)
    batches = []
    for indices in groups.values():
        boards = [_board(requests[i]) for i in indices]
        you = [_seat_of_you(requests[i]) for i in indices]
        state = state_from_boards(
            boards,
            game_ids=range(len(indices)),
            keys=[0] * len(indices),
            seat_players=[[0] * len(b["snakes"]) for b in boards],
            device=device,
        )
        seats = Seats(
            games=torch.arange(len(indices), device=state.grid.device),
            seats=torch.tensor(you, dtype=torch.int64, device=state.grid.device),
        )
        batches.append(RequestBatch(indices, state, seats))
    return batches


def choose_for_requests(player: Player, requests: Sequence[Mapping[str, Any]]) -> list[str]:
    """The move name ``player`` answers to each request, in request order."""
    answers = [""] * len(requests)
    for batch in batch_requests(requests):
        moves = player.choose(TurnView(batch.state), batch.seats).tolist()
        for index, move in zip(batch.indices, moves, strict=True):
            answers[index] = MOVES[move] if move >= 0 else MOVES[0]
    return answers


def _board(request: Mapping[str, Any]) -> dict[str, Any]:
    board = request["board"]
    return {
        "turn": int(request.get("turn", 0)),
        "width": int(board["width"]),
        "height": int(board["height"]),
        "food": list(board.get("food") or []),
        "hazards": [],
        "snakes": [
            {
                "id": snake["id"],
                "body": snake["body"],
                "health": int(snake["health"]),
                "eliminated_cause": "",
                "eliminated_by": "",
                "eliminated_on_turn": 0,
            }
            for snake in board["snakes"]
        ],
    }


def _seat_of_you(request: Mapping[str, Any]) -> int:
    you = request["you"]["id"]
    for seat, snake in enumerate(request["board"]["snakes"]):
        if snake["id"] == you:
            return seat
    raise ValueError(f"request's 'you' ({you!r}) is not among its board's snakes")
