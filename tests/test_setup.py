"""Batched start boards against the reference rules' setup, draw for draw."""

from __future__ import annotations

import pytest
import torch

from optuna_clank.arena import rules
from optuna_clank.arena.counter_rng import hash32 as tensor_hash32
from optuna_clank.arena.grid import grid_for
from optuna_clank.arena.rng import KeyedRandom, hash32
from optuna_clank.arena.start_boards import has_fixed_starts, start_games
from optuna_clank.arena.state import board_from_state


def test_python_and_tensor_hashes_agree() -> None:
    values = [0, 1, 2, 0xFFFFFFFF, 0x12345678, 2**40 + 17, 987654321]
    expected = [hash32(v) for v in values]
    assert tensor_hash32(torch.tensor(values, dtype=torch.int64)).tolist() == expected
    assert len(set(expected)) == len(expected)


@pytest.mark.parametrize(("side", "n_snakes"), [(7, 2), (7, 4), (7, 8), (11, 1), (11, 2), (11, 8), (19, 5), (25, 3)])
def test_batched_setup_equals_reference_setup(side: int, n_snakes: int) -> None:
    assert has_fixed_starts(side, side, n_snakes)
    ids = [f"s{i}" for i in range(n_snakes)]
    keys = [hash32(i * 7919 + side) for i in range(300)]
    state = start_games(
        grid_for(side, side),
        [ids] * len(keys),
        game_ids=range(len(keys)),
        keys=keys,
        seat_players=[[0] * n_snakes] * len(keys),
    )
    for game, key in enumerate(keys):
        expected = rules.create_board(side, side, ids, KeyedRandom(key))
        assert board_from_state(state, game, ids) == expected


def test_setup_is_varied() -> None:
    """300 keys cover nearly all 96 possible 1v1 starts (24 ordered square pairs x 2 x 2 foods)."""
    ids = ["a", "b"]
    keys = list(range(300))
    state = start_games(grid_for(11, 11), [ids] * 300, game_ids=range(300), keys=keys, seat_players=[[0, 1]] * 300)
    boards = {repr(board_from_state(state, g, ids)) for g in range(300)}
    assert len(boards) >= 90


def test_other_boards_use_the_reference_setup() -> None:
    ids = ["a", "b", "c"]
    keys = [11, 12, 13]
    assert not has_fixed_starts(9, 13, 3)
    state = start_games(grid_for(9, 13), [ids] * 3, game_ids=range(3), keys=keys, seat_players=[[0, 0, 0]] * 3)
    for game, key in enumerate(keys):
        assert board_from_state(state, game, ids) == rules.create_board(9, 13, ids, KeyedRandom(key))
