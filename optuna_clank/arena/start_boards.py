"""Start boards for many games at once, identical to the reference rules' setup.

Square boards of side >= 7 with up to 8 snakes (every benchmark the product runs) start on
fixed squares: shuffled corners and edge midpoints, one food diagonal to each snake, one in
the centre (official ``StandardMap.SetupBoard``). Done per game in Python that costs more than a whole random game;
done here it is a handful of tensor ops. The draws are those of
:class:`~optuna_clank.arena.rng.KeyedRandom` consumed in the reference's order, so
``rules.create_board(..., KeyedRandom(key))`` gives exactly the same board (a test checks).
Other boards go through the reference rules one game at a time.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from optuna_clank.arena import rules
from optuna_clank.arena.counter_rng import mix
from optuna_clank.arena.grid import Grid
from optuna_clank.arena.rng import SETUP_SALT, KeyedRandom
from optuna_clank.arena.rules.errors import ERR_NO_ROOM_FOR_FOOD, RulesError
from optuna_clank.arena.standard import SNAKE_MAX_HEALTH, SNAKE_START_SIZE
from optuna_clank.arena.state import BatchState, state_from_boards

MAX_FIXED_SNAKES = 8
_MIN_FIXED_SIDE = 7
_FOOD_PER_SNAKE_MIN_AREA = 11 * 11


def has_fixed_starts(width: int, height: int, n_snakes: int) -> bool:
    """Whether the official setup uses the fixed start squares for this board and field."""
    return width == height and width >= _MIN_FIXED_SIDE and 1 <= n_snakes <= MAX_FIXED_SNAKES


def start_games(
    grid: Grid,
    snake_ids: Sequence[Sequence[str]],
    *,
    game_ids: Sequence[int],
    keys: Sequence[int],
    seat_players: Sequence[Sequence[int]],
) -> BatchState:
    """The turn-0 state of each game (``keys[i]`` seeds game i's setup draws)."""
    n_snakes = len(snake_ids[0])
    if has_fixed_starts(grid.width, grid.height, n_snakes):
        return _fixed_starts(grid, n_snakes, game_ids=game_ids, keys=keys, seat_players=seat_players)
    boards = [
        rules.create_board(grid.width, grid.height, list(ids), KeyedRandom(key))
        for ids, key in zip(snake_ids, keys, strict=True)
    ]
    return state_from_boards(boards, game_ids=game_ids, keys=keys, seat_players=seat_players, device=grid.device)


def _fixed_squares(side: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    low, mid, high = 1, (side - 1) // 2, side - 2
    corners = [(low, low), (low, high), (high, low), (high, high)]
    cardinals = [(low, mid), (mid, low), (mid, high), (high, mid)]
    return corners, cardinals


def _food_options(side: int, square: tuple[int, int]) -> list[tuple[int, int]]:
    """The diagonal food squares the official setup allows next to a start square, in order."""
    centre = ((side - 1) // 2, (side - 1) // 2)
    x, y = square
    options = []
    for option in ((x - 1, y - 1), (x - 1, y + 1), (x + 1, y - 1), (x + 1, y + 1)):
        away = any(o < s < c or c < s < o for o, s, c in zip(option, square, centre, strict=True))
        corner = option[0] in (0, side - 1) and option[1] in (0, side - 1)
        if option != centre and away and not corner:
            options.append(option)
    return options


def _setup_draws(keys: torch.Tensor, count: int) -> torch.Tensor:
    """Int64 [G, count]: the first ``count`` draws of each game's KeyedRandom."""
    base = mix(keys, SETUP_SALT)
    return mix(base.unsqueeze(1), torch.arange(count, device=keys.device).unsqueeze(0))


def _shuffled(squares: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
    """Fisher-Yates over 4 squares per game ([G, 4] cells), one draw per step, as KeyedRandom."""
    order = squares.clone()
    rows = torch.arange(order.shape[0], device=order.device)
    for step, i in enumerate((3, 2, 1)):
        j = draws[:, step] % (i + 1)
        picked, last = order[rows, j].clone(), order[:, i].clone()
        order[:, i] = picked
        order[rows, j] = last
    return order


def _fixed_starts(
    grid: Grid,
    n_snakes: int,
    *,
    game_ids: Sequence[int],
    keys: Sequence[int],
    seat_players: Sequence[Sequence[int]],
) -> BatchState:
    device = grid.device
    side = grid.width
    n_games = len(keys)
    key_tensor = torch.tensor(list(keys), dtype=torch.int64, device=device)
    draws = _setup_draws(key_tensor, 7 + n_snakes)
    corners, cardinals = _fixed_squares(side)
    as_cells = lambda squares: torch.tensor([grid.cell(x, y) for x, y in squares], device=device)  # noqa: E731
    shuffled_corners = _shuffled(as_cells(corners).expand(n_games, 4), draws[:, 0:3])
    shuffled_cardinals = _shuffled(as_cells(cardinals).expand(n_games, 4), draws[:, 3:6])
    corners_first = (draws[:, 6] % 2 == 0).unsqueeze(1)
    starts = torch.where(
        corners_first,
        torch.cat([shuffled_corners, shuffled_cardinals], 1),
        torch.cat([shuffled_cardinals, shuffled_corners], 1),
    )
    heads = starts[:, :n_snakes]
    foods = []
    if n_snakes <= 4 or side * side >= _FOOD_PER_SNAKE_MIN_AREA:
        foods = _start_food(grid, heads, draws[:, 7:])
    centre = grid.cell((side - 1) // 2, (side - 1) // 2)
    foods.append(torch.full((n_games,), centre, dtype=torch.int64, device=device))
    return _state_from_starts(
        grid,
        heads,
        foods=torch.stack(foods, 1),
        game_ids=game_ids,
        keys=key_tensor,
        seat_players=seat_players,
    )


def _start_food(grid: Grid, heads: torch.Tensor, draws: torch.Tensor) -> list[torch.Tensor]:
    """One food per snake, in snake order, on an allowed diagonal not taken by earlier food."""
    side = grid.width
    device = heads.device
    table = torch.full((grid.n_cells, 4), -1, dtype=torch.int64, device=device)
    corners, cardinals = _fixed_squares(side)
    for square in corners + cardinals:
        cells = [grid.cell(x, y) for x, y in _food_options(side, square)]
        table[grid.cell(*square), : len(cells)] = torch.tensor(cells, dtype=torch.int64, device=device)
    placed: list[torch.Tensor] = []
    for snake in range(heads.shape[1]):
        options = table[heads[:, snake]]  # [G, 4]
        available = options >= 0
        for earlier in placed:
            available &= options != earlier.unsqueeze(1)
        count = available.sum(1)
        if bool((count == 0).any()):
            raise RulesError(ERR_NO_ROOM_FOR_FOOD)
        pick = draws[:, snake] % count
        rank = available.cumsum(1) - 1
        chosen = (available & (rank == pick.unsqueeze(1))).to(torch.int64).argmax(1)
        placed.append(options.gather(1, chosen.unsqueeze(1)).squeeze(1))
    return placed


def _state_from_starts(
    grid: Grid,
    heads: torch.Tensor,
    *,
    foods: torch.Tensor,
    game_ids: Sequence[int],
    keys: torch.Tensor,
    seat_players: Sequence[Sequence[int]],
) -> BatchState:
    """Turn-0 state: every snake's start segments stacked on its start cell, food in list order."""
    device = grid.device
    n_games, n_snakes = heads.shape
    ring_size = 1 << (grid.n_board_cells + 3 - 1).bit_length()
    ring = torch.zeros(n_games, n_snakes, ring_size, dtype=torch.int16, device=device)
    ring[:, :, :SNAKE_START_SIZE] = heads.to(torch.int16).unsqueeze(2)
    occ = torch.zeros(n_games, n_snakes, grid.n_cells, dtype=torch.int8, device=device)
    occ.scatter_(2, heads.unsqueeze(2), SNAKE_START_SIZE - 1)  # body[1:]: all stacked on the start cell
    food = torch.zeros(n_games, grid.n_cells, dtype=torch.int32, device=device)
    order = torch.arange(1, foods.shape[1] + 1, dtype=torch.int32, device=device)
    food.scatter_(1, foods, order.expand(n_games, -1).contiguous())
    zeros = torch.zeros(n_games, n_snakes, dtype=torch.int64, device=device)
    return BatchState(
        grid=grid,
        game_ids=torch.tensor(list(game_ids), dtype=torch.int64, device=device),
        keys=keys,
        turn=torch.zeros(n_games, dtype=torch.int64, device=device),
        ring=ring,
        head_ptr=zeros.clone(),
        length=torch.full_like(zeros, SNAKE_START_SIZE),
        head=heads.clone(),
        health=torch.full_like(zeros, SNAKE_MAX_HEALTH),
        alive=torch.ones(n_games, n_snakes, dtype=torch.bool, device=device),
        cause=zeros.clone(),
        killer=torch.full_like(zeros, -1),
        elim_turn=zeros.clone(),
        occ=occ,
        cover=occ.sum(1, dtype=torch.int16),
        food=food,
        food_counter=torch.full((n_games,), foods.shape[1] + 1, dtype=torch.int32, device=device),
        food_count=torch.full((n_games,), foods.shape[1], dtype=torch.int64, device=device),
        seat_player=torch.tensor([list(p) for p in seat_players], dtype=torch.int64, device=device),
        running=torch.ones(n_games, dtype=torch.bool, device=device),
    )
