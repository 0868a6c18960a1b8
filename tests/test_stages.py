"""Both engines run one stage list, and it is the official one.

The order is data (:data:`optuna_clank.arena.standard.STANDARD_STAGES`); the reference rules and the
batched engine each map every name in it to one function. These tests pin the list to the order
the official engine documents, check that each engine implements exactly that list, and play one
turn whose outcome depends on the order on both engines.
"""

from __future__ import annotations

from typing import Any

import torch

from optuna_clank.arena import engine, rules
from optuna_clank.arena.grid import grid_for
from optuna_clank.arena.rules.stages import STAGE_FUNCTIONS as REFERENCE_STAGES
from optuna_clank.arena.standard import GAME_OVER, MOVE_DELTAS, MOVES, STANDARD_STAGES, TURN_STAGES
from optuna_clank.arena.state import board_from_state, state_from_boards

# The standard ruleset's stage registry keys, in the order of the official `Execute` pipeline
# (BattlesnakeOfficial/rules, standard.go; ../shared/docs/RULES.md section 3).
OFFICIAL_STAGE_KEYS = (
    "game_over.standard",
    "movement.standard",
    "starvation.standard",
    "hazard_damage.standard",
    "feed_snakes.standard",
    "elimination.standard",
)


def test_the_stage_list_is_the_official_pipeline() -> None:
    assert tuple(f"{name}.standard" for name in STANDARD_STAGES) == OFFICIAL_STAGE_KEYS
    assert STANDARD_STAGES[0] == GAME_OVER
    assert (GAME_OVER, *TURN_STAGES) == STANDARD_STAGES


def test_both_engines_implement_exactly_the_stage_list() -> None:
    assert tuple(REFERENCE_STAGES) == STANDARD_STAGES
    assert tuple(engine.STAGE_FUNCTIONS) == STANDARD_STAGES


def test_the_batched_move_offsets_are_the_shared_move_deltas() -> None:
    grid = grid_for(7, 9)
    for index, move in enumerate(MOVES):
        dx, dy = MOVE_DELTAS[move]
        assert int(grid.move_offsets[index]) == grid.cell(3 + dx, 4 + dy) - grid.cell(3, 4)


def _snake(snake_id: str, squares: list[tuple[int, int]], health: int) -> dict[str, Any]:
    return {
        "id": snake_id,
        "body": [{"x": x, "y": y} for x, y in squares],
        "health": health,
        "eliminated_cause": "",
        "eliminated_by": "",
        "eliminated_on_turn": 0,
    }


def _order_sensitive_board() -> dict[str, Any]:
    """Snake "a" (health 1) moves onto food: it lives only if health drops, then feeding, then elimination."""
    return {
        "turn": 3,
        "width": 7,
        "height": 7,
        "food": [{"x": 1, "y": 2}, {"x": 3, "y": 3}],
        "hazards": [],
        "snakes": [
            _snake("a", [(1, 1), (1, 0), (0, 0)], health=1),
            _snake("b", [(5, 4), (5, 3), (5, 2)], health=50),
        ],
    }


def _assert_official_outcome(after: dict[str, Any]) -> None:
    """Movement, starvation, feeding, elimination in that order: "a" eats at 0 health and lives."""
    a, b = after["snakes"]
    assert (a["eliminated_cause"], a["health"], len(a["body"])) == ("", 100, 4)
    assert a["body"][0] == {"x": 1, "y": 2}
    assert (b["eliminated_cause"], b["health"], b["body"][0]) == ("", 49, {"x": 5, "y": 5})
    assert after["food"] == [{"x": 3, "y": 3}]


def test_the_reference_rules_play_the_stages_in_the_official_order() -> None:
    board = _order_sensitive_board()
    game_over, after = rules.execute(board, {"a": "up", "b": "up"})
    assert not game_over
    _assert_official_outcome(after)
    _assert_official_outcome(rules.step_board(board, {"a": "up", "b": "up"}))


def test_the_batched_engine_plays_the_stages_in_the_official_order() -> None:
    board = _order_sensitive_board()
    state = state_from_boards([board], game_ids=[0], keys=[1], seat_players=[[0, 1]])
    up = MOVES.index("up")
    over = engine.step(state, torch.tensor([[up, up]]), engine.FoodSettings(minimum_food=0, food_spawn_chance=0))
    assert over.tolist() == [False]
    _assert_official_outcome(board_from_state(state, 0, ["a", "b"]))


def test_game_over_is_a_stage_that_stops_the_turn() -> None:
    """The reference runs it first (nothing moves); the batched engine right after the turn's stages."""
    board = _order_sensitive_board()
    board["snakes"][1]["health"] = 1  # "b" starves this turn: one snake is left
    game_over, after = rules.execute(board, {"a": "up", "b": "up"})
    assert not game_over  # the official engine notices only on the next call ...
    assert after["snakes"][1]["eliminated_cause"] == rules.CAUSE_OUT_OF_HEALTH
    again_over, unchanged = rules.execute(after, {"a": "up"})
    assert again_over and unchanged == after  # ... where the game-over stage stops everything
    state = state_from_boards([board], game_ids=[0], keys=[1], seat_players=[[0, 1]])
    up = MOVES.index("up")
    over = engine.step(state, torch.tensor([[up, up]]), engine.FoodSettings(minimum_food=0, food_spawn_chance=0))
    assert over.tolist() == [True]  # the batched engine asks for no extra round of moves
    assert board_from_state(state, 0, ["a", "b"])["snakes"] == after["snakes"]
