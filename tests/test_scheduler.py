"""The continuous batch: many candidates share one batch and each plays exactly the games it plays alone.

Common random numbers are the contract: game ``i`` of seed ``s`` is the same game, with the same
result, whichever batch, row, batch size or mix of other candidates it is played in. Every test
compares a candidate's outcomes in a shared batch with ``play_match`` of that candidate alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
from _configs import gbc_config, heuristic_config
from _servers import served

from optuna_clank.arena.config import default_config, dump_config, load_config, with_values
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.http.player import HttpSnake
from optuna_clank.arena.match import GameOutcome, play_match
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.scheduler import GameScheduler
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.trial.tournament import Tournament

BOARD = 7
TURNS = 200
PATIENT_MS = 120_000
"""A timeout no answer reaches, however busy the machine: exact results must not hinge on timing."""


def alone(make: Callable[[], Player | None], opponents: Any, games: Sequence[int], **options: Any) -> Any:
    """The candidate's own match, nothing else in its batch."""
    return play_match(make(), opponents, games=games, board_size=BOARD, max_turns=TURNS, **options)


MAKERS: list[Callable[[], Player | None]] = [
    lambda: GbcSnake(gbc_config(1)),
    lambda: GbcSnake(gbc_config(2)),
    lambda: GbcSnake(gbc_config(3)),
    GbcSnake,
    lambda: HeuristicSnake(heuristic_config(4)),
    lambda: HeuristicSnake(heuristic_config(5)),
    lambda: None,
]


@pytest.mark.parametrize("batch_size", [3, 64])
def test_candidates_in_one_batch_play_the_games_they_play_alone(batch_size: int) -> None:
    games_of = [range(10), [9, 2, 5], range(4, 12), range(6), [0, 1], range(8), [3, 7, 11]]
    seeds = [7, 7, 7, 7, 3, 7, 7]
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=batch_size) as batch:
        ids = [
            batch.add(make(), "baseline", seed=seed, games=games)
            for make, games, seed in zip(MAKERS, games_of, seeds, strict=True)
        ]
        batch.run()
        for cid, make, games, seed in zip(ids, MAKERS, games_of, seeds, strict=True):
            assert batch.pending(cid) == 0
            assert batch.result(cid).outcomes == alone(make, "baseline", games, seed=seed).outcomes


def test_several_opponents_in_turn_and_a_tournament_share_one_batch() -> None:
    opponents = ["baseline", "greedy-food", "random-safe"]
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=8) as batch:
        ids = [batch.add(make(), opponents, seed=2, games=range(9)) for make in MAKERS[2:5]]
        batch.run()
        for cid, make in zip(ids, MAKERS[2:5], strict=True):
            assert batch.result(cid).outcomes == alone(make, opponents, range(9), seed=2).outcomes
    # a tournament: every opponent plays the same games, all of them in one batch
    tour = Tournament(opponents=tuple(opponents), weights=(1.0, 2.0, 1.0), games=5)
    steps = [0, 3, 4, 6, 9, 10, 12, 14]
    result = tour.play(GbcSnake(gbc_config(8)), steps, seed=4, device="cpu", board_size=(BOARD, BOARD), max_turns=TURNS)
    assert [o.game for o in result.outcomes] == steps
    for k, opponent in enumerate(opponents):
        games = [tour.split(step)[1] for step in steps if tour.split(step)[0] == k]
        expected = alone(lambda: GbcSnake(gbc_config(8)), opponent, games, seed=4).outcomes
        mine = [o._replace(game=tour.split(o.game)[1]) for o in result.outcomes if tour.split(o.game)[0] == k]
        assert mine == list(expected)


def test_free_for_all_candidates_share_one_batch() -> None:
    opponents = ["baseline", "greedy-food", "random-safe"]
    makers = [*MAKERS[:2], MAKERS[4], MAKERS[6]]
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=5) as batch:
        ids = [batch.add(make(), opponents, seed=5, mode="free-for-all", games=range(8)) for make in makers]
        batch.run()
        for cid, make in zip(ids, makers, strict=True):
            expected = alone(make, opponents, range(8), seed=5, mode="free-for-all").outcomes
            assert batch.result(cid).outcomes == expected
            assert all(len(o.snakes) == 4 for o in expected)


def test_boards_without_fixed_starts_refill_in_place_too() -> None:
    """A 9x7 board starts through the reference rules' random placement, not the fixed squares."""
    options = {"board_size": (9, 7), "max_turns": TURNS}
    with GameScheduler(batch_size=3, **options) as batch:
        ids = [batch.add(make(), "baseline", seed=2, games=range(7)) for make in MAKERS[3:5]]
        batch.run()
        results = [batch.result(cid).outcomes for cid in ids]
    for outcomes, make in zip(results, MAKERS[3:5], strict=True):
        assert outcomes == play_match(make(), "baseline", games=range(7), seed=2, **options).outcomes


def test_recorded_games_come_back_whatever_shares_their_batch() -> None:
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=4) as batch:
        first = batch.add(GbcSnake(gbc_config(1)), "baseline", seed=3, games=range(6), record=[1, 4])
        second = batch.add(None, "baseline", seed=3, games=range(6), record=[4])
        batch.run()
        mine, yours = batch.result(first), batch.result(second)
    expected = alone(lambda: GbcSnake(gbc_config(1)), "baseline", range(6), seed=3, record=[1, 4])
    assert mine.history == expected.history and set(mine.history) == {1, 4}
    assert yours.history == alone(lambda: None, "baseline", range(6), seed=3, record=[4]).history


class _CountingGbc(GbcSnake):
    """A gbc snake that counts the times it is asked alone (a shared batch should ask its family at once)."""

    asked_alone = 0

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        type(self).asked_alone += 1
        return super().choose(view, seats)


def test_one_family_of_configs_is_asked_in_one_call() -> None:
    _CountingGbc.asked_alone = 0
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=16) as batch:
        ids = [batch.add(_CountingGbc(gbc_config(seed)), "baseline", seed=1, games=range(4)) for seed in (1, 2, 3)]
        batch.run()
        results = [batch.result(cid).outcomes for cid in ids]
    assert _CountingGbc.asked_alone == 0  # every turn: one choose_mixed for the three configs
    for seed, outcomes in zip((1, 2, 3), results, strict=True):
        assert outcomes == alone(lambda seed=seed: GbcSnake(gbc_config(seed)), "baseline", range(4), seed=1).outcomes


def test_a_cancelled_candidate_stops_and_leaves_the_others_exact() -> None:
    delivered: list[GameOutcome] = []
    dropped: list[int] = []
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=6) as batch:

        def prune_after_three(outcome: GameOutcome) -> None:
            delivered.append(outcome)
            if len(delivered) == 3:
                dropped.append(batch.cancel(pruned))

        pruned = batch.add(
            HeuristicSnake(heuristic_config(9)), "baseline", seed=6, games=range(40), on_game_end=prune_after_three
        )
        kept = batch.add(GbcSnake(gbc_config(2)), "baseline", seed=6, games=range(12))
        batch.run()
        assert batch.pending(pruned) == 0 and batch.pending(kept) == 0
        played = batch.outcomes(pruned)
        assert (
            batch.result(kept).outcomes
            == alone(lambda: GbcSnake(gbc_config(2)), "baseline", range(12), seed=6).outcomes
        )
    assert len(played) < 40 and dropped == [40 - len(played)] and played == delivered
    expected = alone(lambda: HeuristicSnake(heuristic_config(9)), "baseline", [o.game for o in played], seed=6)
    assert sorted(played) == list(expected.outcomes)


def test_candidates_and_rounds_join_while_the_batch_runs() -> None:
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=5) as batch:
        first = batch.add(GbcSnake(gbc_config(4)), "baseline", seed=8, games=range(5))
        for _ in range(30):
            batch.step()
        assert batch.running > 0
        second = batch.add(HeuristicSnake(heuristic_config(4)), "baseline", seed=8, games=range(6))
        batch.queue(first, range(5, 9))  # its next round
        for _ in range(20):
            batch.step()
        batch.remove(second)  # mid-game: its rows are freed, its games dropped
        third = batch.add(None, "baseline", seed=8, games=range(4))
        batch.run()
        assert (
            batch.result(first).outcomes
            == alone(lambda: GbcSnake(gbc_config(4)), "baseline", range(9), seed=8).outcomes
        )
        assert batch.result(third).outcomes == alone(lambda: None, "baseline", range(4), seed=8).outcomes
        assert not batch.busy


def test_each_finished_game_is_delivered_once_to_its_own_candidate() -> None:
    seen: dict[str, list[int]] = {"a": [], "b": []}
    with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=4) as batch:
        a = batch.add(None, "baseline", seed=1, games=range(7), on_game_end=lambda o: seen["a"].append(o.game))
        b = batch.add(GbcSnake(), "baseline", seed=1, games=[2, 4], on_game_end=lambda o: seen["b"].append(o.game))
        batch.run()
        assert sorted(seen["a"]) == list(range(7)) and sorted(seen["b"]) == [2, 4]
        assert [o.game for o in batch.outcomes(a)] == seen["a"] and [o.game for o in batch.outcomes(b)] == seen["b"]


def test_mistakes_are_refused() -> None:
    with GameScheduler(board_size=BOARD, batch_size=4) as batch:
        cid = batch.add(None, "baseline", games=range(3))
        with pytest.raises(ValueError, match="already queued"):
            batch.queue(cid, [2, 5])
        with pytest.raises(ValueError, match="distinct"):
            batch.queue(cid, [7, 7])
        with pytest.raises(ValueError, match="seat"):
            batch.add(None, ["baseline", "baseline"], mode="free-for-all", games=range(2))
    for options, message in (
        ({"board_size": 6}, "7..25"),
        ({"max_turns": 0}, "max_turns"),
        ({"batch_size": 0}, "batch"),
    ):
        with pytest.raises(ValueError, match=message):
            GameScheduler(**options)


def test_a_served_snake_and_a_served_opponent_join_the_batch(tmp_path: Path) -> None:
    """A candidate behind ``serve`` plays as in-process (duel, several opponents in turn, free-for-all);
    a server shared as everyone's opponent keeps every game apart (its games of the same index for
    different candidates run at once)."""
    config_path = tmp_path / "tuned.yaml"
    config_path.write_text(dump_config(with_values(default_config(), {"weights.center_control": 1000.0})))
    local = HeuristicSnake(load_config(config_path))
    games = range(6)
    several = ["baseline", "greedy-food"]
    four = ["baseline", "greedy-food", "random-safe"]
    with served(["--config", str(config_path)], cwd=tmp_path) as (url, _):
        server_candidate = HttpSnake(url, timeout_ms=PATIENT_MS)
        server_opponent = HttpSnake(url, name="served", timeout_ms=PATIENT_MS)
        with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=8) as batch:
            remote = batch.add(server_candidate, "baseline", seed=11, games=games)
            in_turn = batch.add(server_candidate, several, seed=11, games=games)
            against = [batch.add(make(), server_opponent, seed=11, games=games) for make in MAKERS[:3]]
            batch.run()
            remote_result, in_turn_result = batch.result(remote), batch.result(in_turn)
            against_results = [batch.result(cid) for cid in against]
        with GameScheduler(board_size=BOARD, max_turns=TURNS, batch_size=5) as batch:
            crowd = batch.add(server_candidate, four, seed=11, mode="free-for-all", games=games)
            beside = batch.add(GbcSnake(gbc_config(6)), four, seed=11, mode="free-for-all", games=games)
            batch.run()
            crowd_result, beside_result = batch.result(crowd), batch.result(beside)
        server_candidate.close()
        expected_against = [
            play_match(make(), HttpSnake(url, name="served", timeout_ms=PATIENT_MS), games=games, seed=11,
                       board_size=BOARD, max_turns=TURNS)
            for make in MAKERS[:3]
        ]  # fmt: skip
        server_opponent.close()
    assert remote_result.outcomes == alone(lambda: local, "baseline", games, seed=11).outcomes
    assert in_turn_result.outcomes == alone(lambda: local, several, games, seed=11).outcomes
    assert crowd_result.outcomes == alone(lambda: local, four, games, seed=11, mode="free-for-all").outcomes
    assert (
        beside_result.outcomes
        == alone(lambda: GbcSnake(gbc_config(6)), four, games, seed=11, mode="free-for-all").outcomes
    )
    for result in (remote_result, in_turn_result, crowd_result):
        assert result.faults().total == 0
    for result, expected in zip(against_results, expected_against, strict=True):
        assert result.outcomes == expected.outcomes
        assert result.faults(who="opponents").total == 0
