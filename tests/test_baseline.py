"""``baseline``: go-battleclank's Rust benchmark snake, its scalar reference and its batched player.

The Rust code's own answers are read in place from ``../shared/data/baseline-moves`` (skipped where
absent): its move, every move's ``total_score`` and breakdown on 18,000 positions. The batched player
is checked on all of them, the scalar reference on a sample (breakdowns included), the ``moves``
command on all of them. Positions of arena games and random boards (7x7 to 19x19, 1-4 snakes, some
with bodies overlapping, which no game reaches but a request may hold) check the batched player
against the scalar reference, total for total.
"""

from __future__ import annotations

import functools
import gzip
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from _shared import SHARED_DATA
from _study import cli_env

from optuna_clank.arena.engine import FoodSettings, step
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.grid import grid_for
from optuna_clank.arena.http.api import batch_requests, game_object, move_requests
from optuna_clank.arena.move_oracle import answer_moves
from optuna_clank.arena.players import Seats
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.baseline._tables import ratio_floors
from optuna_clank.arena.snakes.baseline.player import best_moves
from optuna_clank.arena.snakes.baseline.reference import choose_move, score_request
from optuna_clank.arena.snakes.baseline.weights import (
    CRITICAL_RATIO,
    MODERATE_RATIO,
    SEVERE_RATIO,
    ScoringWeights,
    f32,
    min_food_space,
    rust_round,
    weights_for,
)
from optuna_clank.arena.snakes.simple import RandomSafeSnake
from optuna_clank.arena.standard import MOVES
from optuna_clank.arena.start_boards import start_games

RECORDED = SHARED_DATA / "baseline-moves"
FILES = ("duel", "multi")
MIN_AGREEMENT = 0.995
REFERENCE_SAMPLE = 1_500  # the scalar reference takes about a millisecond a position


# --- the Rust snake's recorded answers ----------------------------------------------------------------------------


def _read(name: str) -> list[dict[str, Any]]:
    path = RECORDED / f"{name}.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"no recorded Rust baseline moves at {path} (shared data not present)")
    return _load(path)


@functools.cache
def _load(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module", params=FILES)
def recorded(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, _read(request.param)


def test_batched_player_picks_the_rust_snakes_move_with_its_totals(recorded) -> None:
    name, rows = recorded
    snake = BaselineSnake()
    same_move = same_totals = 0
    wrong_totals = []
    for batch in batch_requests([row["request"] for row in rows]):
        totals = snake.scores(batch.view, batch.seats)
        assert torch.equal(snake.choose(batch.view, batch.seats), best_moves(totals))
        for index, move, four in zip(batch.indices, best_moves(totals).tolist(), totals.tolist(), strict=True):
            row = rows[index]
            same_move += MOVES[move] == row["move"]
            expected = [row["scores"][m] for m in MOVES]
            same_totals += four == expected
            if four != expected:
                wrong_totals.append((index, four, expected))
    print(f"baseline vs the Rust snake, {name}: moves {same_move}/{len(rows)}, totals {same_totals}/{len(rows)}")
    assert same_move / len(rows) >= MIN_AGREEMENT
    assert not wrong_totals, f"{len(wrong_totals)} positions with other totals, e.g. {wrong_totals[:3]}"


def test_scalar_reference_gives_the_rust_snakes_moves_totals_and_breakdowns(recorded) -> None:
    name, rows = recorded
    sample = rows[:: max(1, len(rows) // REFERENCE_SAMPLE)]
    for row in sample:
        scored = score_request(row["request"])
        assert [s.action for s in scored] == list(MOVES)
        assert {s.action: s.total_score for s in scored} == row["scores"]
        # a map per move: a key met twice (two enemy heads adjacent) keeps one value, the total both
        assert {s.action: s.score_breakdown for s in scored} == row["breakdown"]
        assert choose_move(row["request"]) == row["move"]
    print(f"scalar reference, {name}: {len(sample)} positions, all equal")


def test_why_a_recorded_breakdown_may_not_sum_to_its_total() -> None:
    """Two reasons, both the Rust code's: a key met twice keeps one map entry (two enemy heads adjacent,
    the total counts both), and a fatal move returns -1000 flat after earlier enemies' terms went in."""
    repeated = early_fatal = 0
    for name in FILES:
        for row in _read(name):
            for move, terms in row["breakdown"].items():
                total, shown = row["scores"][move], sum(terms.values())
                if total == shown:
                    continue
                if total == -1000:
                    assert {"other_snake_collision"} <= terms.keys() and len(terms) > 1
                    early_fatal += 1
                else:
                    assert (total - shown) % 500 == 0 and {"win_head_to_head", "lose_head_to_head"} & terms.keys()
                    repeated += 1
    print(f"breakdowns not summing to their totals: {repeated} repeated keys, {early_fatal} early fatal returns")
    assert repeated > 0 and early_fatal > 0


def test_moves_command_answers_as_the_rust_snake(tmp_path: Path) -> None:
    """``moves --snake baseline`` on both files in one run (mixed board sizes and snake counts)."""
    files = {name: _read(name) for name in FILES}
    lines = [json.dumps(row["request"]) for rows in files.values() for row in rows]
    result = subprocess.run(
        [sys.executable, "-m", "optuna_clank", "moves", "--snake", "baseline"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(),
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answers = iter(result.stdout.split())
    for name, rows in files.items():
        same = sum(next(answers) == row["move"] for row in rows)
        print(f"moves --snake baseline, {name}: {same}/{len(rows)} = {same / len(rows):.2%}")
        assert same / len(rows) >= MIN_AGREEMENT
    assert next(answers, None) is None


# --- batched player == scalar reference ---------------------------------------------------------------------------


def _request(width: int, height: int, snakes: list[dict[str, Any]], food: list[tuple[int, int]], you: int) -> dict:
    def point(cell: tuple[int, int]) -> dict[str, int]:
        return {"x": cell[0], "y": cell[1]}

    api = [
        {
            "id": s["id"],
            "name": s["id"],
            "health": s["health"],
            "body": [point(c) for c in s["body"]],
            "head": point(s["body"][0]),
            "length": len(s["body"]),
        }
        for s in snakes
    ]
    return {
        "game": {"id": "random", "ruleset": {"name": "standard"}},
        "turn": 5,
        "board": {"width": width, "height": height, "food": [point(c) for c in food], "hazards": [], "snakes": api},
        "you": api[you],
    }


def _walk(rng: random.Random, width: int, height: int, taken: set, length: int) -> list[tuple[int, int]]:
    """A body grown backwards from a random free head through free cells (shorter where it gets stuck)."""
    free = [(x, y) for x in range(width) for y in range(height) if (x, y) not in taken]
    body = [rng.choice(free)]
    while len(body) < length:
        x, y = body[-1]
        steps = [(x + dx, y + dy) for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0))]
        steps = [c for c in steps if 0 <= c[0] < width and 0 <= c[1] < height and c not in taken and c not in body]
        if not steps:
            break
        body.append(rng.choice(steps))
    return body


def _random_requests(seed: int, count: int, *, overlapping: bool) -> Iterator[dict[str, Any]]:
    """Boards of 7x7 to 19x19 (some not square), 1-4 snakes of any length, stacked tails, hunger, food near heads.

    ``overlapping`` lets bodies cross each other and a tail lie on its own body: boards no game reaches,
    where a move may enter a covered cell without a collision (the Rust search still counts from it).
    """
    rng = random.Random(seed)
    for _ in range(count):
        width = rng.choice((7, 11, 15, 19))
        height = width if rng.random() < 0.8 else rng.choice((7, 9, 11, 13))
        taken: set[tuple[int, int]] = set()
        snakes = []
        for k in range(rng.randint(1, 4)):
            length = rng.choice((1, 2, 3, 3, 4, 5, 8, 12, 20, 40, 90))
            body = _walk(rng, width, height, set() if overlapping else taken, length)
            if rng.random() < 0.2:
                body.append(body[-1])  # just ate: the tail stays a turn
            if rng.random() < 0.05:
                body = [body[0]] * 3  # turn 0: every segment stacked
            if overlapping and len(body) >= 3 and rng.random() < 0.3:
                body.append(body[rng.randrange(len(body) - 2)])  # a tail on its own body: covered, yet no collision
            taken.update(body)
            health = rng.choice((100, 90, 60, 45, 39, 35, 25, 19, 14, 5, 1))
            snakes.append({"id": f"s{k}", "body": body, "health": health})
        cells = [(x, y) for x in range(width) for y in range(height) if overlapping or (x, y) not in taken]
        heads = [s["body"][0] for s in snakes]
        near = [(hx + dx, hy + dy) for hx, hy in heads for dx, dy in ((0, 1), (1, 0), (0, -1), (-1, 0), (2, 0))]
        near = [c for c in near if c in cells]
        food = set(rng.sample(cells, min(len(cells), rng.randint(0, 6))))
        food.update(rng.sample(near, min(len(near), rng.randint(0, 3))))
        yield _request(width, height, snakes, sorted(food), rng.randrange(len(snakes)))


def _batched_totals(requests: list[dict[str, Any]]) -> list[list[int]]:
    totals: list[list[int]] = [[] for _ in requests]
    snake = BaselineSnake()
    for batch in batch_requests(requests):
        for index, four in zip(batch.indices, snake.scores(batch.view, batch.seats).tolist(), strict=True):
            totals[index] = four
    return totals


def _reference_totals(request: dict[str, Any]) -> list[int]:
    return [s.total_score for s in score_request(request)]


@pytest.mark.parametrize("overlapping", [False, True], ids=["legal", "overlapping"])
def test_batched_player_equals_the_scalar_reference_on_random_boards(overlapping: bool) -> None:
    requests = list(_random_requests(11 + overlapping, 800, overlapping=overlapping))
    batched = _batched_totals(requests)
    wrong = [(i, b, _reference_totals(r)) for i, (b, r) in enumerate(zip(batched, requests, strict=True))]
    wrong = [w for w in wrong if w[1] != w[2]]
    assert not wrong, f"{len(wrong)} of {len(requests)} boards differ, e.g. {wrong[:3]}"
    moves = answer_moves(BaselineSnake(), requests)
    assert moves == [choose_move(r) for r in requests]
    terms = {key for r in requests for s in score_request(r) for key in s.score_breakdown}
    assert {"food_death_trap", "critical_trap", "severe_trap", "trap_penalty", "health_urgency"} <= terms
    assert {"win_head_to_head", "lose_head_to_head", "self_collision", "other_snake_collision"} <= terms
    # the dead-end look-ahead cannot fire from a cell no body covers (see the player's docstring)
    assert ("dead_end_ahead" in terms) == overlapping


def _arena_positions(
    size: int, n_snakes: int, n_games: int, seed: int
) -> Iterator[tuple[TurnView, Seats, list[dict[str, Any]]]]:
    """Every fourth turn of arena games (seats alternately baseline and random-safe), as a view and as requests."""
    ids = [f"s{k}" for k in range(n_snakes)]
    state = start_games(
        grid_for(size, size),
        [ids] * n_games,
        game_ids=list(range(n_games)),
        keys=list(range(seed, seed + n_games)),
        seat_players=[[0] * n_snakes] * n_games,
    )
    players = (BaselineSnake(), RandomSafeSnake())
    game = game_object("g")
    for turn in range(150):
        rows = torch.nonzero(state.alive & state.running.unsqueeze(1))
        seats = Seats(games=rows[:, 0], seats=rows[:, 1])
        if len(seats) == 0:
            return
        view = TurnView(state)
        if turn % 4 == 0:
            yield view, seats, move_requests(state, seats, [ids] * len(seats), [game] * len(seats))
        moves = torch.full((n_games, n_snakes), -1, dtype=torch.int64)
        for k, player in enumerate(players):
            mine = (seats.seats + turn) % 2 == k
            part = Seats(games=seats.games[mine], seats=seats.seats[mine])
            moves[part.games, part.seats] = player.choose(view, part)
        over = step(state, moves, FoodSettings())
        state.running &= ~over


@pytest.mark.parametrize(("size", "n_snakes", "n_games"), [(7, 1, 12), (7, 4, 12), (11, 2, 12), (15, 3, 8), (19, 4, 5)])
def test_batched_player_equals_the_scalar_reference_in_arena_games(size: int, n_snakes: int, n_games: int) -> None:
    snake = BaselineSnake()
    positions = 0
    for view, seats, requests in _arena_positions(size, n_snakes, n_games, seed=size * 10 + n_snakes):
        batched = snake.scores(view, seats).tolist()
        assert batched == [_reference_totals(r) for r in requests]
        assert snake.choose(view, seats).tolist() == [MOVES.index(choose_move(r)) for r in requests]
        positions += len(requests)
    assert positions >= 100


# --- the Rust rules a port gets wrong easily ---------------------------------------------------------------------


def test_ties_go_to_the_last_best_move() -> None:
    # top edge of an 8x8 board (centre x = 4.0), heading up: left and right mirror each other
    request = _request(8, 8, [{"id": "me", "body": [(4, 7), (4, 6), (4, 5)], "health": 100}], [], 0)
    scores = {s.action: s.total_score for s in score_request(request)}
    assert scores["left"] == scores["right"] > max(scores["up"], scores["down"])
    assert choose_move(request) == "right"
    assert answer_moves("baseline", [request]) == ["right"]


def test_a_turn_where_every_move_is_fatal_answers_up_even_into_a_wall() -> None:
    # top-left corner, own body below, another snake's body to the right: up is the wall
    me = {"id": "me", "body": [(0, 6), (0, 5), (0, 4)], "health": 100}
    other = {"id": "it", "body": [(2, 5), (2, 6), (1, 6), (1, 5), (1, 4)], "health": 100}
    request = _request(7, 7, [me, other], [], 0)
    assert all(s.total_score == -1000 for s in score_request(request))
    assert choose_move(request) == "up"
    assert answer_moves("baseline", [request]) == ["up"]


def test_head_to_head_terms_add_up_over_every_enemy() -> None:
    me = {"id": "me", "body": [(3, 3), (3, 2), (3, 1)], "health": 100}
    left = {"id": "a", "body": [(2, 4), (1, 4), (0, 4), (0, 5)], "health": 100}
    right = {"id": "b", "body": [(4, 4), (5, 4), (6, 4), (6, 5)], "health": 100}
    request = _request(7, 7, [me, left, right], [], 0)
    up = score_request(request)[0]
    assert up.score_breakdown["lose_head_to_head"] == -500
    assert up.total_score == sum(up.score_breakdown.values()) - 500  # two enemies, one map entry
    assert _batched_totals([request])[0] == _reference_totals(request)


def test_every_ruleset_plays_the_default_weights() -> None:
    for ruleset in ("standard", "royale", "constrictor", "wrapped", ""):
        for longest in (True, False):
            assert weights_for(ruleset, longest=longest) == ScoringWeights()


def test_rust_f32_rounding_is_kept() -> None:
    assert [rust_round(f32(v)) for v in (0.5, 1.5, 2.5, -0.5, 0.49999997)] == [1, 2, 3, -1, 0]
    floors = ratio_floors(torch.device("cpu")).numpy()
    for length in range(1, 700):
        for open_squares in range(122):
            ratio = f32(open_squares) / f32(length)
            expected = [ratio < CRITICAL_RATIO, ratio < SEVERE_RATIO, ratio < MODERATE_RATIO]
            assert [open_squares < floor for floor in floors[length]] == expected
    assert [min_food_space(length) for length in range(1, 300)] == [7 * length // 10 for length in range(1, 300)]
