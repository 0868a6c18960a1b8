"""Matches: many games of one candidate against opponents, with honest statistics.

Game ``i`` of a match with seed ``s`` is fully determined by ``(s, i)``: its start board,
seat order and every random draw of the engine and of random opponents come from a key of
the *deal* ``i // seats``. Consecutive games of a deal replay the same start with the seats
rotated, so no side keeps the favourable start, and two configs playing game ``i`` face the
very same game (common random numbers). Games run batched; finished games leave the batch and
waiting ones join it, so a long game never holds up the rest.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import torch

from optuna_clank.arena.api import api_frame
from optuna_clank.arena.bounds import BOARD_MAX, BOARD_MIN, Mode, within_bounds
from optuna_clank.arena.config import Config
from optuna_clank.arena.counter_rng import game_key
from optuna_clank.arena.engine import FoodSettings, forfeit, retire, step
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.grid import grid_for
from optuna_clank.arena.opponents import make_opponent
from optuna_clank.arena.players import FORFEIT, Faults, Player, Seats
from optuna_clank.arena.setup import start_games
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.arena.standard import MOVES
from optuna_clank.arena.state import CAUSES, NO_KILLER, BatchState
from optuna_clank.stats import game_phase, wilson_interval

CANDIDATE = 0
"""Player index of the candidate in every match."""


class SnakeResult(NamedTuple):
    """How one snake of a finished game fared."""

    seat: int
    player: str
    cause: str  # "" while alive at the end
    eliminated_on_turn: int
    eliminated_by: str  # player name of the killer, "" for none
    length: int
    faults: Faults = Faults()  # answers a server failed to give (always none for built-in snakes)


Result = Literal["win", "loss", "draw"]
"""A finished game, for the candidate."""


class GameOutcome(NamedTuple):
    """One finished game from the candidate's point of view."""

    game: int
    result: Result
    turns: int
    candidate_seat: int
    opponents: tuple[str, ...]
    snakes: tuple[SnakeResult, ...]
    capped: bool  # ended by the turn cap (counted as a draw)

    @property
    def score(self) -> float:
        """Graded score used as the study objective: win 1, draw 0.5, loss 0."""
        return {"win": 1.0, "draw": 0.5, "loss": 0.0}[self.result]

    @property
    def candidate(self) -> SnakeResult:
        return self.snakes[self.candidate_seat]

    @property
    def opponent_faults(self) -> Faults:
        """Faults of the opponents' servers in this game, summed."""
        return sum((s.faults for s in self.snakes if s.seat != self.candidate_seat), Faults())


@dataclass(frozen=True)
class MatchResult:
    """Per-game outcomes (sorted by game index) and their aggregates."""

    outcomes: tuple[GameOutcome, ...]
    seconds: float
    history: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def games(self) -> int:
        return len(self.outcomes)

    def _count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    @property
    def wins(self) -> int:
        return self._count("win")

    @property
    def losses(self) -> int:
        return self._count("loss")

    @property
    def draws(self) -> int:
        return self._count("draw")

    @property
    def win_rate(self) -> float:
        return self.wins / self.games if self.games else 0.0

    @property
    def win_rate_ci(self) -> tuple[float, float]:
        """Wilson 95% interval of the win rate."""
        return wilson_interval(self.wins, self.games)

    @property
    def mean_score(self) -> float:
        return sum(o.score for o in self.outcomes) / self.games if self.games else 0.0

    @property
    def turns(self) -> int:
        """Turns played over all games."""
        return sum(o.turns for o in self.outcomes)

    @property
    def avg_turns(self) -> float:
        return self.turns / self.games if self.games else 0.0

    def death_causes(self, *, who: Literal["candidate", "opponents"] = "candidate") -> dict[str, dict[str, int]]:
        """``{cause: {phase: count}}`` of the deaths of the candidate (or of its opponents)."""
        counts: Counter[tuple[str, str]] = Counter()
        for outcome in self.outcomes:
            for snake in outcome.snakes:
                is_candidate = snake.seat == outcome.candidate_seat
                if snake.cause and is_candidate == (who == "candidate"):
                    counts[(snake.cause, game_phase(snake.eliminated_on_turn))] += 1
        table: dict[str, dict[str, int]] = {}
        for (cause, phase), count in sorted(counts.items()):
            table.setdefault(cause, {})[phase] = count
        return table

    def faults(self, *, who: Literal["candidate", "opponents"] = "candidate") -> Faults:
        """Faults of the candidate's (or the opponents') server over all games, summed."""
        if who == "candidate":
            return sum((o.candidate.faults for o in self.outcomes), Faults())
        return sum((o.opponent_faults for o in self.outcomes), Faults())

    def summary(self) -> dict[str, Any]:
        """The aggregates as a JSON-ready dict (what ``play --json`` prints)."""
        low, high = self.win_rate_ci
        seconds = max(self.seconds, 1e-9)
        return {
            "games": self.games,
            "wins": self.wins,
            "losses": self.losses,
            "draws": self.draws,
            "win_rate": self.win_rate,
            "ci_low": low,
            "ci_high": high,
            "mean_score": self.mean_score,
            "avg_turns": self.avg_turns,
            "capped_games": sum(1 for o in self.outcomes if o.capped),
            "seconds": self.seconds,
            "games_per_second": self.games / seconds,
            "turns_per_second": self.turns / seconds,
            "death_causes": self.death_causes(),
            "opponent_death_causes": self.death_causes(who="opponents"),
            "faults": self.faults()._asdict(),
            "opponent_faults": self.faults(who="opponents")._asdict(),
        }


@dataclass(frozen=True)
class _Deal:
    """Who sits where in one game, and its random key."""

    game: int
    key: int
    players: tuple[int, ...]  # player index per seat


def play_match(
    candidate: Config | Player | None = None,
    opponents: str | Player | Sequence[str | Player] = "baseline",
    *,
    games: int | Iterable[int] = 100,
    seed: int = 0,
    device: str | torch.device = "cpu",
    board_size: int | tuple[int, int] = 11,
    mode: Mode = "duel",
    max_turns: int = 1000,
    batch_size: int = 1024,
    food: FoodSettings | None = None,
    record: Iterable[int] = (),
    on_game_end: Callable[[GameOutcome], object] | None = None,
) -> MatchResult:
    """Play ``games`` games of ``candidate`` against ``opponents`` and gather the outcomes.

    Args:
        candidate: a snake config (nested go-battleclank shape), any :class:`Player`, or
            ``None`` for the default heuristic config.
        opponents: one opponent or several (names, config paths or players). In ``duel`` mode
            each deal picks the next opponent in turn; in ``free-for-all`` all share one board.
        games: a number of games (indices ``0..n-1``) or explicit game indices; the same index
            under the same seed is the same game for every candidate.
        seed: match seed (start positions, seats, food and random opponents derive from it).
        device: torch device the batch runs on (``cpu``, ``cuda``, ``cuda:3``).
        board_size: ``n`` for n x n, or ``(width, height)``; 7..25.
        max_turns: turn cap; a game still running then ends as a draw.
        batch_size: games simulated at once.
        food: food spawning settings (official defaults: minimum 1, chance 15).
        record: game indices whose full history (Battlesnake API boards, turn by turn) to keep.
        on_game_end: called with each outcome as soon as its game finishes.
    """
    width, height = (board_size, board_size) if isinstance(board_size, int) else board_size
    if not within_bounds(width, height):
        raise ValueError(f"board size must be within {BOARD_MIN}..{BOARD_MAX}, got {width}x{height}")
    if max_turns < 1:
        raise ValueError("max_turns must be at least 1")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    players = [_as_player(candidate), *[_as_opponent(o) for o in _as_list(opponents)]]
    food = food or FoodSettings()
    for player in players:
        player.prepare(food=food)
    n_seats = _seat_count(mode, len(players) - 1)
    indices = list(range(games)) if isinstance(games, int) else list(games)
    if len(set(indices)) != len(indices) or any(i < 0 for i in indices):
        raise ValueError("game indices must be distinct and non-negative")
    deals = [_deal(i, seed, n_seats, len(players) - 1, mode) for i in indices]
    recorder = _Recorder(set(record), players)
    runner = _BatchRunner(
        players=players,
        size=(width, height),
        device=torch.device(device),
        food=food,
        max_turns=max_turns,
        stop_when_candidate_dies=(mode == "free-for-all" and n_seats > 2),
        recorder=recorder,
    )
    started = time.perf_counter()
    try:
        outcomes = runner.run(deals, batch_size, on_game_end)
    finally:  # players may hold connections and event loops
        for player in players:
            player.close()
    seconds = time.perf_counter() - started
    return MatchResult(
        outcomes=tuple(sorted(outcomes, key=lambda o: o.game)),
        seconds=seconds,
        history=recorder.frames,
    )


def _as_list(opponents: str | Player | Sequence[str | Player]) -> list[str | Player]:
    if isinstance(opponents, str | Player):
        return [opponents]
    return list(opponents)


def _as_player(candidate: Config | Player | None) -> Player:
    if isinstance(candidate, Player):
        return candidate
    return HeuristicSnake(candidate, name="candidate")


def _as_opponent(opponent: str | Player) -> Player:
    return opponent if isinstance(opponent, Player) else make_opponent(opponent)


def _seat_count(mode: Mode, n_opponents: int) -> int:
    if mode == "duel":
        return 2 if n_opponents else 1
    if mode == "free-for-all":
        if not 1 <= n_opponents + 1 <= 8:
            raise ValueError("a free-for-all seats 1 to 8 snakes")
        return n_opponents + 1
    raise ValueError(f"unknown mode {mode!r} (duel or free-for-all)")


def _deal(game: int, seed: int, n_seats: int, n_opponents: int, mode: Mode) -> _Deal:
    """Seats of game ``game``: the candidate rotates through the seats of its deal."""
    deal, candidate_seat = divmod(game, n_seats)
    if mode == "duel":
        others = [1 + deal % n_opponents] * (n_seats - 1) if n_opponents else []
    else:
        others = list(range(1, n_opponents + 1))
    others.insert(candidate_seat, CANDIDATE)
    return _Deal(game=game, key=game_key(seed, deal), players=tuple(others))


def _snake_ids(players: Sequence[Player], seat_players: Sequence[int]) -> list[str]:
    """Unique, readable snake ids per seat: the player name, suffixed when repeated."""
    names = tuple("candidate" if i == CANDIDATE else p.name for i, p in enumerate(players))
    return list(_ids_for(names, tuple(seat_players)))


@functools.lru_cache(maxsize=256)
def _ids_for(names: tuple[str, ...], seat_players: tuple[int, ...]) -> tuple[str, ...]:
    seen: Counter[str] = Counter()
    ids = []
    for index in seat_players:
        seen[names[index]] += 1
        ids.append(names[index] if seen[names[index]] == 1 else f"{names[index]}-{seen[names[index]]}")
    return tuple(ids)


class _Recorder:
    """Keeps Battlesnake API boards, turn by turn, of the games asked for."""

    def __init__(self, games: set[int], players: Sequence[Player]) -> None:
        self.games = games
        self.players = players
        self.frames: dict[int, list[dict[str, Any]]] = {}

    def capture(self, state: BatchState, moves: torch.Tensor | None) -> None:
        if not self.games:
            return
        running = state.running.tolist()
        for row, game in enumerate(state.game_ids.tolist()):
            if game not in self.games or not running[row]:
                continue
            ids = _snake_ids(self.players, state.seat_player[row].tolist())
            frame = api_frame(state, row, ids)
            if moves is not None:
                frame["moves"] = {
                    ids[s]: MOVES[m] if m >= 0 else None
                    for s, m in enumerate(moves[row].tolist())
                    if bool(state.alive[row, s])
                }
            self.frames.setdefault(game, []).append(frame)


class _BatchRunner:
    """Runs deals through the batched engine, refilling the batch as games finish."""

    def __init__(
        self,
        *,
        players: Sequence[Player],
        size: tuple[int, int],
        device: torch.device,
        food: FoodSettings,
        max_turns: int,
        stop_when_candidate_dies: bool,
        recorder: _Recorder,
    ) -> None:
        self.players = players
        self.size = size
        self.device = device
        self.food = food
        self.max_turns = max_turns
        self.stop_when_candidate_dies = stop_when_candidate_dies
        self.recorder = recorder

    def run(
        self,
        deals: Sequence[_Deal],
        batch_size: int,
        on_game_end: Callable[[GameOutcome], object] | None,
    ) -> list[GameOutcome]:
        pending = list(deals)
        by_game = {d.game: d for d in deals}
        outcomes: list[GameOutcome] = []
        active: BatchState | None = None
        while pending or active is not None:
            n_running = 0 if active is None else int(active.running.sum())
            if pending and n_running <= batch_size // 2:
                joining = pending[: batch_size - n_running]
                del pending[: len(joining)]
                fresh = self._start(joining)
                active = fresh if active is None else BatchState.concat([_compact(active), fresh])
            assert active is not None
            moves = self._moves(active)
            self.recorder.capture(active, moves)
            forfeit(active, moves == FORFEIT)
            finished = step(active, moves, self.food) | (active.running & (active.turn >= self.max_turns))
            if self.stop_when_candidate_dies:
                finished |= active.running & ~(active.alive & (active.seat_player == CANDIDATE)).any(1)
            if bool(finished.any()):
                done = active.select(finished)
                self.recorder.capture(done, None)
                self._notify_end(done)
                for outcome in self._outcomes(done, by_game):
                    outcomes.append(outcome)
                    if on_game_end is not None:
                        on_game_end(outcome)
                retire(active, finished)
                running = int(active.running.sum())
                if running == 0:
                    active = None
                elif running < 0.75 * active.n_games:
                    active = _compact(active)
        return outcomes

    def _start(self, deals: Sequence[_Deal]) -> BatchState:
        width, height = self.size
        state = start_games(
            grid_for(width, height, self.device),
            [_snake_ids(self.players, deal.players) for deal in deals],
            game_ids=[d.game for d in deals],
            keys=[d.key for d in deals],
            seat_players=[d.players for d in deals],
        )
        self._notify_start(state)
        return state

    def _seats_by_player(self, state: BatchState, only_alive: bool) -> list[tuple[int, Seats]]:
        held = []
        for index in range(len(self.players)):
            mask = state.seat_player == index
            if only_alive:
                mask = mask & state.alive
            rows = torch.nonzero(mask)
            if rows.numel():
                held.append((index, Seats(games=rows[:, 0], seats=rows[:, 1])))
        return held

    def _moves(self, state: BatchState) -> torch.Tensor:
        """Every player's moves for its seats.

        Players that answer later (snake servers) are asked first and read last: the server
        thinks while the arena computes the other players' moves, instead of after them.
        """
        view = TurnView(state)
        held = self._seats_by_player(state, only_alive=True)
        held.sort(key=lambda item: not self.players[item[0]].answers_later)
        answers = [(seats, self.players[index].choose_later(view, seats)) for index, seats in held]
        moves = torch.full((state.n_games, state.n_seats), -1, dtype=torch.int64, device=state.head.device)
        for seats, answer in answers:
            moves[seats.games, seats.seats] = answer().to(moves.device)
        return moves

    def _ids_for(self, state: BatchState, seats: Seats) -> list[list[str]]:
        rows = state.seat_player[seats.games].tolist()
        return [_snake_ids(self.players, row) for row in rows]

    def _notify_start(self, state: BatchState) -> None:
        view = TurnView(state)
        for index, seats in self._seats_by_player(state, only_alive=False):
            player = self.players[index]
            if type(player).start_games is not Player.start_games:
                player.start_games(view, seats, self._ids_for(state, seats))

    def _notify_end(self, state: BatchState) -> None:
        view = TurnView(state)
        for index, seats in self._seats_by_player(state, only_alive=False):
            player = self.players[index]
            if type(player).end_games is not Player.end_games:
                player.end_games(view, seats, self._ids_for(state, seats))

    def _faults(self, game: int, seat: int, player_index: int) -> Faults:
        player = self.players[player_index]
        return Faults() if _no_faults(player) else player.take_faults(game, seat)

    def _outcomes(self, done: BatchState, by_game: dict[int, _Deal]) -> list[GameOutcome]:
        names = ["candidate", *(p.name for p in self.players[1:])]
        columns = {
            name: getattr(done, name).tolist()
            for name in (
                "game_ids",
                "turn",
                "alive",
                "cause",
                "killer",
                "elim_turn",
                "length",
                "seat_player",
            )
        }
        outcomes = []
        for row, game in enumerate(columns["game_ids"]):
            deal = by_game[game]
            seat_players = columns["seat_player"][row]
            alive = columns["alive"][row]
            candidate_seat = seat_players.index(CANDIDATE)
            faults = [self._faults(game, s, seat_players[s]) for s in range(len(seat_players))]
            snakes = tuple(
                SnakeResult(
                    seat=s,
                    player=names[seat_players[s]],
                    cause=CAUSES[columns["cause"][row][s]],
                    eliminated_on_turn=columns["elim_turn"][row][s],
                    eliminated_by=_killer_name(columns["killer"][row][s], seat_players, names),
                    length=columns["length"][row][s],
                    faults=faults[s],
                )
                for s in range(len(seat_players))
            )
            n_alive = sum(alive)
            capped = n_alive > 1 and alive[candidate_seat]
            result: Result
            if len(seat_players) == 1:
                result = "draw"
            elif alive[candidate_seat] and n_alive == 1:
                result = "win"
            elif n_alive == 0 or capped:
                result = "draw"
            else:
                result = "loss"
            outcomes.append(
                GameOutcome(
                    game=game,
                    result=result,
                    turns=columns["turn"][row],
                    candidate_seat=candidate_seat,
                    opponents=tuple(names[p] for p in deal.players if p != CANDIDATE),
                    snakes=snakes,
                    capped=capped,
                )
            )
        return outcomes


def _no_faults(player: Player) -> bool:
    return type(player).take_faults is Player.take_faults


def _killer_name(killer: int, seat_players: Sequence[int], names: Sequence[str]) -> str:
    return "" if killer == NO_KILLER else names[seat_players[killer]]


def _compact(state: BatchState) -> BatchState:
    """Drop retired games from the batch (a copy of every tensor: done only now and then)."""
    return state if bool(state.running.all()) else state.select(state.running)
