"""A Battlesnake server in arena seats: the official CLI's protocol, many games at once.

:class:`HttpSnake` sends ``GET /`` once (a server that does not answer it is a user error, as with
the CLI), ``POST /start`` when its games begin, one ``POST /move`` per seat per turn — the seats of
the batch concurrently, on keep-alive connections, as many at once as the server answers well within
the deadline (:mod:`optuna_clank.arena.http.limit`; each deadline counts from the request's own
sending) — and ``POST /end`` with the final board. Request bodies are
:func:`optuna_clank.arena.http.api.move_requests`, CLI-exact (``/move`` bodies come already encoded from
:func:`~optuna_clank.arena.http.api.iter_encoded_move_requests`). A turn's ``/move`` requests go out
before the arena computes the other players' moves and their answers are read after
(:meth:`HttpSnake.choose_later`), so the server thinks while the arena works.

Faults, as the CLI treats them: a late (``timeout_ms``, default 500), failed (non-200, broken
connection) or invalid answer makes the snake repeat its previous move (``up`` on the first
turn), which is the engine's default move (:data:`~optuna_clank.arena.players.NO_MOVE`).
Each is counted per game and seat and lands in
:attr:`optuna_clank.arena.match.SnakeResult.faults`.

A server that is gone (connection refused) cannot play on: the first refused ``/move`` marks
the server down, and from then on each of its seats forfeits
(:data:`~optuna_clank.arena.players.FORFEIT`, elimination cause ``disconnected``, counted as a
disconnect), so its games end at once as losses for it and no request waits on a dead server.
A server that hangs instead times out every turn and keeps going straight into a wall: slower,
but bounded.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import orjson
import torch

from optuna_clank.arena.engine import FoodSettings
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.http.api import api_frame, api_snake, game_object, iter_encoded_move_requests, move_requests
from optuna_clank.arena.http.client import Fault, LoopRunner, MoveAnswer, SnakeClient, SnakeServerError
from optuna_clank.arena.players import FORFEIT, NO_MOVE, Faults, Player, Seats
from optuna_clank.arena.standard import MOVES
from optuna_clank.arena.state import board_from_state
from optuna_clank.core.errors import UserError

_T = TypeVar("_T")
_FAULT_FIELD: dict[str, str] = {"timeout": "timeouts", "error": "errors", "invalid": "invalid", "down": "disconnects"}


async def _all(coroutines: list[Coroutine[Any, Any, _T]]) -> list[_T]:
    """Run ``coroutines`` concurrently on the caller's loop (they are created outside it)."""
    return list(await asyncio.gather(*coroutines))


class SnakeUnreachableError(UserError, SnakeServerError):
    """The server did not answer ``GET /`` when the first games began."""


class HttpSnake(Player):
    """The snake behind the Battlesnake server at ``url``."""

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        timeout_ms: int = 500,
        max_connections: int = 256,
    ) -> None:
        if timeout_ms < 1:
            raise ValueError("timeout_ms must be at least 1")
        self.url = url.rstrip("/")
        self.name = name or "server"
        self.timeout_ms = timeout_ms
        self.max_connections = max_connections
        self.info: dict[str, Any] | None = None
        self.down = False
        self._food = FoodSettings()
        self._session_id = uuid.uuid4().hex[:12]
        self._games: dict[int, tuple[dict[str, Any], list[str]]] = {}  # game -> (game object, snake ids)
        self._game_bytes: dict[int, bytes] = {}  # game -> its encoded game object
        self._latency: dict[tuple[int, int], str] = {}
        self._faults: dict[tuple[int, int], Counter[str]] = {}
        self._loop: LoopRunner | None = None
        self._client: SnakeClient | None = None
        self.limit_stats: dict[str, float] = {}
        """How the in-flight limit went with the last connection (see :meth:`close`)."""

    # -- lifecycle -----------------------------------------------------------------------------

    def prepare(self, *, food: FoodSettings) -> None:
        self._food = food

    def _connect(self) -> SnakeClient:
        if self._client is None:
            self._loop = LoopRunner()
            client = SnakeClient(self.url, timeout_ms=self.timeout_ms, max_connections=self.max_connections)
            self._loop.run(client.__aenter__())
            self._client = client
            try:
                self.info = self._loop.run(client.info())
            except SnakeServerError as exc:
                self.close()
                raise SnakeUnreachableError(f"snake server {self.url}: {exc}") from exc
        return self._client

    def close(self) -> None:
        if self._loop is not None:
            if self._client is not None:
                limit = self._client.limit
                self.limit_stats = {
                    "limit": limit.limit,
                    "peak": max(limit.peak, limit.limit),
                    "shrinks": limit.shrinks,
                    "slowest_ms": round(1000 * limit.slowest),
                }
                self._loop.run(self._client.close())
            self._loop.close()
        self._loop = None
        self._client = None

    def _run(self, coroutine: Any) -> Any:
        assert self._loop is not None
        return self._loop.run(coroutine)

    # -- games ---------------------------------------------------------------------------------

    def start_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        client = self._connect()
        games = view.state.game_ids[seats.games].tolist()
        for game, ids in zip(games, snake_ids, strict=True):
            if game not in self._games:
                game_id = f"{self._session_id}-{game}"
                self._games[game] = (game_object(game_id, food=self._food, timeout_ms=self.timeout_ms), list(ids))
                self._game_bytes[game] = orjson.dumps(self._games[game][0])
        for key in zip(games, seats.seats.tolist(), strict=True):
            self._faults[key] = Counter()
            self._latency[key] = "0"
        if self.down:
            return
        bodies = self._bodies(view, seats)
        faults = self._run(_all([client.notify("/start", b) for b in bodies]))
        if "down" in faults:
            self.down = True

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        return self.choose_later(view, seats)()

    def choose_later(self, view: TurnView, seats: Seats) -> Callable[[], torch.Tensor]:
        """Send this turn's ``/move`` requests now; the answers are read when the result is called.

        The timeout counts from the sending. A ``latency`` reported back to the snake is measured
        to when its answer was read, which may be a little after it arrived.
        """
        if self.down:
            self._count_forfeits(view, seats)
            forfeits = torch.full((len(seats),), FORFEIT, dtype=torch.int64)
            return lambda: forfeits
        client = self._connect()
        games = view.state.game_ids[seats.games].tolist()
        keys = list(zip(games, seats.seats.tolist(), strict=True))
        bodies = iter_encoded_move_requests(  # each sent as it is built
            view.state,
            seats,
            [self._games[g][1] for g in games],
            [self._game_bytes[g] for g in games],
            latencies=[self._latency.get(k, "0") for k in keys],
        )
        flight = self._run(client.send_moves(bodies))
        return lambda: self._moves(keys, self._run(client.collect_moves(flight, self.timeout_ms)))

    def _moves(self, keys: list[tuple[int, int]], answers: list[MoveAnswer]) -> torch.Tensor:
        moves = []
        for key, answer in zip(keys, answers, strict=True):
            self._latency[key] = str(answer.latency_ms)
            if answer.fault:
                self._count(key, answer.fault)
            if answer.fault == "down":
                self.down = True
                moves.append(FORFEIT)
            else:
                moves.append(MOVES.index(answer.move) if answer.move is not None else NO_MOVE)
        return torch.tensor(moves, dtype=torch.int64)

    def end_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        del snake_ids
        if not self.down and self._client is not None:
            bodies = self._bodies(view, seats)
            self._run(_all([self._client.notify("/end", b) for b in bodies]))
        for game in set(view.state.game_ids[seats.games].tolist()):
            self._games.pop(game, None)
            self._game_bytes.pop(game, None)

    def take_faults(self, game: int, seat: int) -> Faults:
        self._latency.pop((game, seat), None)
        counts = self._faults.pop((game, seat), Counter())
        return Faults(**{field: counts[field] for field in Faults._fields})

    # -- helpers -------------------------------------------------------------------------------

    def _count(self, key: tuple[int, int], fault: Fault) -> None:
        self._faults.setdefault(key, Counter())[_FAULT_FIELD[fault]] += 1

    def _count_forfeits(self, view: TurnView, seats: Seats) -> None:
        for key in zip(view.state.game_ids[seats.games].tolist(), seats.seats.tolist(), strict=True):
            if not self._faults.setdefault(key, Counter())["disconnects"]:
                self._count(key, "down")

    def _bodies(self, view: TurnView, seats: Seats) -> list[dict[str, Any]]:
        """Request bodies of ``seats``; a seat that is no longer alive (``/end``) is shown anyway."""
        state = view.state
        games = state.game_ids[seats.games].tolist()
        keys = list(zip(games, seats.seats.tolist(), strict=True))
        if bool(state.alive[seats.games, seats.seats].all()):
            return move_requests(
                state,
                seats,
                [self._games[g][1] for g in games],
                [self._games[g][0] for g in games],
                latencies=[self._latency.get(k, "0") for k in keys],
            )
        return [self._final_body(view, seats, i) for i in range(len(seats))]

    def _final_body(self, view: TurnView, seats: Seats, i: int) -> dict[str, Any]:
        """A final-board body for ``/end``, whose ``you`` may already be eliminated."""
        row, seat = int(seats.games[i]), int(seats.seats[i])
        game = int(view.state.game_ids[row])
        game_obj, ids = self._games[game]
        frame = api_frame(view.state, row, ids)
        snake = board_from_state(view.state, row, ids)["snakes"][seat]
        you = api_snake(snake["id"], snake["body"], snake["health"], latency=self._latency.get((game, seat), "0"))
        return {"game": game_obj, **frame, "you": you}
