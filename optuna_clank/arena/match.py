"""Matches: many games of one candidate against opponents, with honest statistics.

Game ``i`` of a match with seed ``s`` is fully determined by ``(s, i)``
(:mod:`optuna_clank.arena.deals`): two configs playing game ``i`` face the very same game (common
random numbers). Games run batched through a :class:`~optuna_clank.arena.scheduler.GameScheduler`;
finished games leave the batch and waiting ones take their rows, so a long game never holds up the
rest. Large matches on the CPU may be split over worker processes (``processes``, see
:mod:`optuna_clank.arena.processes`): same games, same outcomes, in game order.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import torch

from optuna_clank.arena.bounds import Mode
from optuna_clank.arena.config import Config
from optuna_clank.arena.deals import CANDIDATE, CANDIDATE_NAME
from optuna_clank.arena.engine import FoodSettings
from optuna_clank.arena.opponents import make_opponent
from optuna_clank.arena.outcome import GameOutcome, MatchResult, Result, SnakeResult
from optuna_clank.arena.players import Player
from optuna_clank.arena.processes import play_in_processes, process_count
from optuna_clank.arena.scheduler import GameScheduler
from optuna_clank.arena.snakes.heuristic import HeuristicSnake

__all__ = ["CANDIDATE", "GameOutcome", "MatchResult", "Result", "SnakeResult", "play_match"]


def play_match(
    candidate: Config | Player | None = None,
    opponents: str | Player | Sequence[str | Player] = "baseline",
    *,
    games: int | Iterable[int] = 100,
    seed: int = 0,
    device: str | torch.device = "cpu",
    board_size: int | tuple[int, int] = 11,
    mode: Mode = "duel",
    max_turns: int = 1000,
    batch_size: int = 1024,
    food: FoodSettings | None = None,
    record: Iterable[int] = (),
    on_game_end: Callable[[GameOutcome], object] | None = None,
    processes: int | str = 1,
) -> MatchResult:
    """Play ``games`` games of ``candidate`` against ``opponents`` and gather the outcomes.

    Args:
        candidate: a snake config (nested go-battleclank shape), any :class:`Player`, or
            ``None`` for the default heuristic config.
        opponents: one opponent or several (names, config paths or players). In ``duel`` mode
            each deal picks the next opponent in turn; in ``free-for-all`` all share one board.
        games: a number of games (indices ``0..n-1``) or explicit game indices; the same index
            under the same seed is the same game for every candidate.
        seed: match seed (start positions, seats, food and random opponents derive from it).
        device: torch device the batch runs on (``cpu``, ``cuda``, ``cuda:3``).
        board_size: ``n`` for n x n, or ``(width, height)``; 7..25.
        max_turns: turn cap; a game still running then ends as a draw.
        batch_size: games simulated at once (per process).
        food: food spawning settings (official defaults: minimum 1, chance 15).
        record: game indices whose full history (Battlesnake API boards, turn by turn) to keep.
        on_game_end: called with each outcome as soon as its game finishes.
        processes: worker processes to share the games: ``"auto"`` for one per usable CPU core
            when the match is large enough, on the CPU, and every player can be copied into a
            worker (no snake server); 1 (the default) plays here. The outcomes are the same.
    """
    players = [_as_player(candidate), *[_as_opponent(o) for o in _as_list(opponents)]]
    try:
        indices = list(range(games)) if isinstance(games, int) else list(games)
        workers = _process_count(processes, players, len(indices), torch.device(device))
        started = time.perf_counter()
        if workers > 1:
            result = play_in_processes(
                players,
                indices,
                workers=workers,
                seed=seed,
                board_size=board_size,
                mode=mode,
                max_turns=max_turns,
                batch_size=batch_size,
                food=food,
                record=record,
                on_game_end=on_game_end,
            )
            seconds = time.perf_counter() - started
            return MatchResult(outcomes=result.outcomes, seconds=seconds, history=result.history, processes=workers)
        with GameScheduler(
            board_size=board_size, max_turns=max_turns, food=food, device=device, batch_size=batch_size
        ) as batch:
            cid = batch.add(
                players[0], players[1:], seed=seed, mode=mode, games=indices, record=record, on_game_end=on_game_end
            )
            batch.run()
            return batch.result(cid, seconds=time.perf_counter() - started)
    finally:  # players may hold connections and event loops
        for player in players:
            player.close()


def _process_count(processes: int | str, players: Sequence[Player], games: int, device: torch.device) -> int:
    if processes == 1:
        return 1

    return process_count(processes, players, games, device)


def _as_list(opponents: str | Player | Sequence[str | Player]) -> list[str | Player]:
    if isinstance(opponents, str | Player):
        return [opponents]
    return list(opponents)


def _as_player(candidate: Config | Player | None) -> Player:
    if isinstance(candidate, Player):
        return candidate
    return HeuristicSnake(candidate, name=CANDIDATE_NAME)


def _as_opponent(opponent: str | Player) -> Player:
    return opponent if isinstance(opponent, Player) else make_opponent(opponent)
