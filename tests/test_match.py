"""play_match: common random numbers, seats, tournaments, turn cap, history, statistics."""

from __future__ import annotations

import pytest

from optuna_clank.arena.config import default_config, with_values
from optuna_clank.arena.match import play_match
from optuna_clank.arena.snakes.simple import RandomSafeSnake
from optuna_clank.core.stats import game_phase, wilson_interval


def _start(result, game: int) -> dict:
    """The first recorded frame of a game: its start board."""
    return result.history[game][0]


def test_game_i_is_the_same_game_for_every_config() -> None:
    aggressive = with_values(default_config(), {"weights.food": 1000.0, "weights.head_collision": 1.0})
    games = range(6)
    one = play_match(None, "baseline", games=games, seed=3, record=games)
    other = play_match(aggressive, "baseline", games=games, seed=3, record=games)
    for game in games:
        assert _start(one, game) == _start(other, game)  # same start squares, seats and food
        assert one.outcomes[game].candidate_seat == other.outcomes[game].candidate_seat
    assert [o.result for o in one.outcomes] != [o.result for o in other.outcomes] or one.turns != other.turns


def test_seats_alternate_over_the_same_start() -> None:
    result = play_match(None, "baseline", games=4, seed=9, record=range(4))
    assert [o.candidate_seat for o in result.outcomes] == [0, 1, 0, 1]
    first, second = _start(result, 0)["board"], _start(result, 1)["board"]
    assert first["food"] == second["food"]
    heads = lambda board: [s["head"] for s in board["snakes"]]  # noqa: E731
    assert heads(first) == heads(second)  # the same squares, the candidate on the other one
    assert [s["id"] for s in first["snakes"]] == ["candidate", "baseline"]
    assert [s["id"] for s in second["snakes"]] == ["baseline", "candidate"]


def test_results_do_not_depend_on_batch_size_or_game_subset() -> None:
    whole = play_match(None, "random-safe", games=12, seed=4, batch_size=12)
    small_batches = play_match(None, "random-safe", games=12, seed=4, batch_size=3)
    subset = play_match(None, "random-safe", games=[7, 2, 11], seed=4, batch_size=2)
    assert whole.outcomes == small_batches.outcomes
    assert [whole.outcomes[i] for i in (2, 7, 11)] == list(subset.outcomes)


def test_tournament_rotates_opponents_by_deal() -> None:
    result = play_match(None, ["baseline", "greedy-food", "random-safe"], games=12, seed=1)
    opponents = [o.opponents for o in result.outcomes]
    assert opponents[:6] == [("baseline",)] * 2 + [("greedy-food",)] * 2 + [("random-safe",)] * 2
    assert opponents[6:] == opponents[:6]


def test_free_for_all_seats_everybody() -> None:
    result = play_match(None, ["baseline", "greedy-food", "random-safe"], games=8, seed=2, mode="free-for-all")
    assert all(len(o.snakes) == 4 for o in result.outcomes)
    assert sorted({o.candidate_seat for o in result.outcomes}) == [0, 1, 2, 3]
    assert all(o.result in ("win", "loss", "draw") for o in result.outcomes)


def test_turn_cap_ends_games_as_draws() -> None:
    result = play_match(RandomSafeSnake(), "random-safe", games=6, seed=5, max_turns=3)
    assert all(o.turns <= 3 for o in result.outcomes)
    assert all(o.result == "draw" and o.capped for o in result.outcomes if o.turns == 3)
    assert result.draws >= 1


def test_history_is_battlesnake_api_boards_turn_by_turn() -> None:
    result = play_match(None, "baseline", games=3, seed=8, record=[1])
    assert set(result.history) == {1}
    frames = result.history[1]
    outcome = result.outcomes[1]
    assert [f["turn"] for f in frames] == list(range(outcome.turns + 1))
    board = frames[0]["board"]
    assert board["width"] == board["height"] == 11
    snake = board["snakes"][0]
    assert {"id", "name", "health", "body", "head", "length", "latency", "shout"} <= set(snake)
    assert snake["head"] == snake["body"][0] and snake["length"] == len(snake["body"]) == 3
    assert all(set(f["moves"].values()) <= {"up", "down", "left", "right"} for f in frames[:-1])
    assert "moves" not in frames[-1]  # the final board


def test_aggregates_match_the_outcomes() -> None:
    result = play_match(None, "baseline", games=40, seed=6)
    summary = result.summary()
    assert summary["wins"] + summary["losses"] + summary["draws"] == 40
    assert summary["win_rate"] == summary["wins"] / 40
    assert (summary["ci_low"], summary["ci_high"]) == wilson_interval(summary["wins"], 40)
    assert summary["avg_turns"] == sum(o.turns for o in result.outcomes) / 40
    deaths = sum(n for phases in summary["death_causes"].values() for n in phases.values())
    assert deaths == sum(1 for o in result.outcomes if o.candidate.cause)
    for cause, phases in summary["death_causes"].items():
        assert cause in {"out-of-health", "wall-collision", "snake-self-collision", "snake-collision", "head-collision"}
        assert set(phases) <= {"early", "mid", "late"}


def test_wilson_interval_and_phases() -> None:
    low, high = wilson_interval(45, 100)
    assert low == pytest.approx(0.3561, abs=1e-3) and high == pytest.approx(0.5476, abs=1e-3)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0) and wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert [game_phase(t) for t in (0, 49, 50, 149, 150)] == ["early", "early", "mid", "mid", "late"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"board_size": 6}, "7..25"),
        ({"max_turns": 0}, "max_turns"),
        ({"games": [1, 1]}, "distinct"),
        ({"mode": "melee"}, "unknown mode"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        play_match(None, "baseline", **{"games": 2, **kwargs})
