"""Any snake's moves for a list of ``/move`` requests: the one call ``moves``, ``probe`` and ``fidelity`` make.

Public API::

    answer_moves(snake, requests, *, config=None, timeout_ms=500, concurrency=64, device="cpu")
        -> list[str | None]

* ``snake``: a built-in snake name (``baseline``, ``heuristic``, ``random-safe``, ...), a config
  YAML path (``my.yaml`` or ``config:my.yaml``: the heuristic snake with that config), a
  :class:`~optuna_clank.arena.players.Player` instance, or a server URL (``http://...``,
  ``https://...`` or ``url:http://...``).
* ``requests``: ``/move`` request bodies (parsed JSON), e.g. from :func:`api.move_requests` or a
  recorded game. Board sizes and snake counts may be mixed.
* ``config``: a config file (path) or a config dict for the heuristic snake; only with
  ``snake`` ``"heuristic"`` (or ``None``).
* Result ``i`` is the move (``"up"``/``"down"``/``"left"``/``"right"``) for request ``i``, or
  ``None`` where no valid answer came: an invalid request (see :func:`api.check_request`), or a
  server that answered late (``timeout_ms``; a request's own ``game.timeout`` wins), failed or
  answered garbage. Built-in snakes answer in batched calls (one per board size and snake
  count, chunked); servers are asked concurrently, at most ``concurrency`` requests in flight,
  on keep-alive connections.

:func:`resolve_snake` is the name resolution alone (``--snake``/``--config`` of every command).
Errors in the names (unknown snake, unreadable config) raise :class:`~optuna_clank.core.errors.UserError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from optuna_clank.arena.config import Config, ConfigError, load_config
from optuna_clank.arena.http.api import MoveRequest, RequestError, batch_requests, read_request
from optuna_clank.arena.http.client import LoopRunner, SnakeClient
from optuna_clank.arena.opponents import is_server_reference, make_opponent
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.arena.standard import MOVES
from optuna_clank.core.errors import UserError

CHUNK = 4096
"""Requests per batched call of a built-in snake (bounds the memory of one call)."""


def is_server(snake: str | Player) -> bool:
    """Whether ``snake`` names a server (a URL) rather than a built-in snake."""
    return isinstance(snake, str) and is_server_reference(snake)


def server_url(snake: str) -> str:
    """The URL of a server reference (``url:`` stripped, no trailing slash)."""
    return snake.removeprefix("url:").rstrip("/")


def resolve_snake(snake: str | Player | None, config: str | Path | Config | None = None) -> Player:
    """The built-in player behind ``--snake`` / ``--config`` (not for URLs).

    ``config`` plays the heuristic snake with that config; ``snake`` must then be ``None`` or
    ``"heuristic"``, or ``"gbc"`` (go-battleclank with that YAML of the bot's).
    Without it, ``snake`` is any opponent name or config path.
    """
    if isinstance(snake, Player):
        if config is not None:
            raise UserError("a config applies to the built-in heuristic snake, not to a given player")
        return snake
    if config is not None and snake == "gbc" and isinstance(config, str | Path):
        return make_opponent(f"gbc:{Path(config).resolve()}")  # the bot's own YAML, read as the bot reads it
    if config is not None:
        if snake not in (None, "heuristic"):
            raise UserError(f"--config applies to the heuristic snake, not to {snake!r}")
        if isinstance(config, dict):
            return HeuristicSnake(config)
        try:
            return HeuristicSnake(load_config(Path(config)), name=Path(config).stem)
        except ConfigError as exc:
            raise UserError(f"config {str(config)!r}: {exc}") from exc
    return make_opponent(snake or "heuristic")


def answer_moves(
    snake: str | Player,
    requests: Sequence[Mapping[str, Any]],
    *,
    config: str | Path | Config | None = None,
    timeout_ms: int = 500,
    concurrency: int = 64,
    device: str | torch.device = "cpu",
) -> list[str | None]:
    """The snake's move for each request, in order (``None``: no valid answer). See the module doc."""
    if is_server(snake):
        if config is not None:
            raise UserError("a config cannot be given to a snake server (it reads its own)")
        assert isinstance(snake, str)
        return ask_server(server_url(snake), requests, timeout_ms=timeout_ms, concurrency=concurrency)
    return answer_builtin(resolve_snake(snake, config), requests, device=device)


def answer_builtin(
    player: Player,
    requests: Sequence[Mapping[str, Any] | MoveRequest],
    *,
    device: str | torch.device = "cpu",
) -> list[str | None]:
    """A batched player's moves for ``requests`` (``None`` for invalid requests).

    Request bodies are checked and read here; :class:`~optuna_clank.arena.http.api.MoveRequest` s
    (what a server read as each request arrived) are used as they are.
    """
    answers: list[str | None] = [None] * len(requests)
    reads = [request if isinstance(request, MoveRequest) else _read_or_none(request) for request in requests]
    valid = [(i, read) for i, read in enumerate(reads) if read is not None]
    for start in range(0, len(valid), CHUNK):
        chunk = valid[start : start + CHUNK]
        for batch in batch_requests([read for _, read in chunk], device=device):
            moves = player.choose(batch.view, batch.seats).tolist()
            for local, move in zip(batch.indices, moves, strict=True):
                answers[chunk[local][0]] = MOVES[move] if 0 <= move < len(MOVES) else None
    return answers


MIXED_SEATS = 16_384
"""Seats (requests x players) per call of :func:`answer_mixed` at most (bounds its memory)."""


def answer_mixed(
    players: Sequence[Player],
    requests: Sequence[Mapping[str, Any] | MoveRequest],
    *,
    device: str | torch.device = "cpu",
    on_player: Callable[[int], object] | None = None,
) -> list[list[str | None]]:
    """Each player's moves for ``requests`` (``answers[p][i]``), the requests read once.

    Players of one family (:attr:`~optuna_clank.arena.players.Player.family`: several configs of
    ``gbc`` or of the heuristic snake) answer in one vectorised call per batch of requests, each
    seat with its own config; others are asked one by one. ``on_player(p)`` is called when player
    ``p``'s answers are complete. The same moves as :func:`answer_builtin` per player.
    """
    answers: list[list[str | None]] = [[None] * len(requests) for _ in players]
    reads = [request if isinstance(request, MoveRequest) else _read_or_none(request) for request in requests]
    valid = [(i, read) for i, read in enumerate(reads) if read is not None]
    family = players[0].family if players else None
    together = family is not None and all(p.family == family for p in players)
    chunks = [valid[start : start + CHUNK] for start in range(0, len(valid), CHUNK)]
    packed = [(chunk, batch_requests([read for _, read in chunk], device=device)) for chunk in chunks]
    per_call = max(1, MIXED_SEATS // min(CHUNK, max(1, len(valid)))) if together else 1
    for first in range(0, len(players), per_call):
        group = list(range(first, min(first + per_call, len(players))))
        chosen = [players[p] for p in group]
        for chunk, batches in packed:
            for batch in batches:
                n = len(batch.seats)
                seats = Seats(games=batch.seats.games.repeat(len(group)), seats=batch.seats.seats.repeat(len(group)))
                which = torch.arange(len(group), device=seats.games.device).repeat_interleave(n)
                moves = type(chosen[0]).choose_mixed(chosen, batch.view, seats, which).tolist()
                for k, p in enumerate(group):
                    for local, move in zip(batch.indices, moves[k * n : (k + 1) * n], strict=True):
                        answers[p][chunk[local][0]] = MOVES[move] if 0 <= move < len(MOVES) else None
        if on_player is not None:
            for p in group:
                on_player(p)
    return answers


def _read_or_none(request: Mapping[str, Any]) -> MoveRequest | None:
    try:
        return read_request(request)
    except RequestError:
        return None


def ask_server(
    url: str, requests: Sequence[Mapping[str, Any]], *, timeout_ms: int = 500, concurrency: int = 64
) -> list[str | None]:
    """A server's moves for ``requests``, asked concurrently (``None`` for every fault)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    loop = LoopRunner()
    try:
        return loop.run(_ask_all(url, requests, timeout_ms, concurrency))
    finally:
        loop.close()


async def _ask_all(
    url: str, requests: Sequence[Mapping[str, Any]], timeout_ms: int, concurrency: int
) -> list[str | None]:
    async with SnakeClient(url, timeout_ms=timeout_ms, max_connections=concurrency) as client:
        answers = await asyncio.gather(*(client.move(r) for r in requests))
        return [answer.move for answer in answers]
