"""The scalar go-battleclank reference against the real bot's recorded moves, and its rules one by one.

The agreement test reads ``../shared/data/gbc-moves`` in place (skipped where that folder is absent) and
scores a fixed subset — every 4th recorded position, 3,000 positions under all 12 configs (36,000
decisions) — because all 144,000 take over a minute of wall time on the shared 2-core machine. The full
run is ``python bench/gbc_agreement.py`` (100.00% on every config at the time of writing), and
``--misses N`` there lists each miss with both moves' term-by-term breakdowns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from _recorded_moves import iter_positions, read_configs
from _shared import GBC_MOVES

from optuna_clank.arena.snakes.gbc.reference import FATAL_SCORE, TERMS, board_from_request, score_board, score_moves
from optuna_clank.arena.snakes.gbc.schema import (
    GREEDY_INERT_KEYS,
    GREEDY_READ_KEYS,
    GbcConfig,
    default_gbc_config,
    read_gbc_config,
)

RECORDED = GBC_MOVES
MIN_AGREEMENT = 0.98
EVERY_NTH_POSITION = 4


def _snake(sid: str, body: Iterable[tuple[int, int]], health: int) -> dict[str, Any]:
    cells = [{"x": x, "y": y} for x, y in body]
    return {"id": sid, "name": sid, "health": health, "body": cells, "head": cells[0], "length": len(cells)}


def _request(
    you: Iterable[tuple[int, int]],
    enemy: Iterable[tuple[int, int]] | None = None,
    *,
    health: int = 90,
    food: Iterable[tuple[int, int]] = (),
    turn: int = 10,
) -> dict[str, Any]:
    me = _snake("me", you, health)
    snakes = [me] if enemy is None else [me, _snake("them", enemy, 90)]
    board = {"width": 11, "height": 11, "food": [{"x": x, "y": y} for x, y in food], "hazards": [], "snakes": snakes}
    return {"game": {"id": "t"}, "turn": turn, "board": board, "you": me}


# --- the recorded moves -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def agreement() -> dict[str, tuple[int, int]]:
    """``config id -> (hits, positions)`` over every 4th recorded position, computed once for the module."""
    if not (RECORDED / "positions.jsonl.gz").is_file():
        pytest.skip(f"no recorded go-battleclank moves at {RECORDED} (shared data not present)")
    configs = read_configs(RECORDED)
    hits = dict.fromkeys(configs, 0)
    positions = 0
    for position in iter_positions(RECORDED, EVERY_NTH_POSITION):
        positions += 1
        board = board_from_request(position.request)
        for cid, config in configs.items():
            hits[cid] += score_board(board, config).move == position.moves[cid]
    return {cid: (hit, positions) for cid, hit in hits.items()}


def test_reference_picks_the_bots_move_under_every_recorded_config(agreement: dict[str, tuple[int, int]]) -> None:
    assert len(agreement) == 12
    assert all(positions == 3000 for _, positions in agreement.values())
    for cid, (hits, positions) in agreement.items():
        print(f"gbc reference vs go-battleclank, config {cid}: {hits}/{positions} = {hits / positions:.2%}")
    below = {cid: hits / positions for cid, (hits, positions) in agreement.items() if hits / positions < MIN_AGREEMENT}
    assert not below, f"agreement under {MIN_AGREEMENT:.0%}: {below}"


# --- single rules ---------------------------------------------------------------------------------------------------


def test_a_fatal_move_scores_a_flat_minus_ten_thousand_with_no_terms() -> None:
    decision = score_moves(_request([(0, 5), (1, 5), (2, 5)], [(9, 9), (9, 8), (9, 7)]), default_gbc_config())
    for move in ("left", "right"):  # off the board; into our own neck
        assert decision.scores[move].fatal
        assert decision.scores[move].total == FATAL_SCORE
        assert not decision.scores[move].terms
    assert not decision.scores["up"].fatal and set(decision.scores["up"].terms) == set(TERMS)


def test_a_fatal_move_outranks_a_safe_move_buried_under_penalties() -> None:
    config = read_gbc_config({"weights": {"head_collision": 50000.0}})
    # We sit in the bottom-left corner heading down; only "right" is free, and a longer enemy head touches it.
    request = _request([(0, 0), (0, 1), (1, 1), (1, 2)], [(2, 0), (3, 0), (4, 0), (5, 0), (6, 0)])
    decision = score_moves(request, config)
    right = decision.scores["right"]
    assert not right.fatal and right.terms["head_collision"] == -50000.0
    assert right.total < FATAL_SCORE
    assert decision.move == "up" and decision.scores["up"].fatal  # the first of the fatal moves wins
    assert not decision.cutoff_kill


def test_a_cutoff_kill_bypasses_scoring() -> None:
    # Both heading up; the enemy runs along the left wall, we are one lane in and two cells ahead.
    request = _request([(1, 6), (1, 5), (1, 4), (1, 3)], [(0, 4), (0, 3), (0, 2)])
    config = default_gbc_config().with_values({"weights.straight_movement": 1e6})
    decision = score_moves(request, config)
    assert decision.cutoff_kill
    assert decision.move == "left"
    assert decision.scores["up"].total > decision.scores["left"].total  # scoring alone would go straight on


def test_no_cutoff_kill_when_we_are_not_far_enough_ahead() -> None:
    request = _request([(1, 5), (1, 4), (1, 3), (1, 2)], [(0, 4), (0, 3), (0, 2)])  # one cell ahead only
    decision = score_moves(request, default_gbc_config().with_values({"weights.straight_movement": 1e6}))
    assert not decision.cutoff_kill and decision.move == "up"


def test_a_zero_space_weight_removes_only_the_space_term() -> None:
    request = _request([(5, 5), (5, 4), (5, 3)], [(9, 9), (9, 8), (9, 7)], food=[(2, 8)])
    weighted = score_moves(request, default_gbc_config())
    unweighted = score_moves(request, default_gbc_config().with_values({"weights.space": 0.0}))
    for move in ("up", "left", "right"):
        with_space, without = weighted.scores[move], unweighted.scores[move]
        assert with_space.terms["space"] > 0 and without.terms["space"] == 0.0
        others = {t: v for t, v in with_space.terms.items() if t != "space"}
        assert others == {t: v for t, v in without.terms.items() if t != "space"}
        assert without.total == pytest.approx(with_space.total - with_space.terms["space"])


def test_equal_scores_go_to_the_first_move_in_up_down_left_right_order() -> None:
    # Alone in the centre on turn 0 (body stacked) with every configurable weight at 0: all four moves tie.
    decision = score_moves(_request([(5, 5), (5, 5), (5, 5)], turn=0), read_gbc_config({}))
    totals = {move: score.total for move, score in decision.scores.items()}
    assert len(set(totals.values())) == 1 and not any(s.fatal for s in decision.scores.values())
    assert decision.move == "up"


def test_a_missing_max_depth_caps_every_flood_fill_at_one_cell() -> None:
    decision = score_moves(_request([(5, 5), (5, 4), (5, 3)], [(9, 9), (9, 8), (9, 7)]), read_gbc_config({}))
    assert decision.scores["up"].facts["next_space"] == pytest.approx(1 / 121)
    full = score_moves(_request([(5, 5), (5, 4), (5, 3)], [(9, 9), (9, 8), (9, 7)]), default_gbc_config())
    assert full.scores["up"].facts["next_space"] > 0.5


def test_a_star_distance_counts_the_start_cell_when_hungry() -> None:
    you, enemy, food = [(5, 5), (5, 4), (5, 3)], [(10, 0), (10, 1), (10, 2)], [(5, 8)]
    hungry = score_moves(_request(you, enemy, health=40, food=food), default_gbc_config())
    fed = score_moves(_request(you, enemy, health=60, food=food), default_gbc_config())
    assert hungry.scores["up"].facts["food_factor"] == pytest.approx(1 / 3)  # path (5,6) (5,7) (5,8)
    assert fed.scores["up"].facts["food_factor"] == pytest.approx(1 / 2)  # Manhattan steps
    no_astar = default_gbc_config().with_values({"search.use_astar": False})
    assert score_moves(_request(you, enemy, health=40, food=food), no_astar).scores["up"].facts[
        "food_factor"
    ] == pytest.approx(1 / 2)


def test_every_move_off_our_head_pays_the_dead_end_penalty() -> None:
    # The bot's look-ahead fills from our simulated head, which its fill counts as blocked (0 cells).
    decision = score_moves(_request([(5, 5), (5, 4), (5, 3)], [(9, 9), (9, 8), (9, 7)]), default_gbc_config())
    for move in ("up", "left", "right"):
        assert decision.scores[move].terms["dead_end"] == -100.0


class _ReadRecorder(GbcConfig):
    """A config that notes every key the reference looks up."""

    def __init__(self, base: GbcConfig, seen: set[str]) -> None:
        super().__init__(dict(base))
        object.__setattr__(self, "_seen", seen)

    def __getitem__(self, name: str) -> Any:
        self._seen.add(name)
        return super().__getitem__(name)


def _varied_requests() -> list[Mapping[str, Any]]:
    you, enemy = [(5, 5), (5, 4), (5, 3), (5, 2)], [(6, 8), (6, 9), (7, 9)]
    requests = [_request(you, enemy, health=h, food=[(5, 7)], turn=t) for h in (10, 40, 60, 75, 95) for t in (5, 80)]
    longer = [(4, 5), (4, 4), (4, 3), (3, 3), (2, 3), (2, 4), (2, 5), (2, 6), (2, 7), (2, 8)]
    requests += [_request(you, longer, health=h, food=[(5, 7)]) for h in (10, 40, 60, 75)]  # outmatched
    # Running up beside an enemy on the left wall; its tail cell is free, so turning left is legal.
    requests.append(_request([(1, 9), (1, 8)], [(0, 10), (0, 9)]))  # edge 1 away, enemy as long
    requests.append(_request([(1, 8), (1, 7), (1, 6)], [(0, 10), (0, 9)]))  # edge 2 away, enemy shorter
    # Food at (0, 1) in a pocket our own body walls off: eating it is a death trap, at every health band.
    coil = [(1, 1), (1, 2), (0, 2), (0, 3), (0, 4), (1, 4), (2, 4), (2, 3), (2, 2), (2, 1), (2, 0)]
    requests += [_request(coil, [(9, 9), (9, 8), (9, 7)], health=h, food=[(0, 1)]) for h in (20, 40, 60)]
    return requests


def test_the_reference_reads_exactly_the_keys_the_schema_calls_live() -> None:
    seen: set[str] = set()
    config = _ReadRecorder(default_gbc_config(), seen)
    for request in _varied_requests():
        score_moves(request, config)
    assert seen <= GREEDY_READ_KEYS, sorted(seen - GREEDY_READ_KEYS)
    # The two space-reduction penalties are only looked up once their (never true) condition holds.
    assert GREEDY_READ_KEYS - seen == {"traps.space_reduction_60", "traps.space_reduction_50"}
    assert GREEDY_READ_KEYS - seen <= GREEDY_INERT_KEYS


def test_the_emergency_wall_escape_only_ever_penalises_leaving_the_wall() -> None:
    # On the left wall heading up; a longer enemy comes head-on two cells above; (0, 6) is walled by a third
    # snake and (0, 4) is our neck, so no sideways move exists: the bot docks the move away from the wall 40.
    request = _request([(0, 5), (0, 4), (0, 3)], [(0, 7), (0, 8), (0, 9), (0, 10), (1, 10)])
    request["board"]["snakes"].append(_snake("third", [(1, 6), (0, 6), (1, 7)], 90))
    decision = score_moves(request, default_gbc_config())
    assert decision.scores["right"].terms["wall_escape"] == -40.0
    assert [m for m, s in decision.scores.items() if not s.fatal] == ["right"]  # toward the wall is off the board


def test_turning_toward_a_parallel_enemy_near_the_edge_costs_the_configured_penalty() -> None:
    config = default_gbc_config()
    close = score_moves(_request([(1, 9), (1, 8)], [(0, 10), (0, 9)]), config)  # 1 from the edge, enemy as long
    assert close.scores["left"].terms["parallel_edge"] == -(
        config["tactics.parallel_edge_close_penalty"] * config["tactics.parallel_edge_larger_multiplier"]
    )
    assert close.scores["up"].terms["parallel_edge"] == 0.0  # straight on keeps the lane
    near = score_moves(_request([(1, 8), (1, 7), (1, 6)], [(0, 10), (0, 9)]), config)  # 2 away, enemy shorter
    assert near.scores["left"].terms["parallel_edge"] == -config["tactics.parallel_edge_base_penalty"]
