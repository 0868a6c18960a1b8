"""The arena's batch <-> the Battlesnake HTTP API (API version 1, as the official CLI speaks it).

Two directions, both public because every snake-facing command stands on them:

* **batch -> requests.** :func:`move_requests` turns the seats of a batch into ``/move`` request
  bodies exactly as ``battlesnake play`` sends them (``game`` with ruleset, settings, map,
  source and timeout; ``turn``; ``board`` with live snakes only, in seat order; ``you``).
  :func:`api_frame` is the ``{turn, board}`` part alone (what match histories record).
* **requests -> batch.** :func:`batch_requests` validates request bodies and packs them into
  :class:`RequestBatch` es (one per board size and snake count): a :class:`TurnView` plus the
  ``you`` seat of each request, so a batched built-in snake answers recorded or live requests in
  one call. :func:`check_request` validates one body and says what is wrong with it;
  :func:`read_request` does the same and keeps what it read (grid cells), which is all a batch needs.

Request bodies carry no random key, so a game's key is derived from ``game.id`` (CRC-32): the
same game id gives the same dice to a random snake, whichever batch it lands in.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, NamedTuple, TypeGuard

import orjson
import torch

from optuna_clank.arena.engine import FoodSettings
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.grid import Grid, grid_for
from optuna_clank.arena.players import Seats
from optuna_clank.arena.state import ALIVE, CAUSES, NO_KILLER, BatchState, board_from_state

API_VERSION = "1"
RULESET_NAME = "standard"
RULESET_VERSION = "cli"
"""What the official CLI puts in ``game.ruleset.version``."""
DEFAULT_TIMEOUT_MS = 500
DEFAULT_CUSTOMIZATIONS: Mapping[str, str] = {"color": "#888888", "head": "default", "tail": "default"}
MAX_BOARD_SIDE = 25
MAX_SNAKES = 16

Json = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# batch -> requests


def game_object(
    game_id: str,
    *,
    food: FoodSettings | None = None,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    hazard_damage_per_turn: int = 14,
    map_name: str = "standard",
    source: str = "",
) -> Json:
    """The ``game`` object of a request, with the official CLI's defaults for a standard game."""
    food = food or FoodSettings()
    return {
        "id": game_id,
        "ruleset": {
            "name": RULESET_NAME,
            "version": RULESET_VERSION,
            "settings": {
                "foodSpawnChance": food.food_spawn_chance,
                "minimumFood": food.minimum_food,
                "hazardDamagePerTurn": hazard_damage_per_turn,
                "hazardMap": "",
                "hazardMapAuthor": "",
                "royale": {"shrinkEveryNTurns": 25},
                "squad": {
                    "allowBodyCollisions": False,
                    "sharedElimination": False,
                    "sharedHealth": False,
                    "sharedLength": False,
                },
            },
        },
        "map": map_name,
        "timeout": timeout_ms,
        "source": source,
    }


def api_snake(snake_id: str, body: list[Json], health: int, *, latency: str = "0") -> Json:
    """One ``board.snakes`` entry (``name`` is the id: the arena has no display names)."""
    return {
        "id": snake_id,
        "name": snake_id,
        "latency": latency,
        "health": health,
        "body": body,
        "head": dict(body[0]),
        "length": len(body),
        "shout": "",
        "squad": "",
        "customizations": dict(DEFAULT_CUSTOMIZATIONS),
    }


def api_frame(state: BatchState, row: int, snake_ids: Sequence[str]) -> Json:
    """One game as a Battlesnake API ``{turn, board}`` frame (live snakes only, seat order)."""
    board = board_from_state(state, row, snake_ids)
    snakes = [api_snake(s["id"], s["body"], s["health"]) for s in board["snakes"] if not s["eliminated_cause"]]
    fields = ("height", "width", "food", "hazards")
    return {"turn": board["turn"], "board": {**{k: board[k] for k in fields}, "snakes": snakes}}


def move_requests(
    state: BatchState,
    seats: Seats,
    snake_ids: Sequence[Sequence[str]],
    games: Sequence[Json],
    *,
    latencies: Sequence[str] | None = None,
) -> list[Json]:
    """The ``/move`` request body of each seat (``seats`` must be live snakes).

    Args:
        state: the batch at the start of the turn.
        seats: the seats that must move; request ``i`` is for seat ``i``.
        snake_ids: the snake ids of each *seat's* row (``snake_ids[i]`` for ``seats[i]``).
        games: the ``game`` object of each seat's game (see :func:`game_object`).
        latencies: the ``latency`` string of each seat's own snake (the CLI sends its last
            response time in ms, ``"0"`` before the first); other snakes read ``"0"``.
    """
    rows = seats.games.tolist()
    seat_list = seats.seats.tolist()
    boards = _boards(state, rows)
    requests = []
    for i, (row, seat) in enumerate(zip(rows, seat_list, strict=True)):
        turn, food, bodies, healths, alive = boards[row]
        ids = snake_ids[i]
        latency = latencies[i] if latencies is not None else "0"
        snakes = []
        you = None
        for s, body in enumerate(bodies):
            if not alive[s]:
                continue
            snake = api_snake(ids[s], [dict(p) for p in body], healths[s], latency=latency if s == seat else "0")
            snakes.append(snake)
            if s == seat:
                you = snake
        if you is None:
            raise ValueError(f"seat {seat} of batch row {row} is not a live snake")
        requests.append(
            {
                "game": games[i],
                "turn": turn,
                "board": {
                    "height": state.grid.height,
                    "width": state.grid.width,
                    "food": [dict(p) for p in food],
                    "hazards": [],
                    "snakes": snakes,
                },
                "you": {**you, "body": [dict(p) for p in you["body"]], "head": dict(you["head"])},
            }
        )
    return requests


def encoded_move_requests(
    state: BatchState,
    seats: Seats,
    snake_ids: Sequence[Sequence[str]],
    games: Sequence[bytes],
    *,
    latencies: Sequence[str] | None = None,
) -> list[bytes]:
    """:func:`move_requests`, already JSON-encoded: byte for byte ``orjson.dumps`` of each body.

    What an HTTP player sends, built from shared pieces instead of fresh dicts: each snake is
    encoded once per game row and spliced into every body that shows it (with the asking seat's
    own ``latency``), and ``games`` are the ``game`` objects encoded once per game.
    """
    return list(iter_encoded_move_requests(state, seats, snake_ids, games, latencies=latencies))


def iter_encoded_move_requests(
    state: BatchState,
    seats: Seats,
    snake_ids: Sequence[Sequence[str]],
    games: Sequence[bytes],
    *,
    latencies: Sequence[str] | None = None,
) -> Iterator[bytes]:
    """:func:`encoded_move_requests` one body at a time: a sender can send each while it builds the next."""
    rows = seats.games.tolist()
    seat_list = seats.seats.tolist()
    boards = _boards(state, rows)
    board_head = b'"board":{"height":%d,"width":%d,"food":' % (state.grid.height, state.grid.width)
    encoded_rows: dict[tuple[int, int], tuple[bytes, list[bytes | None]]] = {}
    for i, (row, seat) in enumerate(zip(rows, seat_list, strict=True)):
        turn, food, bodies, healths, alive = boards[row]
        ids = snake_ids[i]
        key = (row, id(ids))
        if key not in encoded_rows:
            encoded_rows[key] = (orjson.dumps(food), _encoded_snakes(bodies, healths, alive))
        food_bytes, snakes = encoded_rows[key]
        tail = snakes[seat]
        if tail is None:
            raise ValueError(f"seat {seat} of batch row {row} is not a live snake")
        you = _with_id(ids[seat], orjson.dumps(latencies[i] if latencies is not None else "0"), tail)
        shown = [you if s == seat else _with_id(ids[s], b'"0"', t) for s, t in enumerate(snakes) if t is not None]
        yield (
            b'{"game":%s,"turn":%d,%s%s,"hazards":[],"snakes":[%s]},"you":%s}'
            % (games[i], turn, board_head, food_bytes, b",".join(shown), you)
        )


def _with_id(snake_id: str, latency: bytes, tail: bytes) -> bytes:
    name = orjson.dumps(snake_id)
    return b'{"id":%s,"name":%s,"latency":%s,%s' % (name, name, latency, tail)


def _encoded_snakes(bodies: list[list[Json]], healths: list[int], alive: list[bool]) -> list[bytes | None]:
    """Each live snake's encoded fields after ``latency`` (``None`` for eliminated seats)."""
    customizations = orjson.dumps(DEFAULT_CUSTOMIZATIONS)
    out: list[bytes | None] = []
    for s, body in enumerate(bodies):
        if not alive[s]:
            out.append(None)
            continue
        points = orjson.dumps(body)
        out.append(
            b'"health":%d,"body":%s,"head":%s,"length":%d,"shout":"","squad":"","customizations":%s}'
            % (healths[s], points, orjson.dumps(body[0]), len(body), customizations)
        )
    return out


def _boards(
    state: BatchState, rows: Sequence[int]
) -> dict[int, tuple[int, list[Json], list[list[Json]], list[int], list[bool]]]:
    """Turn, food, bodies, healths and liveness of the distinct ``rows``.

    Only the cells in use leave the tensors (``tolist`` costs about a microsecond an element, so
    copying whole ring buffers or food planes would cost more than everything else here).
    """
    unique = sorted(set(rows))
    if not unique:
        return {}
    device = state.head.device
    index = torch.tensor(unique, dtype=torch.int64, device=device)
    points = _points(state.grid)
    length = state.length[index]
    longest = int(length.max())
    offsets = torch.arange(longest, device=device)
    positions = (state.head_ptr[index].unsqueeze(2) + offsets) & state.ring_mask
    cells = state.ring[index].gather(2, positions).long()
    used = offsets < length.unsqueeze(2)
    flat_cells = cells[used].tolist()
    food = state.food[index]
    food_rows, food_cells = torch.nonzero(food, as_tuple=True)
    food_order = food[food_rows, food_cells].long()
    food_list = list(zip(food_rows.tolist(), food_order.tolist(), food_cells.tolist(), strict=True))
    lengths = length.tolist()
    health = state.health[index].tolist()
    alive = state.alive[index].tolist()
    turn = state.turn[index].tolist()
    foods: list[list[tuple[int, int]]] = [[] for _ in unique]
    for k, order, cell in food_list:
        foods[k].append((order, cell))
    out = {}
    taken = 0
    for k, row in enumerate(unique):
        bodies = []
        for n in lengths[k]:
            bodies.append([points[c] for c in flat_cells[taken : taken + n]])
            taken += n
        out[row] = (turn[k], [points[cell] for _, cell in sorted(foods[k])], bodies, health[k], alive[k])
    return out


_POINTS: dict[tuple[int, int], list[Json]] = {}


def _points(grid: Grid) -> list[Json]:
    """``{"x", "y"}`` of every padded cell (templates: callers copy before handing them out)."""
    key = (grid.width, grid.height)
    if key not in _POINTS:
        stride = grid.stride
        _POINTS[key] = [{"x": c % stride - 1, "y": c // stride - 1} for c in range(grid.n_cells)]
    return _POINTS[key]


# ---------------------------------------------------------------------------------------------
# requests -> batch


class RequestError(ValueError):
    """A body that is not a valid ``/move`` request; the message says why."""


@dataclass(frozen=True)
class RequestBatch:
    """Requests of one board size and snake count, packed for a batched snake.

    ``view.state`` row ``i`` is request ``indices[i]``; ``seats`` holds each request's ``you``.
    """

    indices: list[int]
    view: TurnView
    seats: Seats
    snake_ids: list[list[str]]


class MoveRequest(NamedTuple):
    """A checked ``/move`` request read into grid cells (:func:`read_request`): what a batch is built from.

    Cells are flat indices of the padded grid (``(y + 1) * (width + 2) + x + 1``).
    """

    width: int
    height: int
    turn: int
    key: int  # the game's random key, from game.id (:func:`game_key`)
    ids: list[str]  # snake ids, in board order
    you: int  # the seat (index in ``ids``) of ``you``
    bodies: list[list[int]]  # each snake's cells, head first
    healths: list[int]
    food: list[int]  # food cells, in board order


def check_request(body: object) -> None:
    """Raise :class:`RequestError` unless ``body`` is a usable ``/move`` request.

    Checked: the board (size 1..25, food and bodies on it), each live snake (unique string id,
    integer health, non-empty body) and ``you`` (one of the board's snakes). ``game`` and
    ``hazards`` are not needed to choose a move, so only their type is checked.
    """
    read_request(body)


def read_request(body: object) -> MoveRequest:
    """Check ``body`` as :func:`check_request` does and read it into grid cells, in one pass over its points.

    A server reads each request as it arrives, so its batch only packs what is already read.
    """
    if not isinstance(body, dict):
        raise RequestError("the request is not a JSON object")
    if "game" in body and not isinstance(body["game"], dict):
        raise RequestError("'game' is not an object")
    turn = body.get("turn")
    if not _is_int(turn) or turn < 0:
        raise RequestError("'turn' must be a non-negative integer")
    board = body.get("board")
    if not isinstance(board, dict):
        raise RequestError("'board' is missing or not an object")
    width, height = board.get("width"), board.get("height")
    if not (_is_int(width) and _is_int(height) and 1 <= width <= MAX_BOARD_SIDE and 1 <= height <= MAX_BOARD_SIDE):
        raise RequestError(f"board width and height must be integers within 1..{MAX_BOARD_SIDE}")
    stride = width + 2
    food = _cells(board.get("food", []), width, height, stride, "board.food")
    _cells(board.get("hazards", []), width, height, stride, "board.hazards")
    snakes = board.get("snakes")
    if not isinstance(snakes, list) or not 1 <= len(snakes) <= MAX_SNAKES:
        raise RequestError(f"'board.snakes' must be a list of 1..{MAX_SNAKES} snakes")
    ids: list[str] = []
    bodies: list[list[int]] = []
    healths: list[int] = []
    for snake in snakes:
        bodies.append(_snake_cells(snake, width, height, stride))
        if snake["id"] in ids:
            raise RequestError(f"snake id {snake['id']!r} appears twice")
        ids.append(snake["id"])
        healths.append(snake["health"])
    you = body.get("you")
    you_id = you.get("id") if isinstance(you, dict) else None
    if not isinstance(you_id, str) or you_id not in ids:
        raise RequestError("'you' is missing or is not one of the board's snakes")
    return MoveRequest(width, height, turn, game_key(body), ids, ids.index(you_id), bodies, healths, food)


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int  # not bool, which is an int subclass


def _cells(points: object, width: int, height: int, stride: int, where: str) -> list[int]:
    """The grid cell of every point, each checked to be on the board (one tight loop: a request holds ~100)."""
    if not isinstance(points, list):
        raise RequestError(f"'{where}' is not a list")
    cells = []
    for point in points:
        if type(point) is not dict:
            raise RequestError(f'a point in \'{where}\' is not {{"x": int, "y": int}}')
        x, y = point.get("x"), point.get("y")
        if type(x) is not int or type(y) is not int:
            raise RequestError(f'a point in \'{where}\' is not {{"x": int, "y": int}}')
        if not (0 <= x < width and 0 <= y < height):
            raise RequestError(f"a point in '{where}' is off the {width}x{height} board")
        cells.append((y + 1) * stride + x + 1)
    return cells


def _snake_cells(snake: object, width: int, height: int, stride: int) -> list[int]:
    if not isinstance(snake, dict) or not isinstance(snake.get("id"), str):
        raise RequestError("a snake of 'board.snakes' has no string 'id'")
    if not _is_int(snake.get("health")):
        raise RequestError(f"snake {snake['id']!r} has no integer 'health'")
    body = snake.get("body")
    if not isinstance(body, list) or not body or len(body) > width * height + 2:
        raise RequestError(f"snake {snake['id']!r} needs a non-empty 'body' that fits the board")
    return _cells(body, width, height, stride, f"body of snake {snake['id']!r}")


def game_key(request: Mapping[str, Any]) -> int:
    """The 32-bit random key of a request's game: CRC-32 of ``game.id`` (0 without one)."""
    game = request.get("game")
    return game_id_key(game.get("id") if isinstance(game, dict) else None)


def game_id_key(game_id: object) -> int:
    """:func:`game_key` from the ``game.id`` value itself (``None``: no id)."""
    return zlib.crc32(str(game_id).encode()) if game_id is not None else 0


def batch_requests(
    requests: Sequence[Mapping[str, Any] | MoveRequest], *, device: str | torch.device = "cpu"
) -> list[RequestBatch]:
    """Pack requests into batches; raises :class:`RequestError` on the first invalid one.

    Request bodies are checked and read here (:func:`read_request`); :class:`MoveRequest` s are
    packed as they are.
    """
    reads: list[MoveRequest] = []
    for index, request in enumerate(requests):
        if isinstance(request, MoveRequest):
            reads.append(request)
            continue
        try:
            reads.append(read_request(request))
        except RequestError as exc:
            raise RequestError(f"request {index}: {exc}") from exc
    groups: dict[tuple[int, int, int], list[int]] = {}
    for index, read in enumerate(reads):
        groups.setdefault((read.width, read.height, len(read.ids)), []).append(index)
    batches = []
    for (width, height, n_seats), indices in groups.items():
        state, you_seats, ids = request_state([reads[i] for i in indices], width, height, n_seats, device=device)
        games = torch.arange(len(indices), dtype=torch.int64, device=state.head.device)
        seats = Seats(games=games, seats=torch.tensor(you_seats, dtype=torch.int64, device=games.device))
        batches.append(RequestBatch(indices=indices, view=TurnView(state), seats=seats, snake_ids=ids))
    return batches


def request_state(
    requests: Sequence[Mapping[str, Any] | MoveRequest],
    width: int,
    height: int,
    n_seats: int,
    *,
    device: str | torch.device = "cpu",
) -> tuple[BatchState, list[int], list[list[str]]]:
    """Requests of one board size and snake count as a batch: state, ``you`` seats, snake ids.

    The state is the one :func:`~optuna_clank.arena.state.state_from_boards` builds from the
    requests' boards (game ids ``0..n-1``, keys from :func:`game_key`, every seat player 0),
    packed with flat indices from requests already read into cells (bodies are read first).
    """
    reads = [r if isinstance(r, MoveRequest) else read_request(r) for r in requests]
    grid = grid_for(width, height, device)
    n_cells = grid.n_cells
    ring_size = 1 << (width * height + 3 - 1).bit_length()
    n_games = len(reads)
    ring_at: list[int] = []  # flat ring index of each segment
    ring_cells: list[int] = []
    occ_at: list[int] = []  # flat occ index of each segment after the head
    lengths: list[int] = []
    healths: list[int] = []
    killers: list[int] = []
    food_at: list[int] = []
    food_order: list[int] = []
    for b, read in enumerate(reads):
        if (read.width, read.height, len(read.ids)) != (width, height, n_seats):
            raise ValueError(f"request {b} is not a {width}x{height} board with {n_seats} snakes")
        for s, cells in enumerate(read.bodies):
            slot = b * n_seats + s
            ring_at.extend(range(slot * ring_size, slot * ring_size + len(cells)))
            ring_cells.extend(cells)
            occ_base = slot * n_cells
            occ_at.extend([occ_base + c for c in cells[1:]])
            lengths.append(len(cells))
        healths.extend(read.healths)
        # state_from_boards reads a missing ``eliminated_by`` as "": a snake whose id is "" is the killer
        killers.extend([read.ids.index("") if "" in read.ids else NO_KILLER] * n_seats)
        food_base = b * n_cells
        food_at.extend([food_base + c for c in read.food])
        food_order.extend(range(1, len(read.food) + 1))
    turns = [read.turn for read in reads]
    keys = [read.key for read in reads]
    you_seats = [read.you for read in reads]
    ids = [read.ids for read in reads]
    ring = torch.zeros(n_games, n_seats, ring_size, dtype=torch.int16)
    ring.view(-1)[torch.tensor(ring_at, dtype=torch.int64)] = torch.tensor(ring_cells, dtype=torch.int16)
    occ = torch.zeros(n_games, n_seats, n_cells, dtype=torch.int8)
    occ.view(-1).index_put_(
        (torch.tensor(occ_at, dtype=torch.int64),), torch.ones(len(occ_at), dtype=torch.int8), accumulate=True
    )
    food = torch.zeros(n_games, n_cells, dtype=torch.int32)
    food.view(-1)[torch.tensor(food_at, dtype=torch.int64)] = torch.tensor(food_order, dtype=torch.int32)
    shape = (n_games, n_seats)
    cause = torch.full(shape, CAUSES.index(""), dtype=torch.int64)
    state = BatchState(
        grid=grid,
        game_ids=torch.arange(n_games, dtype=torch.int64),
        keys=torch.tensor(keys, dtype=torch.int64),
        turn=torch.tensor(turns, dtype=torch.int64),
        ring=ring,
        head_ptr=torch.zeros(shape, dtype=torch.int64),
        length=torch.tensor(lengths, dtype=torch.int64).view(shape),
        head=ring[:, :, 0].long(),
        health=torch.tensor(healths, dtype=torch.int64).view(shape),
        alive=cause == ALIVE,
        cause=cause,
        killer=torch.tensor(killers, dtype=torch.int64).view(shape),
        elim_turn=torch.zeros(shape, dtype=torch.int64),
        occ=occ,
        cover=occ.sum(1, dtype=torch.int16),
        food=food,
        food_counter=(food.amax(1) + 1).to(torch.int32),
        food_count=(food > 0).sum(1),
        seat_player=torch.zeros(shape, dtype=torch.int64),
        running=torch.ones(n_games, dtype=torch.bool),
    )
    if grid.device != torch.device("cpu"):
        state = BatchState(**{f.name: _on(getattr(state, f.name), grid.device) for f in fields(state)})
    return state, you_seats, ids


def _on(value: Any, device: torch.device) -> Any:
    return value.to(device) if isinstance(value, torch.Tensor) else value
