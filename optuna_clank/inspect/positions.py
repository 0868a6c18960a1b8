"""Positions to ask snakes about: ``/move`` requests from recorded games or from a file.

``probe`` and ``fidelity`` compare a snake's answers on the *same* positions, so positions
are made once: built-in games played with history (the default heuristic snake against the
chosen opponents, every live snake of every turn giving one request), or a file a user
recorded. A fixed seed gives the same positions every time.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from optuna_clank.arena.http.api import RequestError, batch_requests, check_request, game_object
from optuna_clank.arena.match import play_match
from optuna_clank.core.errors import UserError
from optuna_clank.core.stats import game_phase

Request = dict[str, Any]
_POSITIONS_PER_GAME = 40
"""Positions sampled per recorded game at most (a duel yields ~2 x 100): many games, so many situations."""


def recorded_positions(
    count: int,
    *,
    seed: int = 1,
    board_size: tuple[int, int] = (11, 11),
    opponents: Sequence[str] = ("baseline",),
    max_turns: int = 500,
) -> list[Request]:
    """``count`` requests sampled evenly from built-in games (heuristic snake vs ``opponents``)."""

    if count < 1:
        raise ValueError("count must be at least 1")
    games = max(8, math.ceil(count / _POSITIONS_PER_GAME))
    while True:
        result = play_match(
            None,
            list(opponents),
            games=games,
            seed=seed,
            board_size=board_size,
            max_turns=max_turns,
            record=range(games),
            batch_size=games,
            processes="auto",
        )
        requests = [
            request
            for game, frames in sorted(result.history.items())
            for request in requests_from_frames(frames, game_id=f"positions-{seed}-{game}")
        ]
        if len(requests) >= count or games >= 64 * count:
            break
        games *= 2
    chosen = sorted(random.Random(seed).sample(range(len(requests)), min(count, len(requests))))
    return [requests[i] for i in chosen]


def requests_from_frames(frames: Sequence[Mapping[str, Any]], *, game_id: str) -> list[Request]:
    """One ``/move`` request per live snake per frame of a recorded game (final frames skipped)."""

    game = game_object(game_id)
    requests = []
    for frame in frames:
        if "moves" not in frame:  # the board after the game ended: nobody moves from it
            continue
        board = frame["board"]
        for snake in board["snakes"]:
            requests.append({"game": game, "turn": frame["turn"], "board": board, "you": snake})
    return requests


def load_positions(path: Path) -> list[Request]:
    """Requests from a file: JSON lines of ``/move`` bodies, a JSON list of them, or ``play --history`` JSON."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UserError(f"{path}: cannot read positions ({exc.strerror or exc})") from None
    stripped = text.strip()
    if not stripped:
        raise UserError(f"{path}: no positions in the file")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, list):
        return [_request(item, path, i + 1) for i, item in enumerate(whole)]
    if isinstance(whole, dict) and "board" not in whole:
        return _history_requests(whole, path)
    requests = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                requests.append(_request(json.loads(line), path, number))
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}: line {number}: not JSON ({exc.msg})") from None
    return requests


def _history_requests(history: Mapping[str, Any], path: Path) -> list[Request]:
    """The games of ``play --history`` (``{game: [frames]}``) as requests."""
    requests: list[Request] = []
    for game, frames in history.items():
        if not isinstance(frames, list) or not all(isinstance(f, dict) and "board" in f for f in frames):
            raise UserError(f"{path}: game {game!r} is not a list of {{turn, board, moves}} frames")
        requests.extend(requests_from_frames(frames, game_id=f"history-{game}"))
    if not requests:
        raise UserError(f"{path}: the history holds no position with a move")
    return requests


def _request(item: Any, path: Path, number: int) -> Request:

    try:
        check_request(item)
    except RequestError as exc:
        raise UserError(f"{path}: position {number}: {exc}") from None
    return item


def phases(requests: Sequence[Mapping[str, Any]]) -> list[str]:
    """The game phase (early, mid, late: by turn, as the death statistics bucket them) of each request."""
    return [game_phase(int(request["turn"])) for request in requests]


def safe_move_counts(requests: Sequence[Mapping[str, Any]]) -> list[int]:
    """How many of its four moves do not run the ``you`` snake into a wall or a body, per request."""

    counts = [0] * len(requests)
    for batch in batch_requests(requests):
        view, games = batch.view, batch.seats.games
        cells = view.candidates[games, batch.seats.seats]  # [n, 4]: the cell each move enters
        free = view.free[games.unsqueeze(1), cells].to(torch.int64).sum(1).tolist()
        for index, value in zip(batch.indices, free, strict=True):
            counts[index] = int(value)
    return counts
