"""Seats of many configs scored in one call: the same scores and moves as each config alone, bit for bit.

A continuous batch holds the games of many trials; ``gbc`` and the heuristic snake then score all
their seats in one vectorised call, each seat with its own config (``choose_mixed``). Checked on
positions from arena games (duels and free-for-alls) and on the real bot's recorded positions, with
configs that differ in every kind of key: weights, integer thresholds, the fill depth, A* on or off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
from _configs import gbc_config, heuristic_config
from _recorded_moves import iter_positions, read_configs
from _shared import GBC_MOVES

from optuna_clank.arena.http.api import RequestBatch, batch_requests
from optuna_clank.arena.match import play_match
from optuna_clank.arena.move_oracle import answer_builtin, answer_mixed
from optuna_clank.arena.players import Player, Seats, choose_each
from optuna_clank.arena.snakes._seat_values import ConfigTable, SeatValues
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.gbc._score import score_terms, total_score
from optuna_clank.arena.snakes.gbc._seats import GbcSeats
from optuna_clank.arena.snakes.heuristic import HeuristicSnake, _scores
from optuna_clank.inspect.positions import requests_from_frames


@pytest.fixture(scope="module")
def positions() -> list[dict[str, Any]]:
    """Requests from duels and from 4-snake free-for-alls, early to late game."""
    requests = []
    for mode, opponents in (("duel", ["baseline"]), ("free-for-all", ["baseline", "greedy-food", "heuristic"])):
        result = play_match(GbcSnake(), opponents, games=4, seed=12, mode=mode, record=range(4), max_turns=400)
        for game, frames in result.history.items():
            requests.extend(requests_from_frames(frames, game_id=f"{mode}-{game}"))
    assert len(requests) > 1000
    return requests


def _mixed_seats(batch: RequestBatch, n_players: int, copies: int, seed: int) -> tuple[Seats, torch.Tensor]:
    """Every seat of the batch ``copies`` times, each copy of each seat given a random player."""
    seats = Seats(games=batch.seats.games.repeat(copies), seats=batch.seats.seats.repeat(copies))
    which = torch.randint(0, n_players, (len(seats),), generator=torch.Generator().manual_seed(seed))
    return seats, which


def _each_alone(
    players: Sequence[Player], batch: RequestBatch, seats: Seats, which: torch.Tensor, scores: Callable
) -> torch.Tensor:
    """``scores(player, view, seats)`` of each seat's own player, asked for its seats only."""
    out: torch.Tensor | None = None
    for index, player in enumerate(players):
        rows = torch.nonzero(which == index).flatten()
        if rows.numel():
            own = scores(player, batch.view, Seats(games=seats.games[rows], seats=seats.seats[rows]))
            if out is None:
                out = torch.empty((len(seats), *own.shape[1:]), dtype=own.dtype)
            out[rows] = own
    assert out is not None
    return out


def _gbc_totals(player: Player, view: Any, seats: Seats) -> torch.Tensor:
    assert isinstance(player, GbcSnake)
    return player.scores(view, seats)["total"]


def test_gbc_configs_in_one_call_score_each_seat_as_its_config_alone(positions) -> None:
    players = [GbcSnake(gbc_config(seed)) for seed in range(10)] + [GbcSnake()]
    assert len({p.config["search.max_depth"] for p in players}) > 2  # depth and A* differ between configs
    assert len({p.config["search.use_astar"] for p in players}) == 2
    checked = 0
    for number, batch in enumerate(batch_requests(positions)):
        seats, which = _mixed_seats(batch, len(players), copies=3, seed=number)
        c = GbcSeats(batch.view, seats)
        values = ConfigTable([p.config for p in players]).for_seats(which)
        totals = total_score(c, score_terms(c, values))
        assert torch.equal(totals, _each_alone(players, batch, seats, which, _gbc_totals))  # float64, exactly
        moves = GbcSnake.choose_mixed(players, batch.view, seats, which)
        assert torch.equal(moves, choose_each(players, batch.view, seats, which))
        checked += len(seats)
    assert checked > 3000


def test_the_bots_own_configs_in_one_call_on_its_recorded_positions() -> None:
    if not (GBC_MOVES / "positions.jsonl.gz").is_file():
        pytest.skip(f"no recorded go-battleclank moves at {GBC_MOVES} (shared data not present)")
    requests = [p.request for p in iter_positions(GBC_MOVES)][:3000]
    players = [GbcSnake(config) for config in read_configs(GBC_MOVES).values()]
    together = answer_mixed(players, requests)
    assert together == [answer_builtin(player, requests) for player in players]


def _heuristic_scores(player: Player, view: Any, seats: Seats) -> torch.Tensor:
    assert isinstance(player, HeuristicSnake)
    return player.scores(view, seats)


def test_heuristic_configs_in_one_call_score_each_seat_as_its_config_alone(positions) -> None:
    players = [HeuristicSnake(heuristic_config(seed)) for seed in range(10)] + [HeuristicSnake()]
    checked = 0
    for number, batch in enumerate(batch_requests(positions)):
        seats, which = _mixed_seats(batch, len(players), copies=3, seed=number)
        table = ConfigTable([p._p for p in players])
        scores = _scores(batch.view, seats, table.for_seats(which))
        assert torch.equal(scores, _each_alone(players, batch, seats, which, _heuristic_scores))  # float32, exactly
        moves = HeuristicSnake.choose_mixed(players, batch.view, seats, which)
        assert torch.equal(moves, choose_each(players, batch.view, seats, which))
        checked += len(seats)
    assert checked > 3000


def test_any_player_mixed_with_others_answers_for_its_own_seats(positions) -> None:
    players: list[Player] = [BaselineSnake(), GbcSnake(gbc_config(3)), HeuristicSnake(heuristic_config(3))]
    (batch, *_) = batch_requests(positions[:300])
    seats, which = _mixed_seats(batch, len(players), copies=2, seed=1)
    moves = choose_each(players, batch.view, seats, which)
    for index, player in enumerate(players):
        rows = torch.nonzero(which == index).flatten()
        assert torch.equal(moves[rows], player.choose(batch.view, Seats(seats.games[rows], seats.seats[rows])))
    assert answer_mixed(players, positions[:300]) == [answer_builtin(p, positions[:300]) for p in players]


def test_values_the_configs_agree_on_stay_plain_numbers() -> None:
    configs = [
        {"a": 1.5, "b": 3, "c": True, "d": "greedy", "e": 0.0},
        {"a": 2.5, "b": 3, "c": False, "d": "hybrid", "e": -0.0},
        {"a": 1.5, "b": 4, "c": True, "d": "greedy", "e": 0.0},
    ]
    table = ConfigTable(configs)
    values = table.for_seats(torch.tensor([2, 0, 1, 1]))
    assert values.number("a").tolist() == [1.5, 1.5, 2.5, 2.5]  # type: ignore[union-attr]
    assert values.integer("b").tolist() == [4, 3, 3, 3]  # type: ignore[union-attr]
    assert values.flag("c").tolist() == [True, True, False, False]  # type: ignore[union-attr]
    assert isinstance(values.number("e"), torch.Tensor)  # -0.0 is not 0.0 to a config
    with pytest.raises(ValueError, match="differs"):
        values.raw("d")  # text no scorer reads per seat
    same = ConfigTable([configs[0], dict(configs[0])]).for_seats(torch.tensor([0, 1]))
    assert not same.varies and same.number("a") == 1.5 and same.integer("b") == 3 and same.raw("d") == "greedy"
    assert SeatValues.of(configs[0]).flag("c") is True
