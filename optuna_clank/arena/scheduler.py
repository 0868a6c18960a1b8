"""Continuous batching: the games of many candidates in one batch, each row playing its own candidate.

A :class:`GameScheduler` holds one batch of running games (one board size, seat count, turn cap,
food settings and device) and a queue of games waiting for a row. Candidates (a trial's snake, a
config to validate) join it at any time, each with its own opponents, seed and mode; their games
are queued as ``(candidate, game index)`` and started in the order queued. When a game ends, its
row goes to the next queued game of any candidate (in place, without copying the batch), so the
batch stays full while games wait; each finished game is handed to its candidate at once
(``on_game_end``, :meth:`GameScheduler.outcomes`). A candidate's waiting games can be dropped
(:meth:`GameScheduler.cancel`: a pruned trial stops spending rows at once).

Common random numbers hold whatever shares the batch: game ``i`` of seed ``s`` is seated and dealt
from ``(s, i)`` alone (:mod:`optuna_clank.arena.deals`), every random draw of the engine is keyed by
the game, and every snake decides each row from that row alone. So each candidate's outcomes are
exactly those of :func:`~optuna_clank.arena.match.play_match` of that candidate alone.

Players of one family (:attr:`~optuna_clank.arena.players.Player.family`: every ``gbc`` config, every
heuristic config) answer for all their seats in one vectorised call, each seat with its own config;
any other player (a snake server, ``baseline``) answers for its own seats, servers first, so that
they think while the arena computes the rest.

Example (a doctest)::

    >>> from optuna_clank.arena.scheduler import GameScheduler
    >>> with GameScheduler(board_size=7, batch_size=8) as batch:
    ...     a = batch.add(None, "baseline", games=range(4), seed=1)
    ...     b = batch.add(None, "random-safe", games=range(4), seed=1)
    ...     batch.run()
    ...     len(batch.outcomes(a)), len(batch.outcomes(b))
    (4, 4)
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import torch

from optuna_clank.arena.bounds import BOARD_MAX, BOARD_MIN, Mode, within_bounds
from optuna_clank.arena.config import Config
from optuna_clank.arena.deals import CANDIDATE, CANDIDATE_NAME, deal_of, player_names, seat_count, snake_ids
from optuna_clank.arena.deals import Deal as _Deal
from optuna_clank.arena.engine import FoodSettings, forfeit, retire, step
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.grid import grid_for
from optuna_clank.arena.http.api import api_frame
from optuna_clank.arena.opponents import make_opponent
from optuna_clank.arena.outcome import GameOutcome, MatchResult, Result, SnakeResult
from optuna_clank.arena.players import FORFEIT, Faults, Player, Seats
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.arena.standard import MOVES
from optuna_clank.arena.start_boards import start_games
from optuna_clank.arena.state import CAUSES, NO_KILLER, BatchState

GameCallback = Callable[[GameOutcome], object]
"""Called with each finished game's outcome, as soon as the game ends."""

Opponent = str | Player
"""An opponent name (built-in, config path, ``gbc:``, ``url:``, ``cmd:``) or a player."""

DEFAULT_REFILL_SHARE = 16
"""Rows are refilled once ``batch_size / DEFAULT_REFILL_SHARE`` of them are free (or the queue fits):
starting games costs a fixed few operations, worth paying for a handful of rows at once."""


@dataclass(eq=False)
class _Entry:
    """A player in the batch's seats: a candidate's own snake, or an opponent shared by candidates."""

    player: Player
    candidate: int | None  # the candidate id when these are a candidate's own seats


@dataclass(eq=False)
class _Candidate:
    entry: int
    players: tuple[int, ...]  # entry of each match-local player (0 = the candidate)
    names: tuple[str, ...]  # match-local player names ("candidate", then the opponents')
    seed: int
    mode: Mode
    on_game_end: GameCallback | None
    owned: list[Player]  # made here: closed when the candidate leaves
    games: set[int] = field(default_factory=set)  # every game index queued so far
    queued: int = 0
    playing: int = 0
    outcomes: list[GameOutcome] = field(default_factory=list)
    history: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Ticket:
    """One queued or running game: whose it is, how it is dealt, its snake ids."""

    candidate: int
    deal: _Deal
    ids: tuple[str, ...]
    record: bool


@dataclass
class _Group:
    """Players asked together: one player, or several of one family (one vectorised call)."""

    players: list[Player]
    later: bool  # answers later (a server): asked first


class GameScheduler:
    """One continuously refilled batch of games of many candidates (see the module doc).

    Args:
        board_size: ``n`` for n x n, or ``(width, height)``; 7..25.
        max_turns: turn cap; a game still running then ends as a draw.
        food: food spawning settings (official defaults: minimum 1, chance 15).
        device: torch device the batch runs on.
        batch_size: rows: games played at once.
        refill: refill the batch once this many rows are free (or every queued game fits);
            default ``batch_size / 16``, at least 1.
    """

    def __init__(
        self,
        *,
        board_size: int | tuple[int, int] = 11,
        max_turns: int = 1000,
        food: FoodSettings | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = 1024,
        refill: int | None = None,
    ) -> None:
        width, height = (board_size, board_size) if isinstance(board_size, int) else board_size
        if not within_bounds(width, height):
            raise ValueError(f"board size must be within {BOARD_MIN}..{BOARD_MAX}, got {width}x{height}")
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.max_turns = max_turns
        self.food = food or FoodSettings()
        self.device = torch.device(device)
        self.refill = max(1, refill if refill is not None else batch_size // DEFAULT_REFILL_SHARE)
        self._grid = grid_for(width, height, self.device)
        self._entries: list[_Entry | None] = []
        self._free_entries: list[int] = []
        self._opponents: dict[Hashable, int] = {}
        self._owned_opponents: list[Player] = []
        self._candidates: dict[int, _Candidate] = {}
        self._candidate_ids = itertools.count()
        self._ticket_ids = itertools.count()
        self._tickets: dict[int, _Ticket] = {}
        self._queue: deque[int] = deque()
        self._active: BatchState | None = None
        self._running = 0
        self._n_seats: int | None = None
        self._recorded: set[int] = set()  # recorded tickets now in the batch
        self._frames: dict[int, list[dict[str, Any]]] = {}
        self._layout: _Layout | None = None

    # -- candidates ----------------------------------------------------------------------------

    def add(
        self,
        candidate: Config | Player | None,
        opponents: Opponent | Sequence[Opponent] = "baseline",
        *,
        seed: int = 0,
        mode: Mode = "duel",
        games: Iterable[int] = (),
        record: Iterable[int] = (),
        on_game_end: GameCallback | None = None,
    ) -> int:
        """A new candidate (a config of the heuristic snake, any player, ``None`` for the default
        config) against ``opponents``; its ``games`` are queued. Returns its id.

        Opponents given by name are made once per scheduler and shared by every candidate naming
        them; players are shared by identity. Every candidate of one scheduler seats as many
        snakes per game (a duel two, a free-for-all all of them).
        """
        opponent_list: list[Opponent] = [opponents] if isinstance(opponents, str | Player) else list(opponents)
        n_seats = seat_count(mode, len(opponent_list))
        if self._candidates and n_seats != self._n_seats:
            raise ValueError(f"a batch of {self._n_seats}-seat games cannot hold {n_seats}-seat games")
        self._n_seats = n_seats
        owned: list[Player] = []
        if isinstance(candidate, Player):
            player = candidate
        else:
            player = HeuristicSnake(candidate, name=CANDIDATE_NAME)
            owned.append(player)
        cid = next(self._candidate_ids)
        entry = self._new_entry(player, cid)
        opponent_entries = tuple(self._opponent_entry(o) for o in opponent_list)
        self._candidates[cid] = _Candidate(
            entry=entry,
            players=(entry, *opponent_entries),
            names=player_names([self._player(e).name for e in opponent_entries]),
            seed=seed,
            mode=mode,
            on_game_end=on_game_end,
            owned=owned,
        )
        self.queue(cid, games, record=record)
        return cid

    def queue(self, candidate: int, games: Iterable[int], *, record: Iterable[int] = ()) -> None:
        """Queue more games of a candidate (e.g. its next round); ``record`` keeps their boards."""
        cand = self._candidates[candidate]
        indices = list(games)
        if len(set(indices)) != len(indices) or any(i < 0 for i in indices):
            raise ValueError("game indices must be distinct and non-negative")
        again = cand.games.intersection(indices)
        if again:
            raise ValueError(f"games already queued for this candidate: {sorted(again)[:5]}")
        assert self._n_seats is not None
        recorded = set(record)
        n_opponents = len(cand.players) - 1
        for game in indices:
            deal = deal_of(game, cand.seed, self._n_seats, n_opponents, cand.mode)
            ticket = next(self._ticket_ids)
            self._tickets[ticket] = _Ticket(candidate, deal, snake_ids(cand.names, deal.players), game in recorded)
            self._queue.append(ticket)
        cand.games.update(indices)
        cand.queued += len(indices)

    def cancel(self, candidate: int) -> int:
        """Drop a candidate's queued games and stop its running ones (their rows go to others).

        Returns how many games were dropped; the outcomes already delivered stay.
        """
        cand = self._candidates[candidate]
        dropped = cand.queued + cand.playing
        if cand.queued:
            kept: deque[int] = deque()
            for ticket in self._queue:
                if self._tickets[ticket].candidate == candidate:
                    del self._tickets[ticket]
                else:
                    kept.append(ticket)
            self._queue = kept
            cand.queued = 0
        if cand.playing and self._active is not None:
            self._stop_rows(self._active, candidate)
        return dropped

    def remove(self, candidate: int) -> None:
        """Forget a candidate (its unplayed games are dropped); the players made for it are closed."""
        self.cancel(candidate)
        cand = self._candidates.pop(candidate)
        self._entries[cand.entry] = None
        self._free_entries.append(cand.entry)
        self._layout = None
        for player in cand.owned:
            player.close()

    def pending(self, candidate: int) -> int:
        """Games of the candidate queued or running."""
        cand = self._candidates[candidate]
        return cand.queued + cand.playing

    def outcomes(self, candidate: int) -> list[GameOutcome]:
        """The candidate's finished games so far, in the order they finished."""
        return list(self._candidates[candidate].outcomes)

    def frames(self, candidate: int, game: int) -> list[dict[str, Any]] | None:
        """The recorded boards of one finished game of the candidate (``None``: not recorded)."""
        return self._candidates[candidate].history.get(game)

    def result(self, candidate: int, *, seconds: float = 0.0) -> MatchResult:
        """The candidate's finished games as a match result (by game index), with recorded boards."""
        cand = self._candidates[candidate]
        return MatchResult(
            outcomes=tuple(sorted(cand.outcomes, key=lambda o: o.game)),
            seconds=seconds,
            history=dict(cand.history),
        )

    @property
    def busy(self) -> bool:
        """Whether any game is queued or running."""
        return bool(self._queue) or self._running > 0

    @property
    def running(self) -> int:
        """Games in the batch now."""
        return self._running

    @property
    def queued(self) -> int:
        """Games waiting for a row."""
        return len(self._queue)

    # -- playing -------------------------------------------------------------------------------

    def run(self) -> None:
        """Play until no game is queued or running."""
        while self.step():
            pass

    def step(self) -> bool:
        """Refill the batch, play one turn of every running game, hand out the finished games.

        Returns whether games remain (queued or running). Callbacks may queue, cancel, add and
        remove candidates.
        """
        self._fill()
        state = self._active
        if state is None:
            return self.busy
        layout = self._current_layout()
        moves = self._moves(state, layout)
        self._capture(state, moves)
        forfeit(state, moves == FORFEIT)
        finished = step(state, moves, self.food) | (state.running & (state.turn >= self.max_turns))
        if self._n_seats is not None and self._n_seats > 2:  # a free-for-all ends with its candidate
            candidate_alive = (state.alive & layout.is_candidate[state.seat_player]).any(1)
            finished |= state.running & ~candidate_alive
        if bool(finished.any()):
            for cid, outcome in self._finish(state, finished, layout):
                cand = self._candidates.get(cid)
                if cand is not None and cand.on_game_end is not None:
                    cand.on_game_end(outcome)
        return self.busy

    def close(self) -> None:
        """Drop every game and close the players made here (opponents by name, default configs)."""
        for cid in list(self._candidates):
            self.remove(cid)
        for player in self._owned_opponents:
            player.close()
        self._owned_opponents.clear()
        self._opponents.clear()
        self._active = None

    def __enter__(self) -> GameScheduler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- players -------------------------------------------------------------------------------

    def _player(self, entry: int) -> Player:
        found = self._entries[entry]
        assert found is not None
        return found.player

    def _new_entry(self, player: Player, candidate: int | None) -> int:
        player.prepare(food=self.food)
        record = _Entry(player, candidate)
        self._layout = None
        if self._free_entries:
            index = self._free_entries.pop()
            self._entries[index] = record
            return index
        self._entries.append(record)
        return len(self._entries) - 1

    def _opponent_entry(self, opponent: Opponent) -> int:
        key: Hashable = ("name", opponent) if isinstance(opponent, str) else ("player", id(opponent))
        entry = self._opponents.get(key)
        if entry is None:
            if isinstance(opponent, str):
                player = make_opponent(opponent)
                self._owned_opponents.append(player)
            else:
                player = opponent
            entry = self._opponents[key] = self._new_entry(player, None)
        return entry

    def _current_layout(self) -> _Layout:
        if self._layout is None:
            self._layout = _Layout(self._entries, self.device)
        return self._layout

    # -- the batch -----------------------------------------------------------------------------

    def _fill(self) -> None:
        """Start queued games in free rows (in place), growing the batch up to ``batch_size``."""
        free = self.batch_size - self._running
        if not self._queue or free <= 0:
            return
        if self._running and free < min(self.refill, len(self._queue)):
            return
        tickets = [self._queue.popleft() for _ in range(min(free, len(self._queue)))]
        for ticket in tickets:
            record = self._tickets[ticket]
            cand = self._candidates[record.candidate]
            cand.queued -= 1
            cand.playing += 1
            if record.record:
                self._recorded.add(ticket)
        fresh = self._start(tickets)
        self._running += len(tickets)
        active = self._active
        if active is None or not bool(active.running.any()):
            self._active = fresh
            return
        idle = torch.nonzero(~active.running).flatten()
        placed = min(len(tickets), int(idle.numel()))
        if placed:
            rows = idle[:placed]
            for f in fields(BatchState):
                if f.name != "grid":
                    getattr(active, f.name)[rows] = getattr(fresh, f.name)[:placed]
        if placed < len(tickets):
            self._active = BatchState.concat([active, fresh.select(torch.arange(placed, len(tickets)))])

    def _start(self, tickets: Sequence[int]) -> BatchState:
        records = [self._tickets[t] for t in tickets]
        seat_entries = [tuple(self._candidates[r.candidate].players[p] for p in r.deal.players) for r in records]
        state = start_games(
            self._grid,
            [r.ids for r in records],
            game_ids=list(tickets),
            keys=[r.deal.key for r in records],
            seat_players=seat_entries,
        )
        self._notify(state, starting=True)
        return state

    def _moves(self, state: BatchState, layout: _Layout) -> torch.Tensor:
        """Every player's moves for its live seats: one call per group (see :class:`_Layout`)."""
        view = TurnView(state)
        moves = torch.full((state.n_games, state.n_seats), -1, dtype=torch.int64, device=state.head.device)
        pairs = torch.nonzero(state.alive)
        if pairs.numel() == 0:
            return moves
        games, seats = pairs[:, 0], pairs[:, 1]
        entries = state.seat_player[games, seats]
        groups = layout.group_of[entries]
        order = torch.argsort(groups, stable=True)
        counts = torch.bincount(groups, minlength=len(layout.groups)).tolist()
        bounds = [0, *itertools.accumulate(counts)]
        asked = []
        for index in sorted(range(len(layout.groups)), key=lambda g: not layout.groups[g].later):
            if not counts[index]:
                continue
            picked = order[bounds[index] : bounds[index + 1]]
            own = Seats(games=games[picked], seats=seats[picked])
            group = layout.groups[index]
            if len(group.players) == 1:
                answer = group.players[0].choose_later(view, own)
            else:
                which = layout.member_of[entries[picked]]
                mixed = type(group.players[0]).choose_mixed(group.players, view, own, which)
                answer = _ready(mixed)
            asked.append((own, answer))
        for own, answer in asked:
            moves[own.games, own.seats] = answer().to(moves.device)
        return moves

    def _notify(self, state: BatchState, *, starting: bool) -> None:
        """Tell the players that want to know (snake servers) that games begin or end."""
        layout = self._current_layout()
        if not layout.hooked:
            return
        view = TurnView(state)
        for player, entries in layout.hooked:
            hook = player.start_games if starting else player.end_games
            if type(player).start_games is Player.start_games and starting:
                continue
            if type(player).end_games is Player.end_games and not starting:
                continue
            rows = torch.nonzero(torch.isin(state.seat_player, entries))
            if rows.numel():
                seats = Seats(games=rows[:, 0], seats=rows[:, 1])
                ids = [list(self._tickets[t].ids) for t in state.game_ids[seats.games].tolist()]
                hook(view, seats, ids)

    def _capture(self, state: BatchState, moves: torch.Tensor | None) -> None:
        """Keep the boards (and moves) of the recorded games in the batch."""
        if not self._recorded:
            return
        wanted = torch.tensor(sorted(self._recorded), dtype=torch.int64, device=state.game_ids.device)
        rows = torch.nonzero(torch.isin(state.game_ids, wanted) & state.running).flatten().tolist()
        for row in rows:
            ticket = int(state.game_ids[row])
            ids = list(self._tickets[ticket].ids)
            frame = api_frame(state, row, ids)
            if moves is not None:
                frame["moves"] = {
                    ids[s]: MOVES[m] if m >= 0 else None
                    for s, m in enumerate(moves[row].tolist())
                    if bool(state.alive[row, s])
                }
            self._frames.setdefault(ticket, []).append(frame)

    def _finish(self, state: BatchState, finished: torch.Tensor, layout: _Layout) -> list[tuple[int, GameOutcome]]:
        done = state.select(finished)
        self._capture(done, None)
        self._notify(done, starting=False)
        delivered = self._outcomes(done, layout)
        retire(state, finished)
        self._after_rows_freed(len(delivered))
        return delivered

    def _after_rows_freed(self, count: int) -> None:
        self._running -= count
        state = self._active
        if state is None:
            return
        if self._running == 0:
            self._active = None
        elif not self._queue and self._running < 0.75 * state.n_games:
            self._active = state.select(state.running)  # compact: a copy of every tensor, done now and then

    def _stop_rows(self, state: BatchState, candidate: int) -> None:
        """Take a cancelled candidate's running games out of the batch, their results unread."""
        tickets = state.game_ids.tolist()
        running = state.running.tolist()
        rows = [r for r, t in enumerate(tickets) if running[r] and self._tickets[t].candidate == candidate]
        if not rows:
            return
        mask = torch.zeros(state.n_games, dtype=torch.bool, device=state.running.device)
        mask[rows] = True
        done = state.select(mask)
        self._notify(done, starting=False)  # a server forgets the game
        layout = self._current_layout()
        seat_entries = done.seat_player.tolist()
        for row, ticket in enumerate(done.game_ids.tolist()):
            for seat, entry in enumerate(seat_entries[row]):
                if layout.faulty[entry]:
                    self._player(entry).take_faults(ticket, seat)
            self._recorded.discard(ticket)
            self._frames.pop(ticket, None)
            del self._tickets[ticket]
        self._candidates[candidate].playing = 0
        retire(state, mask)
        self._after_rows_freed(len(rows))

    def _outcomes(self, done: BatchState, layout: _Layout) -> list[tuple[int, GameOutcome]]:
        columns = {
            name: getattr(done, name).tolist()
            for name in ("game_ids", "turn", "alive", "cause", "killer", "elim_turn", "length", "seat_player")
        }
        delivered = []
        for row, ticket_id in enumerate(columns["game_ids"]):
            ticket = self._tickets.pop(ticket_id)
            cand = self._candidates[ticket.candidate]
            local = ticket.deal.players
            entries = columns["seat_player"][row]
            alive = columns["alive"][row]
            candidate_seat = local.index(CANDIDATE)
            snakes = tuple(
                SnakeResult(
                    seat=s,
                    player=cand.names[local[s]],
                    cause=CAUSES[columns["cause"][row][s]],
                    eliminated_on_turn=columns["elim_turn"][row][s],
                    eliminated_by=_killer_name(columns["killer"][row][s], local, cand.names),
                    length=columns["length"][row][s],
                    faults=self._player(entries[s]).take_faults(ticket_id, s)
                    if layout.faulty[entries[s]]
                    else Faults(),
                )
                for s in range(len(local))
            )
            n_alive = sum(alive)
            capped = n_alive > 1 and alive[candidate_seat]
            result: Result
            if len(local) == 1:
                result = "draw"
            elif alive[candidate_seat] and n_alive == 1:
                result = "win"
            elif n_alive == 0 or capped:
                result = "draw"
            else:
                result = "loss"
            outcome = GameOutcome(
                game=ticket.deal.game,
                result=result,
                turns=columns["turn"][row],
                candidate_seat=candidate_seat,
                opponents=tuple(cand.names[p] for p in local if p != CANDIDATE),
                snakes=snakes,
                capped=capped,
            )
            cand.playing -= 1
            cand.outcomes.append(outcome)
            if ticket.record:
                self._recorded.discard(ticket_id)
                cand.history[outcome.game] = self._frames.pop(ticket_id, [])
            delivered.append((ticket.candidate, outcome))
        return delivered


class _Layout:
    """How the players in the seats are asked for moves, as lookup tables over entries.

    Players of one family form one group (one ``choose_mixed`` call; ``member_of`` gives a seat's
    player within it); any other player is a group of its own, shared by every candidate that
    seats it. Rebuilt whenever a player joins or leaves.
    """

    def __init__(self, entries: Sequence[_Entry | None], device: torch.device) -> None:
        self.groups: list[_Group] = []
        keys: dict[Hashable, int] = {}
        group_of, member_of, is_candidate = [0] * len(entries), [0] * len(entries), [False] * len(entries)
        hooked: dict[int, tuple[Player, list[int]]] = {}
        self.faulty = [False] * len(entries)
        for index, entry in enumerate(entries):
            if entry is None:
                continue
            player = entry.player
            family = player.family
            key: Hashable = ("family", family) if family is not None else ("player", id(player))
            if key not in keys:
                keys[key] = len(self.groups)
                self.groups.append(_Group(players=[], later=player.answers_later))
            group = self.groups[keys[key]]
            member = next((i for i, p in enumerate(group.players) if p is player), None)
            if member is None:
                member = len(group.players)
                group.players.append(player)
            group_of[index], member_of[index] = keys[key], member
            is_candidate[index] = entry.candidate is not None
            self.faulty[index] = type(player).take_faults is not Player.take_faults
            if type(player).start_games is not Player.start_games or type(player).end_games is not Player.end_games:
                hooked.setdefault(id(player), (player, []))[1].append(index)
        self.group_of = torch.tensor(group_of, dtype=torch.int64, device=device)
        self.member_of = torch.tensor(member_of, dtype=torch.int64, device=device)
        self.is_candidate = torch.tensor(is_candidate, dtype=torch.bool, device=device)
        self.hooked = [
            (player, torch.tensor(indices, dtype=torch.int64, device=device)) for player, indices in hooked.values()
        ]


def _ready(moves: torch.Tensor) -> Callable[[], torch.Tensor]:
    return lambda: moves


def _killer_name(killer: int, seat_players: Sequence[int], names: Sequence[str]) -> str:
    return "" if killer == NO_KILLER else names[seat_players[killer]]
