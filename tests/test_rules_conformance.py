"""Every official rules test vector (``cases.json``) against the reference rules engine.

One test per case, named by the case id. Only the fields a case lists in ``checked`` are compared,
as the official Go test compared them; partial snake objects are matched by list position.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest
from _cases import case_params, require_cases

from optuna_clank.arena import rules
from optuna_clank.arena.rng import MaxRandom, MinRandom

if TYPE_CHECKING:
    from collections.abc import Callable

    from optuna_clank.arena.rng import GoRandom

# The official stage tests pass this list so that a stage does not treat the call as initialisation.
_DUMMY_MOVES = [{"id": "test-mock-move", "move": "mocked"}]

_FAKE_RNGS: dict[str, Callable[[], GoRandom]] = {"min": MinRandom, "max": MaxRandom}

_PREDICATES: dict[str, Callable[[dict[str, Any]], object]] = {
    "default_move": lambda args: rules.default_move(args["body"]),
    "is_out_of_health": lambda args: rules.is_out_of_health(args["health"]),
    "is_out_of_bounds": lambda args: rules.is_out_of_bounds(args["width"], args["height"], args["body"]),
    "has_body_collided": lambda args: rules.has_body_collided(args["snake_body"], args["other_body"]),
    "has_lost_head_to_head": lambda args: rules.has_lost_head_to_head(args["snake_body"], args["other_body"]),
}

_KINDS = ("turn", "turn_sequence", "game_over", "stage", "food_spawn", "setup", "predicate")


def _is_solo(case: dict[str, Any]) -> bool:
    """The solo ruleset, or the standard one built ``WithSolo(true)``, ends only at zero snakes."""
    return case.get("ruleset") == "solo" or case.get("solo") is True


def _moves_as_mapping(moves: list[dict[str, str]]) -> dict[str, str]:
    """The case's move list as the mapping :func:`rules.step_board` takes (ids must be unique)."""
    mapping = {entry["id"]: entry["move"] for entry in moves}
    assert len(mapping) == len(moves), "duplicate move ids cannot be expressed as a mapping"
    return mapping


def _snake_fields(checked: list[str]) -> list[str]:
    """The snake fields a case compares (``snakes.health`` -> ``health``)."""
    return [name.removeprefix("snakes.") for name in checked if name.startswith("snakes.")]


def _assert_snakes_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]], fields):
    """Compare only ``fields`` of each snake, matching the partial expected snakes by position."""
    assert len(actual) == len(expected)
    for position, (got, want) in enumerate(zip(actual, expected, strict=True)):
        for field in fields:
            assert got[field] == want[field], f"snake #{position}, field {field!r}"


def _empty_board(width: int, height: int, snake_ids: list[str]) -> dict[str, Any]:
    """A board with unplaced snakes, the starting point of the official setup functions."""
    return {
        "turn": 0,
        "width": width,
        "height": height,
        "food": [],
        "hazards": [],
        "snakes": [{"id": snake_id} for snake_id in snake_ids],
    }


def _assert_rules_error(expected_text: str, call: Callable[[], object]) -> None:
    """``call`` must raise :class:`rules.RulesError` whose text starts with the official text."""
    with pytest.raises(rules.RulesError) as caught:
        call()
    assert str(caught.value).startswith(expected_text)


def test_every_case_kind_is_handled() -> None:
    """A kind this module does not know would silently lose its cases; refuse that."""
    cases = require_cases()
    assert {case["kind"] for case in cases} <= set(_KINDS)
    assert len({case["id"] for case in cases}) == len(cases)


@pytest.mark.parametrize("case", case_params(("turn",)))
def test_turn(case: dict[str, Any]) -> None:
    """One ``Execute`` call; and ``step_board`` must agree with it, one turn later."""
    board, moves, solo = case["input"], case["moves"], _is_solo(case)
    damage = case.get("settings", {}).get("hazardDamagePerTurn", 0)
    if case["expected_error"]:
        _assert_rules_error(
            case["expected_error"],
            lambda: rules.execute(board, moves, solo=solo, hazard_damage_per_turn=damage),
        )
        _assert_rules_error(case["expected_error"], lambda: rules.step_board(board, _moves_as_mapping(moves)))
        return

    _, after = rules.execute(board, moves, solo=solo, hazard_damage_per_turn=damage)
    for field in case["checked"]:
        assert after[field] == case["expected"][field], field
    assert after["turn"] == board["turn"]

    if moves and damage == 0 and not rules.is_game_over(board, solo=solo):
        stepped = rules.step_board(board, _moves_as_mapping(moves))
        assert stepped["snakes"] == case["expected"]["snakes"]
        assert stepped["food"] == case["expected"]["food"]
        assert stepped["turn"] == board["turn"] + 1


@pytest.mark.parametrize("case", case_params(("turn_sequence",)))
def test_turn_sequence(case: dict[str, Any]) -> None:
    """Successive ``Execute`` calls; the game-over flag of the last one and the final snakes."""
    board, game_over = case["input"], False
    for moves in case["moves_sequence"]:
        game_over, board = rules.execute(board, moves, solo=_is_solo(case))
    assert game_over == case["expected"]["game_over_after_last_step"]
    fields = _snake_fields(case["checked"])
    _assert_snakes_match(board["snakes"], case["expected"]["snakes"], fields)


@pytest.mark.parametrize("case", case_params(("game_over",)))
def test_game_over(case: dict[str, Any]) -> None:
    """The flag ``Execute`` returns, and the stand-alone predicate."""
    solo = _is_solo(case)
    game_over, _ = rules.execute(case["input"], case["moves"], solo=solo)
    assert game_over == case["expected"]["game_over"]
    assert rules.is_game_over(case["input"], solo=solo) == case["expected"]["game_over"]


def _run_stage(case: dict[str, Any]) -> dict[str, Any]:
    """Run the single pipeline stage a case names, on its input."""
    board, stage = case["input"], case["stage"]
    moves = case["moves"] if case["moves"] is not None else _DUMMY_MOVES
    if stage == "movement":
        return rules.move_snakes(board, case["moves"])
    if stage == "starvation":
        return rules.reduce_health(board, moves)
    if stage == "hazard_damage":
        damage = case["settings"]["hazardDamagePerTurn"]
        return rules.damage_hazards(board, moves, damage_per_turn=damage)
    if stage == "feed":
        return rules.feed_snakes(board)
    if stage == "elimination":
        return rules.eliminate_snakes(board, moves)
    raise AssertionError(f"unknown stage {stage!r}")


@pytest.mark.parametrize("case", case_params(("stage",)))
def test_stage(case: dict[str, Any]) -> None:
    """One stage; on an error the (untouched) input is what the expectation describes."""
    untouched = copy.deepcopy(case["input"])
    if case["expected_error"]:
        _assert_rules_error(case["expected_error"], lambda: _run_stage(case))
        after = case["input"]
    else:
        after = _run_stage(case)
    assert case["input"] == untouched
    fields = _snake_fields(case["checked"])
    if fields:
        _assert_snakes_match(after["snakes"], case["expected"]["snakes"], fields)
    if "food" in case["checked"]:
        assert after["food"] == case["expected"]["food"]


@pytest.mark.parametrize("case", case_params(("food_spawn",)))
def test_food_spawn(case: dict[str, Any]) -> None:
    """The standard map's food spawning with a fake RNG: the exact food list, in order."""
    settings = case["settings"]
    after = rules.spawn_food(
        case["input"],
        _FAKE_RNGS[case["rand"]](),
        minimum_food=settings.get("minimumFood", 0),
        food_spawn_chance=settings.get("foodSpawnChance", 0),
    )
    assert after["food"] == case["expected"]["food"]


def _check_place_snakes(case: dict[str, Any], rng: GoRandom) -> None:
    """``PlaceSnakesAutomatically``: heads in snake order, stacked bodies of the start size."""
    board = _empty_board(case["width"], case["height"], case["snake_ids"])
    placed = rules.place_snakes(board, rng)
    assert [snake["body"][0] for snake in placed["snakes"]] == case["expected"]["snake_heads"]
    for snake in placed["snakes"]:
        assert len(snake["body"]) == case["expected"]["snake_length"]


def _check_default_board(case: dict[str, Any], rng: GoRandom) -> None:
    """``CreateDefaultBoardState`` = place snakes, then food: an error or the food count."""
    expected = case["expected"]

    def build() -> dict[str, Any]:
        board = _empty_board(case["width"], case["height"], case["snake_ids"])
        return rules.place_food(rules.place_snakes(board, rng), rng)

    if expected["error"]:
        _assert_rules_error(expected["error"], build)
        return
    board = build()
    assert len(board["food"]) == expected["num_food"]
    assert len(board["hazards"]) == expected["num_hazards"]


def _check_setup_board(case: dict[str, Any], rng: GoRandom) -> None:
    """``StandardMap.SetupBoard``: an error, or the exact snakes and food (in order)."""
    expected = case["expected"]

    def build() -> dict[str, Any]:
        return rules.create_board(case["width"], case["height"], case["snake_ids"], rng)

    if expected["error"]:
        _assert_rules_error(expected["error"], build)
        return
    board = build()
    assert board["food"] == expected["state"]["food"]
    assert board["snakes"] == expected["state"]["snakes"]
    assert board["turn"] == 0


_SETUP_CHECKS: dict[str, Callable[[dict[str, Any], GoRandom], None]] = {
    "PlaceSnakesAutomatically": _check_place_snakes,
    "CreateDefaultBoardState": _check_default_board,
    "StandardMap.SetupBoard": _check_setup_board,
}


@pytest.mark.parametrize("case", case_params(("setup",)))
def test_setup(case: dict[str, Any]) -> None:
    """Initial placement with a fake RNG, through the public setup functions."""
    _SETUP_CHECKS[case["function"]](case, _FAKE_RNGS[case["rand"]]())


@pytest.mark.parametrize("case", case_params(("predicate",)))
def test_predicate(case: dict[str, Any]) -> None:
    """The helper predicates on their own."""
    assert _PREDICATES[case["predicate"]](case["args"]) == case["expected"]
