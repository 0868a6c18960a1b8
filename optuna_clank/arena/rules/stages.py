"""The six stages of the official ``Execute`` pipeline, in place, with one signature.

Every stage is ``stage(board, pairs, settings) -> bool`` (``True``: the game has ended, run no
more stages), as in the official engine, and works in place on a board the caller owns.
:data:`STAGE_FUNCTIONS` maps the shared stage names of :mod:`optuna_clank.arena.standard` to them;
the batched engine maps the same names to its own stages.

Two deliberate simplifications, both invisible in real games: snakes are told apart by their
position in the list rather than by id (the official engine compares ids, which only differs when
two snakes share an id), and snakes of equal length keep their list order when sorted longest first
(the official ``sort.Slice`` is stable only up to 12 snakes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from optuna_clank.arena.rules.board import eliminate, is_alive, live_snakes, new_point, require_body, xy
from optuna_clank.arena.rules.errors import ERR_NO_MOVE, RulesError
from optuna_clank.arena.rules.predicates import (
    default_move,
    has_body_collided,
    has_lost_head_to_head,
    is_game_over,
    is_out_of_bounds,
    is_out_of_health,
)
from optuna_clank.arena.standard import (
    CAUSE_BODY,
    CAUSE_HAZARD,
    CAUSE_HEAD,
    CAUSE_OUT_OF_HEALTH,
    CAUSE_SELF,
    CAUSE_WALL,
    ELIMINATION,
    FEED_SNAKES,
    GAME_OVER,
    HAZARD_DAMAGE,
    MOVE_DELTAS,
    MOVEMENT,
    SNAKE_MAX_HEALTH,
    STARVATION,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TypeAlias

    from optuna_clank.arena.rules.board import Board, Snake

    MovePairs: TypeAlias = list[tuple[str, Any]]
    Moves: TypeAlias = Mapping[str, str] | Sequence[Mapping[str, Any]] | None
    Stage: TypeAlias = Callable[[Board, MovePairs, "TurnSettings"], bool]  # in place; True: game over


class TurnSettings(NamedTuple):
    """The ruleset settings the stages read (the official ``Settings`` the standard map uses).

    A named tuple rather than a dataclass: one is built per turn, and this is the cheap kind.
    """

    solo: bool = False
    hazard_damage_per_turn: int = 0


def move_pairs(moves: Moves) -> MovePairs:
    """The three accepted move forms as ``(snake_id, move)`` pairs, in their given order."""
    if moves is None:
        return []
    if isinstance(moves, Mapping):
        return list(moves.items())
    return [(entry["id"], entry.get("move")) for entry in moves]


def is_initialisation(board: Board, pairs: MovePairs) -> bool:
    """The official "initialisation" call (turn <= 0 and no moves) skips most stages."""
    return board["turn"] <= 0 and not pairs


def check_moves_cover_live_snakes(board: Board, pairs: MovePairs) -> None:
    """Every live snake needs a body and a move; the first failure aborts the whole turn."""
    ids_with_moves = {snake_id for snake_id, _ in pairs}
    for snake in live_snakes(board):
        require_body(snake)
        if snake["id"] not in ids_with_moves:
            raise RulesError(ERR_NO_MOVE, f"snake {snake['id']!r}")


def check_game_over(board: Board, pairs: MovePairs, settings: TurnSettings) -> bool:
    """Stage 0: the game ends when at most one snake is left (none, in a solo game)."""
    return is_game_over(board, solo=settings.solo)


def _advance(snake: Snake, move: Any) -> None:
    """Move one snake: new head in front, last segment dropped (a stacked tail loses one copy)."""
    body = snake["body"]
    applied = move if isinstance(move, str) and move in MOVE_DELTAS else default_move(body)
    dx, dy = MOVE_DELTAS[applied]
    head_x, head_y = xy(body[0])
    snake["body"] = [new_point((head_x + dx, head_y + dy)), *body[:-1]]


def apply_movement(board: Board, pairs: MovePairs, settings: TurnSettings) -> bool:
    """Stage 1: validate, then apply every move entry that names a live snake."""
    if is_initialisation(board, pairs) or not pairs:
        return False
    check_moves_cover_live_snakes(board, pairs)
    for snake in live_snakes(board):
        for snake_id, move in pairs:
            if snake_id == snake["id"]:
                _advance(snake, move)
    return False


def apply_starvation(board: Board, pairs: MovePairs, settings: TurnSettings) -> bool:
    """Stage 2: every live snake loses one health point (no clamp)."""
    if is_initialisation(board, pairs):
        return False
    for snake in live_snakes(board):
        snake["health"] -= 1
    return False


def apply_hazard_damage(board: Board, pairs: MovePairs, settings: TurnSettings) -> bool:
    """Stage 3: each hazard entry under a live head hurts (clamped to 0..100), except on food."""
    if is_initialisation(board, pairs):
        return False
    food_squares = {xy(food) for food in board["food"]}
    hazards = [xy(hazard) for hazard in board.get("hazards") or []]
    for snake in live_snakes(board):
        require_body(snake)
        head = xy(snake["body"][0])
        if head in food_squares:
            continue
        for hazard in hazards:
            if hazard != head:
                continue
            health = snake["health"] - settings.hazard_damage_per_turn
            snake["health"] = min(max(health, 0), SNAKE_MAX_HEALTH)
            if is_out_of_health(snake["health"]):
                eliminate(snake, CAUSE_HAZARD, "", board["turn"] + 1)
    return False


def apply_feeding(board: Board, pairs: MovePairs, settings: TurnSettings) -> bool:
    """Stage 4 (runs even at initialisation): every live head on a food eats it, all of them.

    Eating duplicates the tail segment and restores full health; eaten food disappears and the
    rest keeps its order.
    """
    remaining = []
    for food in board["food"]:
        square = xy(food)
        eaters = [s for s in live_snakes(board) if s["body"] and xy(s["body"][0]) == square]
        for snake in eaters:
            snake["body"].append(dict(snake["body"][-1]))
            snake["health"] = SNAKE_MAX_HEALTH
        if not eaters:
            remaining.append(food)
    board["food"] = remaining
    return False


def _longest_first(snakes: list[Snake]) -> list[int]:
    """Snake indices, longest body first, ties in list order: collisions credit the longest."""
    return sorted(range(len(snakes)), key=lambda index: -len(snakes[index]["body"]))


def _collision_verdict(snakes: list[Snake], index: int, order: list[int]) -> tuple[str, str] | None:
    """Cause and culprit of snake ``index``'s collision, or None; the first matching rule wins."""
    body = snakes[index]["body"]
    if has_body_collided(body, body):
        return CAUSE_SELF, snakes[index]["id"]
    rivals = [other for other in order if other != index and is_alive(snakes[other])]
    for other in rivals:
        if has_body_collided(body, snakes[other]["body"]):
            return CAUSE_BODY, snakes[other]["id"]
    for other in rivals:
        if has_lost_head_to_head(body, snakes[other]["body"]):
            return CAUSE_HEAD, snakes[other]["id"]
    return None


def apply_elimination(board: Board, pairs: MovePairs, settings: TurnSettings) -> bool:
    """Stage 5: starvation and walls at once, then collisions decided for all and applied together.

    Snakes removed by starvation or walls are no obstacle to anyone this turn; snakes removed by a
    collision still are (so both snakes of a swap die, each credited to the other).
    """
    if is_initialisation(board, pairs):
        return False
    snakes = board["snakes"]
    next_turn = board["turn"] + 1
    order = _longest_first(snakes)
    for snake in live_snakes(board):
        require_body(snake)
        if is_out_of_health(snake["health"]):
            eliminate(snake, CAUSE_OUT_OF_HEALTH, "", next_turn)
        elif is_out_of_bounds(board["width"], board["height"], snake["body"]):
            eliminate(snake, CAUSE_WALL, "", next_turn)
    verdicts = [
        (index, _collision_verdict(snakes, index, order)) for index, snake in enumerate(snakes) if is_alive(snake)
    ]
    for index, verdict in verdicts:
        if verdict is not None:
            eliminate(snakes[index], verdict[0], verdict[1], next_turn)
    return False


STAGE_FUNCTIONS: Mapping[str, Stage] = {
    GAME_OVER: check_game_over,
    MOVEMENT: apply_movement,
    STARVATION: apply_starvation,
    HAZARD_DAMAGE: apply_hazard_damage,
    FEED_SNAKES: apply_feeding,
    ELIMINATION: apply_elimination,
}
"""Each shared stage name's implementation here (listed in the official order)."""
