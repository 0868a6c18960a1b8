"""arena.api: batch rows -> Battlesnake /move requests -> batch rows, and request validation."""

from __future__ import annotations

import copy
import json

import orjson
import pytest

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.http.api import (
    RequestError,
    batch_requests,
    check_request,
    encoded_move_requests,
    game_object,
    move_requests,
)
from optuna_clank.arena.move_oracle import answer_moves
from optuna_clank.arena.players import Seats
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.arena.standard import MOVES
from optuna_clank.arena.state import BatchState, board_from_state
from tests._games import game_positions


def _requests(state: BatchState, seats: Seats, ids: list[str]) -> list[dict]:
    games = [game_object(f"game-{g}") for g in seats.games.tolist()]
    return move_requests(state, seats, [ids] * len(seats), games)


def test_requests_carry_the_official_cli_fields() -> None:
    state, seats = game_positions(n_games=2, turns=6)[1]
    request = _requests(state, seats, ["a", "b"])[0]
    assert set(request) == {"game", "turn", "board", "you"}
    game = request["game"]
    assert set(game) == {"id", "ruleset", "map", "timeout", "source"}
    assert game["ruleset"]["name"] == "standard" and game["timeout"] == 500
    settings = game["ruleset"]["settings"]
    assert settings["foodSpawnChance"] == 15 and settings["minimumFood"] == 1
    assert settings["hazardDamagePerTurn"] == 14 and settings["royale"] == {"shrinkEveryNTurns": 25}
    snake = request["board"]["snakes"][0]
    fields = {"id", "name", "latency", "health", "body", "head", "length", "shout", "squad", "customizations"}
    assert set(snake) == fields
    assert snake["head"] == snake["body"][0] and snake["length"] == len(snake["body"])
    assert isinstance(snake["latency"], str)
    assert request["you"] == next(s for s in request["board"]["snakes"] if s["id"] == request["you"]["id"])
    json.dumps(request)  # plain JSON


def test_round_trip_keeps_boards_and_moves() -> None:
    """rows -> requests -> rows: the same board of every game, and the same move of every snake."""
    checked = 0
    for state, seats in game_positions():
        ids = ["a", "b"]
        requests = _requests(state, seats, ids)
        (batch,) = batch_requests(requests)
        assert batch.indices == list(range(len(requests)))
        rebuilt = batch.view.state
        for i, row in enumerate(seats.games.tolist()):
            original = board_from_state(state, row, ids)
            again = board_from_state(rebuilt, i, ids)
            for board in (original, again):
                board["snakes"] = [s for s in board["snakes"] if not s["eliminated_cause"]]
                for snake in board["snakes"]:
                    del snake["eliminated_on_turn"]
            assert again == original
            assert batch.seats.seats[i] == seats.seats[i]
        for snake in (BaselineSnake(), HeuristicSnake(None)):
            direct = [MOVES[m] for m in snake.choose(TurnView(state), seats).tolist()]
            assert answer_moves(snake, requests) == direct
        checked += len(requests)
    assert checked > 100


def test_mixed_board_sizes_and_snake_counts_are_answered_in_order() -> None:
    duel_state, duel_seats = game_positions(n_games=3, turns=11)[2]
    ffa_state, ffa_seats = game_positions(n_games=3, turns=11, n_snakes=4)[2]
    duel = _requests(duel_state, duel_seats, ["a", "b"])
    ffa = _requests(ffa_state, ffa_seats, ["a", "b", "c", "d"])
    mixed = [r for pair in zip(duel, ffa, strict=False) for r in pair]
    expected = {id(r): m for part in (duel, ffa) for r, m in zip(part, answer_moves("baseline", part), strict=True)}
    assert answer_moves("baseline", mixed) == [expected[id(r)] for r in mixed]


def _valid() -> dict:
    state, seats = game_positions(n_games=1, turns=6)[1]
    return _requests(state, seats, ["a", "b"])[0]


def _broken(change: str) -> object:
    request = copy.deepcopy(_valid())
    board = request["board"]
    if change == "not an object":
        return [request]
    if change == "no board":
        del request["board"]
    elif change == "bool turn":
        request["turn"] = True
    elif change == "huge board":
        board["width"] = 40
    elif change == "food off board":
        board["food"].append({"x": 11, "y": 0})
    elif change == "empty body":
        board["snakes"][0]["body"] = []
    elif change == "string health":
        board["snakes"][0]["health"] = "90"
    elif change == "duplicate id":
        board["snakes"][1]["id"] = board["snakes"][0]["id"]
    elif change == "stranger you":
        request["you"] = {"id": "nobody"}
    elif change == "list as you id":  # not hashable: once a TypeError (a 500 from serve), now a reason
        request["you"] = {"id": [board["snakes"][0]["id"]]}
    elif change == "no snakes":
        board["snakes"] = []
    return request


@pytest.mark.parametrize(
    "change",
    [
        "not an object",
        "no board",
        "bool turn",
        "huge board",
        "food off board",
        "empty body",
        "string health",
        "duplicate id",
        "stranger you",
        "list as you id",
        "no snakes",
    ],
)
def test_invalid_requests_are_refused_with_a_reason(change: str) -> None:
    request = _broken(change)
    with pytest.raises(RequestError) as caught:
        check_request(request)
    assert str(caught.value)
    with pytest.raises(RequestError, match="request 1"):
        batch_requests([_valid(), request])  # type: ignore[list-item]
    assert answer_moves("baseline", [_valid(), request, _valid()])[1] is None  # type: ignore[list-item]


def test_valid_request_passes_the_check() -> None:
    check_request(_valid())


@pytest.mark.parametrize("n_snakes", [2, 4])
def test_encoded_requests_are_the_json_of_the_request_bodies(n_snakes: int) -> None:
    ids = [f"snake-{i}" for i in range(n_snakes)]
    for state, seats in game_positions(n_games=6, turns=60, n_snakes=n_snakes):
        games = [game_object(f"game-{g}", timeout_ms=321) for g in seats.games.tolist()]
        latencies = [str(7 * i) for i in range(len(seats))]
        bodies = move_requests(state, seats, [ids] * len(seats), games, latencies=latencies)
        encoded = encoded_move_requests(
            state, seats, [ids] * len(seats), [orjson.dumps(g) for g in games], latencies=latencies
        )
        assert encoded == [orjson.dumps(body) for body in bodies]
        assert [json.loads(e) for e in encoded] == bodies
