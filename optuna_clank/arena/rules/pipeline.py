"""Whole turns and single stages on copies: the public entry points to the stage pipeline.

A turn runs the shared stage list (:data:`~optuna_clank.arena.standard.STANDARD_STAGES`) through
:data:`~optuna_clank.arena.rules.stages.STAGE_FUNCTIONS`; nothing here restates the order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.arena.rules.board import clone
from optuna_clank.arena.rules.stages import (
    STAGE_FUNCTIONS,
    TurnSettings,
    apply_elimination,
    apply_feeding,
    apply_hazard_damage,
    apply_movement,
    apply_starvation,
    check_moves_cover_live_snakes,
    move_pairs,
)
from optuna_clank.arena.standard import STANDARD_STAGES, TURN_STAGES

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from optuna_clank.arena.rules.board import Board
    from optuna_clank.arena.rules.stages import MovePairs, Moves


def run_stages(board: Board, pairs: MovePairs, settings: TurnSettings, stages: Sequence[str]) -> bool:
    """Run the named stages in order on ``board`` (in place); stop and return True once one ends the game."""
    ended = False
    for name in stages:
        ended = STAGE_FUNCTIONS[name](board, pairs, settings)
        if ended:
            break
    return ended


# ---------------------------------------------------------------------------------------------
# Stages as pure functions


def move_snakes(board: Board, moves: Moves) -> Board:
    """Stage 1, movement; no-op at initialisation or without moves. Raises :class:`RulesError`."""
    state = clone(board)
    apply_movement(state, move_pairs(moves), TurnSettings())
    return state


def reduce_health(board: Board, moves: Moves) -> Board:
    """Stage 2: live snakes lose one health point (``moves`` only marks initialisation)."""
    state = clone(board)
    apply_starvation(state, move_pairs(moves), TurnSettings())
    return state


def damage_hazards(board: Board, moves: Moves, *, damage_per_turn: int) -> Board:
    """Stage 3, hazard damage; a negative ``damage_per_turn`` heals (capped at 100)."""
    state = clone(board)
    apply_hazard_damage(state, move_pairs(moves), TurnSettings(hazard_damage_per_turn=damage_per_turn))
    return state


def feed_snakes(board: Board) -> Board:
    """Stage 4, feeding (never skipped)."""
    state = clone(board)
    apply_feeding(state, [], TurnSettings())
    return state


def eliminate_snakes(board: Board, moves: Moves) -> Board:
    """Stage 5, elimination, on a board that has already moved. Raises :class:`RulesError`."""
    state = clone(board)
    apply_elimination(state, move_pairs(moves), TurnSettings())
    return state


# ---------------------------------------------------------------------------------------------
# Whole turns


def execute(
    board: Board,
    moves: Moves,
    *,
    solo: bool = False,
    hazard_damage_per_turn: int = 0,
) -> tuple[bool, Board]:
    """The official ``Ruleset.Execute``: returns ``(game_over, next_board)``.

    The game-over stage runs first, on the incoming board; when it is over nothing else happens. It
    never changes ``turn`` and never spawns food (see :func:`spawn_food`). Raises
    :class:`RulesError` for a missing move or a live snake without a body.
    """
    state = clone(board)
    settings = TurnSettings(solo=solo, hazard_damage_per_turn=hazard_damage_per_turn)
    return run_stages(state, move_pairs(moves), settings, STANDARD_STAGES), state


def step_board(board: Board, moves: Mapping[str, str]) -> Board:
    """Play one turn on one board and return the next board, with ``turn`` one higher.

    Movement, health, hazards (none on the standard map), feeding and elimination, exactly as the
    official engine; no food spawning and no game-over stage. Eliminated snakes stay in the
    list with cause, culprit and turn. Move strings other than ``MOVES`` get the
    :func:`default_move`. A live snake without a move raises :class:`RulesError` (a ``ValueError``)
    naming the snake.

    Example::

        >>> from optuna_clank.arena.rng import SeededRandom
        >>> from optuna_clank.arena.rules import create_board
        >>> board = create_board(11, 11, ["you", "them"], SeededRandom("1234:7"))
        >>> next_board = step_board(board, {"you": "up", "them": "left"})
        >>> next_board["turn"], [snake["health"] for snake in next_board["snakes"]]
        (1, [99, 99])
    """
    pairs = move_pairs(moves)
    check_moves_cover_live_snakes(board, pairs)
    state = clone(board)
    run_stages(state, pairs, TurnSettings(), TURN_STAGES)
    state["turn"] = board["turn"] + 1
    return state
