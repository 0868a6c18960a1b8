"""Food spawning after a turn: the standard map's ``PostUpdateBoard``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.arena.rules.board import clone, free_squares, new_point, shuffle_in_place

if TYPE_CHECKING:
    from optuna_clank.arena.rng import GoRandom
    from optuna_clank.arena.rules.board import Board


def _append_random_food(board: Board, rng: GoRandom, count: int) -> None:
    """Shuffle the free squares (clear of heads) and append the first ``count`` as food."""
    candidates = free_squares(board, clear_of_heads=True)
    shuffle_in_place(rng, candidates)
    board["food"].extend(new_point(square) for square in candidates[:count])


def spawn_food(
    board: Board,
    rng: GoRandom,
    *,
    minimum_food: int = 1,
    food_spawn_chance: int = 15,
) -> Board:
    """The standard map's food spawning after a turn (official ``StandardMap.PostUpdateBoard``).

    Tops food up to ``minimum_food``; otherwise spawns one item when
    ``100 - rng.intn(100) < food_spawn_chance``, which is the official roll and happens with
    probability ``food_spawn_chance - 1`` percent. New food avoids food, live snakes and the squares
    next to live heads, and is appended after the existing food.
    """
    state = clone(board)
    missing = minimum_food - len(state["food"])
    if missing > 0:
        _append_random_food(state, rng, missing)
    elif food_spawn_chance > 0 and (100 - rng.intn(100)) < food_spawn_chance:
        _append_random_food(state, rng, 1)
    return state
