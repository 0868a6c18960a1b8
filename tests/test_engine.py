"""The batched engine against the reference rules, turn by turn, on hundreds of random games."""

from __future__ import annotations

import pytest
import torch

from optuna_clank.arena import engine, rules
from optuna_clank.arena.counter_rng import game_key
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import NO_MOVE, Player, Seats
from optuna_clank.arena.rng import SeededRandom
from optuna_clank.arena.snakes.simple import RandomSafeSnake
from optuna_clank.arena.standard import MOVES
from optuna_clank.arena.state import SELF, BatchState, board_from_state, state_from_boards


class ChaosSnake(Player):
    """Any move at all, sometimes none (the engine then applies the default move)."""

    name = "chaos"

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        moves = torch.randint(0, 5, (len(seats),), generator=self.generator)
        return torch.where(moves == 4, NO_MOVE, moves)


def _play_and_check(
    width: int, height: int, n_snakes: int, n_games: int, *, seed: int, food: engine.FoodSettings
) -> dict[str, int]:
    """Play batched random games; replay every turn of every game through ``step_board``."""
    ids = [f"s{i}" for i in range(n_snakes)]
    boards = [rules.create_board(width, height, ids, SeededRandom(f"{seed}:{g}")) for g in range(n_games)]
    # Seat 0 plays safely (long games), the others mix safe and chaotic play.
    seat_players = [[0] + [1 + (g + s) % 2 for s in range(1, n_snakes)] for g in range(n_games)]
    state = state_from_boards(
        boards,
        game_ids=range(n_games),
        keys=[game_key(seed, g) for g in range(n_games)],
        seat_players=seat_players,
    )
    players: list[Player] = [RandomSafeSnake(), RandomSafeSnake(), ChaosSnake(seed)]
    stats = {"turns": 0, "spawned": 0, "eliminations": 0, "games_over": 0, "starved": 0}
    previous = [board_from_state(state, g, ids) for g in range(n_games)]
    for _ in range(400):
        if not bool(state.running.any()):
            break
        view = TurnView(state)
        moves = torch.full((n_games, n_snakes), NO_MOVE, dtype=torch.int64)
        for index, player in enumerate(players):
            rows = torch.nonzero((state.seat_player == index) & state.alive)
            if rows.numel():
                seats = Seats(rows[:, 0], rows[:, 1])
                moves[seats.games, seats.seats] = player.choose(view, seats)
        running = state.running.tolist()
        over = engine.step(state, moves, food).tolist()
        for g in range(n_games):
            if not running[g]:
                continue
            before = previous[g]
            after = board_from_state(state, g, ids)
            move_names = {
                snake["id"]: (MOVES[m] if m >= 0 else "")
                for snake, m in zip(before["snakes"], moves[g].tolist(), strict=True)
                if snake["eliminated_cause"] == ""
            }
            expected = rules.step_board(before, move_names)
            _check_turn(expected, after, before, food, is_over=over[g], solo=n_snakes == 1)
            stats["turns"] += 1
            stats["spawned"] += len(after["food"]) - len(expected["food"])
            fresh = [s for s in after["snakes"] if s["eliminated_on_turn"] == after["turn"]]
            stats["eliminations"] += len(fresh)
            stats["starved"] += sum(1 for s in fresh if s["eliminated_cause"] == rules.CAUSE_OUT_OF_HEALTH)
            stats["games_over"] += over[g]
            previous[g] = after
        engine.retire(state, torch.tensor(over))
    return stats


def _check_turn(
    expected: dict,
    after: dict,
    before: dict,
    food: engine.FoodSettings,
    *,
    is_over: bool,
    solo: bool,
) -> None:
    assert after["turn"] == expected["turn"] == before["turn"] + 1
    assert after["snakes"] == expected["snakes"]
    # Food: the reference's list first (same order), then whatever the batch spawned.
    kept = expected["food"]
    assert after["food"][: len(kept)] == kept
    spawned = after["food"][len(kept) :]
    assert is_over == rules.is_game_over(expected, solo=solo)
    if is_over:
        assert spawned == []
        return
    occupied = {(p["x"], p["y"]) for s in after["snakes"] if s["eliminated_cause"] == "" for p in s["body"]}
    heads = [(s["body"][0]["x"], s["body"][0]["y"]) for s in after["snakes"] if s["eliminated_cause"] == ""]
    near_heads = {(x + dx, y + dy) for x, y in heads for dx, dy in ((0, 0), (0, 1), (0, -1), (1, 0), (-1, 0))}
    kept_squares = {(p["x"], p["y"]) for p in kept}
    for point in spawned:
        square = (point["x"], point["y"])
        assert 0 <= square[0] < after["width"] and 0 <= square[1] < after["height"]
        assert square not in occupied and square not in near_heads and square not in kept_squares
    candidates = (
        {(x, y) for x in range(after["width"]) for y in range(after["height"])} - occupied - near_heads - kept_squares
    )
    if len(kept) < food.minimum_food:
        assert len(spawned) == min(food.minimum_food - len(kept), len(candidates))
    else:
        assert len(spawned) <= 1


STANDARD_FOOD = engine.FoodSettings()
RICH_FOOD = engine.FoodSettings(minimum_food=3, food_spawn_chance=60)


@pytest.mark.parametrize(
    ("width", "height", "n_snakes", "n_games", "food"),
    [
        (11, 11, 2, 120, STANDARD_FOOD),
        (7, 7, 4, 60, STANDARD_FOOD),
        (19, 19, 8, 30, STANDARD_FOOD),
        (9, 13, 3, 40, STANDARD_FOOD),
        (8, 8, 1, 20, STANDARD_FOOD),
        (25, 25, 5, 12, RICH_FOOD),
        (11, 11, 2, 40, RICH_FOOD),
    ],
)
def test_batched_engine_matches_step_board(
    width: int, height: int, n_snakes: int, n_games: int, food: engine.FoodSettings
) -> None:
    stats = _play_and_check(width, height, n_snakes, n_games, seed=width * 100 + n_snakes, food=food)
    assert stats["turns"] > n_games * 5
    assert stats["spawned"] > 0
    assert stats["eliminations"] > 0
    assert stats["games_over"] > 0


def test_batched_engine_matches_step_board_when_snakes_starve() -> None:
    stats = _play_and_check(19, 19, 2, 24, seed=11, food=engine.FoodSettings(minimum_food=0, food_spawn_chance=0))
    assert stats["spawned"] == 0
    assert stats["starved"] > 5


def test_elimination_causes_all_occur_in_random_play() -> None:
    """The replay above only proves agreement if the games really exercise every rule."""
    ids = ["a", "b", "c", "d"]
    n_games = 200
    boards = [rules.create_board(7, 7, ids, SeededRandom(f"causes:{g}")) for g in range(n_games)]
    state = state_from_boards(
        boards,
        game_ids=range(n_games),
        keys=[game_key(3, g) for g in range(n_games)],
        seat_players=[[0] * 4] * n_games,
    )
    chaos = ChaosSnake(7)
    for _ in range(200):
        rows = torch.nonzero(state.alive)
        moves = torch.full((n_games, 4), NO_MOVE, dtype=torch.int64)
        if rows.numel():
            moves[rows[:, 0], rows[:, 1]] = chaos.choose(TurnView(state), Seats(rows[:, 0], rows[:, 1]))
        engine.retire(state, engine.step(state, moves, engine.FoodSettings()))
    causes = set(state.cause.flatten().tolist())
    assert causes >= {2, 3, 4, 5}, causes  # wall, self, body, head-to-head (starving: test above)


def test_step_is_independent_of_batch_composition() -> None:
    """A game plays identically alone and inside a batch (common random numbers)."""
    ids = ["a", "b"]
    boards = [rules.create_board(11, 11, ids, SeededRandom(f"crn:{g}")) for g in range(16)]
    keys = [game_key(5, g) for g in range(16)]

    def final_boards(selection: list[int]) -> list[dict]:
        state = state_from_boards(
            [boards[g] for g in selection],
            game_ids=selection,
            keys=[keys[g] for g in selection],
            seat_players=[[0, 0]] * len(selection),
        )
        snake = RandomSafeSnake()
        for _ in range(60):
            rows = torch.nonzero(state.alive)
            moves = torch.full((len(selection), 2), NO_MOVE, dtype=torch.int64)
            if rows.numel():
                moves[rows[:, 0], rows[:, 1]] = snake.choose(TurnView(state), Seats(rows[:, 0], rows[:, 1]))
            engine.retire(state, engine.step(state, moves, engine.FoodSettings()))
        return [board_from_state(state, i, ids) for i in range(len(selection))]

    together = final_boards(list(range(16)))
    assert final_boards([3]) == [together[3]]
    assert final_boards([9, 2]) == [together[9], together[2]]


def test_eliminated_snakes_leave_the_board_in_a_game_alone_too() -> None:
    """A snake killed by a collision while the others play on stops being an obstacle, whatever else
    the batch holds: alone in its batch, no other game's wall or starvation death may be needed."""
    ids = ["a", "b", "c", "d"]
    boards = [rules.create_board(7, 7, ids, SeededRandom(f"ffa:{g}")) for g in range(24)]
    keys = [game_key(8, g) for g in range(24)]
    collisions = 0

    def final_boards(selection: list[int]) -> list[dict]:
        nonlocal collisions
        state = state_from_boards(
            [boards[g] for g in selection],
            game_ids=selection,
            keys=[keys[g] for g in selection],
            seat_players=[[0, 1, 1, 1]] * len(selection),
        )
        players: list[Player] = [RandomSafeSnake(), ChaosSnake(4)]
        for _ in range(80):
            moves = torch.full((len(selection), 4), NO_MOVE, dtype=torch.int64)
            for index, player in enumerate(players):
                rows = torch.nonzero((state.seat_player == index) & state.alive)
                if rows.numel():
                    # each game's chaos comes from its own generator: the same moves alone or together
                    moves[rows[:, 0], rows[:, 1]] = _per_game(player, state, rows, selection)
            alive_before = state.alive.clone()
            engine.retire(state, engine.step(state, moves, engine.FoodSettings()))
            died = alive_before & ~state.alive & state.running.unsqueeze(1)
            collisions += int((died & (state.cause >= SELF)).sum())
            assert not bool(state.occ[~state.alive].any())  # the dead hold no cells
            assert torch.equal(state.cover, state.occ.sum(1, dtype=torch.int16))
        return [board_from_state(state, i, ids) for i in range(len(selection))]

    together = final_boards(list(range(24)))
    for g in range(24):
        assert final_boards([g]) == [together[g]]
    assert collisions > 0


def _per_game(player: Player, state: BatchState, rows: torch.Tensor, selection: list[int]) -> torch.Tensor:
    """Moves of ``player`` for ``rows``; a chaos snake draws from a generator seeded by game and turn."""
    if not isinstance(player, ChaosSnake):
        return player.choose(TurnView(state), Seats(rows[:, 0], rows[:, 1]))
    moves = []
    for game, seat in rows.tolist():
        generator = torch.Generator().manual_seed(selection[game] * 10_000 + int(state.turn[game]) * 8 + seat)
        moves.append(int(torch.randint(0, 4, (1,), generator=generator)))
    return torch.tensor(moves, dtype=torch.int64)


def test_select_and_concat_keep_games_intact() -> None:
    ids = ["a", "b"]
    boards = [rules.create_board(11, 11, ids, SeededRandom(f"sel:{g}")) for g in range(6)]
    state = state_from_boards(boards, game_ids=range(6), keys=range(6), seat_players=[[0, 1]] * 6)
    parts = [state.select(torch.tensor([4, 1])), state.select(torch.tensor([0]))]
    joined = BatchState.concat(parts)
    assert [board_from_state(joined, i, ids) for i in range(3)] == [boards[4], boards[1], boards[0]]
    assert joined.game_ids.tolist() == [4, 1, 0]


def test_snakes_killed_by_a_collision_stop_being_obstacles() -> None:
    """The dead bodies leave ``occ`` and ``cover`` even in a turn where no snake starved or hit a wall.

    (They used to stay: the collision stage updated the live mask in place, so the bodies to clear
    came out empty unless a starvation or wall death in the batch had replaced the mask first.)
    """

    def snake(snake_id: str, body: list[tuple[int, int]]) -> dict:
        points = [{"x": x, "y": y} for x, y in body]
        return {"id": snake_id, "body": points, "health": 90, "eliminated_cause": "", "eliminated_by": ""}

    board = {
        "turn": 3,
        "width": 7,
        "height": 7,
        "food": [],
        "hazards": [],
        "snakes": [
            snake("a", [(2, 3), (1, 3), (0, 3)]),
            snake("b", [(4, 3), (5, 3), (6, 3)]),
            snake("c", [(2, 6), (3, 6), (4, 6)]),
        ],
    }
    state = state_from_boards([board], game_ids=[0], keys=[1], seat_players=[[0, 0, 0]])
    engine.step(state, torch.tensor([[3, 2, 1]]), engine.FoodSettings(minimum_food=0, food_spawn_chance=0))
    assert state.alive[0].tolist() == [False, False, True]  # a and b met head to head
    assert int(state.occ[0, :2].abs().sum()) == 0
    assert torch.equal(state.cover[0], state.occ[0, 2].to(torch.int16))
    view = TurnView(state)
    assert bool(view.free[0, state.grid.cell(1, 3)]) and bool(view.free[0, state.grid.cell(5, 3)])
