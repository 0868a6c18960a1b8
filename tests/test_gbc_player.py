"""The batched ``gbc`` player: the real bot's recorded moves, the scalar reference, batching, games.

The recorded moves are read in place from ``../shared/data/gbc-moves`` (skipped where absent); all
12,000 positions of a config run as one batch. Positions from arena games (duels and free-for-alls,
under the bot's defaults and under random configs) are checked against the scalar reference's scores
exactly: same float64 total for every move, same choice.
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from _gbc_requests import batch_requests, choose_for_requests
from _recorded_moves import iter_positions, read_configs
from _shared import GBC_MOVES

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.match import play_match
from optuna_clank.arena.opponents import UnknownOpponentError, make_opponent
from optuna_clank.arena.players import Seats
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.gbc.reference import board_from_request, score_board
from optuna_clank.arena.snakes.gbc.schema import GBC_DEFAULTS, GBC_KEYS, GbcConfig, default_gbc_config
from optuna_clank.arena.standard import MOVES
from optuna_clank.spec import load_spec

RECORDED = GBC_MOVES
MIN_AGREEMENT = 0.98


# --- the real bot's recorded moves ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded() -> tuple[list[dict[str, Any]], list[dict[str, str]], dict[str, GbcConfig]]:
    if not (RECORDED / "positions.jsonl.gz").is_file():
        pytest.skip(f"no recorded go-battleclank moves at {RECORDED} (shared data not present)")
    positions = list(iter_positions(RECORDED))
    return [p.request for p in positions], [p.moves for p in positions], read_configs(RECORDED)


def test_gbc_picks_the_bots_recorded_move_under_every_config(recorded) -> None:
    requests, moves, configs = recorded
    assert len(configs) == 12 and len(requests) == 12_000
    batches = batch_requests(requests)
    agreement = {}
    for config_id, config in configs.items():
        snake = GbcSnake(config)
        hits = 0
        for batch in batches:
            chosen = snake.choose(TurnView(batch.state), batch.seats).tolist()
            hits += sum(MOVES[m] == moves[i][config_id] for i, m in zip(batch.indices, chosen, strict=True))
        agreement[config_id] = hits / len(requests)
        print(f"gbc vs go-battleclank, config {config_id}: {hits}/{len(requests)} = {hits / len(requests):.2%}")
    below = {cid: share for cid, share in agreement.items() if share < MIN_AGREEMENT}
    assert not below, f"agreement under {MIN_AGREEMENT:.0%}: {below}"


# --- the scalar reference, on positions from arena games ----------------------------------------------------------


def _random_config(seed: int) -> GbcConfig:
    """The bot's defaults with about half the numeric keys scaled (some to 0), as a tuner would try."""
    rng = random.Random(seed)
    changes: dict[str, Any] = {}
    for key in GBC_KEYS:
        value = GBC_DEFAULTS[key.name]
        if key.kind not in (int, float) or key.name.startswith("search.") or rng.random() < 0.5:
            continue
        scaled = 0 if rng.random() < 0.1 else value * rng.uniform(0.3, 3.0)
        changes[key.name] = round(scaled) if key.kind is int else float(scaled)
    return default_gbc_config().with_values(changes)


def _requests_from_games(history: Mapping[int, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A /move request for every live snake of every recorded frame that had moves to make."""
    requests = []
    for frames in history.values():
        for frame in frames:
            if "moves" not in frame:
                continue
            for snake in frame["board"]["snakes"]:
                requests.append({"turn": frame["turn"], "board": frame["board"], "you": snake})
    return requests


def _assert_matches_reference(snake: GbcSnake, requests: Sequence[dict[str, Any]]) -> int:
    """Every move's float64 total and the choice equal the reference's; returns the positions checked."""
    checked = 0
    for batch in batch_requests(requests):
        out = snake.scores(TurnView(batch.state), batch.seats)
        totals, choices = out["total"].tolist(), out["choice"].tolist()
        for row, index in enumerate(batch.indices):
            reference = score_board(board_from_request(requests[index]), snake.config)
            expected = [reference.scores[m].total for m in MOVES]
            assert totals[row] == expected, (requests[index], totals[row], expected)
            assert MOVES[choices[row]] == reference.move, requests[index]
            checked += 1
    return checked


@pytest.mark.parametrize("config_seed", [None, 3, 11])
def test_batched_scores_equal_the_reference_on_duel_positions(config_seed: int | None) -> None:
    config = default_gbc_config() if config_seed is None else _random_config(config_seed)
    snake = GbcSnake(config)
    result = play_match(snake, "baseline", games=4, seed=5 + (config_seed or 0), record=range(4))
    requests = _requests_from_games(result.history)
    assert _assert_matches_reference(snake, requests) == len(requests) > 200


def test_batched_scores_equal_the_reference_on_free_for_all_positions() -> None:
    snake = GbcSnake(_random_config(7))
    opponents = ["baseline", "heuristic", GbcSnake(name="gbc-default")]
    result = play_match(snake, opponents, games=3, seed=2, mode="free-for-all", record=range(3), max_turns=300)
    requests = _requests_from_games(result.history)
    assert any(len(r["board"]["snakes"]) >= 3 for r in requests)
    assert _assert_matches_reference(snake, requests) == len(requests) > 200


def _random_snake(rng: random.Random, taken: set[tuple[int, int]], size: tuple[int, int], sid: str) -> dict | None:
    """A self-avoiding body on free cells, sometimes with a stacked tail (just ate) or fully stacked (turn 0)."""
    width, height = size
    head = (rng.randrange(width), rng.randrange(height))
    if head in taken:
        return None
    body = [head]
    for _ in range(rng.choice([1, 2, 3, 4, 6, 9, 14, 20])):
        x, y = body[-1]
        steps = [(x + dx, y + dy) for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0))]
        free = [p for p in steps if 0 <= p[0] < width and 0 <= p[1] < height and p not in taken and p not in body]
        if not free:
            break
        body.append(rng.choice(free))
    if rng.random() < 0.3:
        body.append(body[-1])
    if rng.random() < 0.05:
        body = [body[0]] * 3
    taken.update(body)
    health = rng.choice([100, 99, 90, 81, 75, 60, 51, 49, 45, 29, 10])
    cells = [{"x": x, "y": y} for x, y in body]
    return {"id": sid, "name": sid, "health": health, "body": cells, "head": cells[0], "length": len(cells)}


def _random_requests(seed: int, size: tuple[int, int], count: int) -> list[dict[str, Any]]:
    """Random (legal-looking) boards of 2-4 snakes with food, one request per snake."""
    rng = random.Random(seed)
    requests: list[dict[str, Any]] = []
    while len(requests) < count:
        taken: set[tuple[int, int]] = set()
        snakes = [_random_snake(rng, taken, size, f"s{i}") for i in range(rng.choice([2, 2, 3, 4]))]
        snakes = [s for s in snakes if s is not None]
        free = [(x, y) for x in range(size[0]) for y in range(size[1]) if (x, y) not in taken]
        food = rng.sample(free, min(len(free), rng.choice([0, 1, 2, 3, 5])))
        board = {
            "width": size[0],
            "height": size[1],
            "food": [{"x": x, "y": y} for x, y in food],
            "hazards": [],
            "snakes": snakes,
        }
        turn = rng.choice([0, 3, 49, 50, 120])
        requests += [{"turn": turn, "board": board, "you": snake} for snake in snakes]
    return requests


@pytest.mark.parametrize("size", [(11, 11), (7, 7), (9, 13)])
def test_batched_scores_equal_the_reference_on_random_boards(size: tuple[int, int]) -> None:
    """Random boards reach rules that real games seldom do (wall escape, parallel edges, cutoff kills)."""
    requests = _random_requests(sum(size), size, 500)
    for config in (default_gbc_config(), _random_config(sum(size))):
        assert _assert_matches_reference(GbcSnake(config), requests) == len(requests)


def test_wall_escape_rule_matches_the_reference() -> None:
    """At the left wall heading up, a longer snake head-on 3 ahead, both wall-side lanes blocked."""

    def snake(sid: str, cells: list[tuple[int, int]], health: int = 90) -> dict[str, Any]:
        body = [{"x": x, "y": y} for x, y in cells]
        return {"id": sid, "name": sid, "health": health, "body": body, "head": body[0], "length": len(body)}

    you = snake("you", [(0, 5), (0, 4), (0, 3)])
    enemy = snake("enemy", [(0, 8), (0, 9), (0, 10), (1, 10), (2, 10)])
    blocker = snake("blocker", [(2, 6), (1, 6), (0, 6), (0, 7)])
    board = {"width": 11, "height": 11, "food": [{"x": 9, "y": 1}], "hazards": [], "snakes": [you, enemy, blocker]}
    request = {"turn": 30, "board": board, "you": you}
    snake_ = GbcSnake()
    batch = batch_requests([request])[0]
    terms = snake_.scores(TurnView(batch.state), batch.seats)
    assert terms["total"][0, :3].tolist() == [-10000.0] * 3  # up, down and left are fatal
    assert float(terms["wall_escape"][0, 3]) == -40.0  # turning away from the wall
    assert _assert_matches_reference(snake_, [request]) == 1


# --- batching ----------------------------------------------------------------------------------------------------


def test_a_games_move_does_not_depend_on_the_other_rows() -> None:
    result = play_match(GbcSnake(), "baseline", games=4, seed=9, record=range(4))
    requests = _requests_from_games(result.history)[::3]
    snake = GbcSnake(_random_config(5))
    together = choose_for_requests(snake, requests)
    alone = [choose_for_requests(snake, [request])[0] for request in requests[:15]]
    assert together[:15] == alone
    backwards = choose_for_requests(snake, requests[::-1])[::-1]
    assert together == backwards


def test_choose_answers_only_the_seats_asked_for() -> None:
    result = play_match(GbcSnake(), "baseline", games=2, seed=4, record=[0])
    request = _requests_from_games(result.history)[20]
    batch = batch_requests([request, request])[0]
    view = TurnView(batch.state)
    both = GbcSnake().choose(view, batch.seats)
    one = GbcSnake().choose(view, Seats(batch.seats.games[1:], batch.seats.seats[1:]))
    assert both.shape == (2,) and one.shape == (1,)
    assert int(both[0]) == int(both[1]) == int(one[0])


# --- games and opponent names ------------------------------------------------------------------------------------


def test_gbc_plays_whole_games_against_baseline() -> None:
    result = play_match(GbcSnake(), "baseline", games=8, seed=1)
    assert result.games == 8
    assert all(o.turns > 0 for o in result.outcomes)
    assert result.wins + result.losses + result.draws == 8


def test_gbc_is_a_builtin_opponent_with_the_bots_defaults() -> None:
    snake = make_opponent("gbc")
    assert isinstance(snake, GbcSnake) and snake.name == "gbc"
    assert dict(snake.config) == dict(GBC_DEFAULTS)


def test_gbc_yaml_opponent_reads_missing_keys_as_zero(tmp_path: Path) -> None:
    text = "weights:\n  space: 3\n  cutoff: 1e+03\nsearch:\n  max_depth: 150\n  use_astar: y\n"
    (tmp_path / "mine.yaml").write_text(text)
    snake = make_opponent("gbc:mine.yaml", base_dir=tmp_path)
    assert isinstance(snake, GbcSnake) and snake.name == "gbc-mine"
    assert snake.config["weights.space"] == 3.0 and snake.config["search.max_depth"] == 150
    assert snake.config["weights.cutoff"] == 1000.0 and snake.config["search.use_astar"] is True  # yaml.v2 scalars
    assert snake.config["weights.head_collision"] == 0.0  # left out of the YAML: 0, as the bot reads it
    (tmp_path / "empty.yaml").write_text("")
    zeros = make_opponent(f"gbc:{tmp_path / 'empty.yaml'}").config  # an empty YAML decodes to all zeros
    assert all(not zeros[name] for name in zeros)
    result = play_match(snake, make_opponent("gbc:empty.yaml", base_dir=tmp_path), games=4, seed=2)
    assert result.games == 4


def test_gbc_yaml_opponent_refuses_a_missing_file_and_warns_on_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(UnknownOpponentError, match="cannot read"):
        make_opponent("gbc:nowhere.yaml", base_dir=tmp_path)
    (tmp_path / "typo.yaml").write_text("weights:\n  space: lots\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        snake = make_opponent("gbc:typo.yaml", base_dir=tmp_path)
    assert any("weights.space" in str(w.message) for w in caught)
    assert dict(snake.config) == dict(GBC_DEFAULTS)  # the bot falls back to all its defaults


def test_gbc_warns_about_keys_the_bot_would_ignore() -> None:
    with pytest.warns(UserWarning, match="ignores these config keys: weights.space"):
        snake = GbcSnake({"weights.space": 3.0})  # dotted names are not the bot's YAML shape
    assert snake.config["weights.space"] == 0.0


def test_a_study_spec_accepts_a_gbc_opponent_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "rivals").mkdir()
    (tmp_path / "rivals" / "bot.yaml").write_text("weights:\n  space: 2\n")
    spec_file = tmp_path / "my.toml"
    spec_file.write_text(
        '[study]\nname = "t"\n\n[benchmark]\nopponents = ["gbc", "gbc:rivals/bot.yaml"]\n\n'
        '[search_space]\n"weights.space" = {}\n'
    )
    spec = load_spec(spec_file)
    assert spec.benchmark.opponents == ("gbc", f"gbc:{tmp_path / 'rivals' / 'bot.yaml'}")
    assert make_opponent(spec.benchmark.opponents[1]).config["weights.space"] == 2.0
