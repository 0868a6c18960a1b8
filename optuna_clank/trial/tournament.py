"""Tournaments: one candidate plays the same games against each of several duel opponents.

A duel spec with several opponents is a tournament. Every opponent ``k`` plays the very same
game indices ``0..G-1`` (common random numbers: the same start boards and draws for each
opponent and for every trial), so the per-opponent results of two trials are paired game by
game. The trial's games are numbered by *step* ``k * G + i`` (opponent ``k``, game ``i``):
step ``s`` is the same game for every trial, which is what keeps the Wilcoxon pruner's
pairing valid however each trial shuffles its order.

The study value is the weighted mean of the per-opponent values, with the spec's
``opponent_weights`` (equal by default). Each game's pruner report is scaled by
``K * w_k / sum(w)`` so that the mean of the reports is that same weighted mean.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna_clank.core.attributes import WIN_RATE_CI_KEY

if TYPE_CHECKING:  # the arena pulls in torch; status and results read tournaments without it
    from optuna_clank.arena.match import GameOutcome, MatchResult
    from optuna_clank.arena.players import Player
    from optuna_clank.spec import BenchmarkSpec

Metric = Callable[[Sequence["GameOutcome"], int], float]


def is_tournament(bench: BenchmarkSpec) -> bool:
    """A duel against several opponents: each opponent plays every game (free-for-all shares one board)."""
    return bench.mode == "duel" and len(bench.opponents) > 1


@dataclass(frozen=True)
class Tournament:
    """The opponents, their weights and the games each of them plays."""

    opponents: tuple[str, ...]
    weights: tuple[float, ...]
    games: int
    """Games per opponent: the spec's ``games_per_trial`` (a trial plays ``games * len(opponents)``)."""

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.opponents):
            raise ValueError(f"{len(self.weights)} weight(s) for {len(self.opponents)} opponent(s)")
        if any(w <= 0 for w in self.weights):
            raise ValueError("opponent weights must be positive")

    @classmethod
    def of(cls, bench: BenchmarkSpec, games: int | None = None) -> Tournament:
        weights = bench.opponent_weights or (1.0,) * len(bench.opponents)
        return cls(tuple(bench.opponents), tuple(float(w) for w in weights), games or bench.games_per_trial)

    @property
    def steps(self) -> int:
        return self.games * len(self.opponents)

    def split(self, step: int) -> tuple[int, int]:
        """``(opponent index, game index)`` of a step."""
        return divmod(step, self.games)

    def report_weight(self, step: int) -> float:
        """Factor of a game's score in the pruner's reports (mean of reports = weighted mean)."""
        k, _ = self.split(step)
        return len(self.opponents) * self.weights[k] / sum(self.weights)

    def play(
        self,
        candidate: Player,
        steps: Iterable[int],
        *,
        seed: int,
        device: str,
        board_size: tuple[int, int],
        max_turns: int,
        record: Iterable[int] = (),
        on_game_end: Callable[[GameOutcome], object] | None = None,
        processes: int | str = 1,
    ) -> MatchResult:
        """Play the given steps; outcomes and histories are numbered by step, not by game.

        Every opponent's games share one continuous batch; with ``processes`` (see
        :func:`~optuna_clank.arena.match.play_match`) each opponent's games are split over
        processes instead. The outcomes are the same either way.
        """

        from optuna_clank.arena.match import MatchResult, play_match  # noqa: PLC0415 - deferred: loads torch
        from optuna_clank.arena.scheduler import GameScheduler  # noqa: PLC0415 - deferred: loads torch

        by_opponent: dict[int, list[int]] = {}
        for step in steps:
            k, game = self.split(step)
            by_opponent.setdefault(k, []).append(game)
        recorded = set(record)
        outcomes: list[GameOutcome] = []
        history: dict[int, list[dict[str, Any]]] = {}
        started = time.perf_counter()
        if processes != 1:
            for k, games in sorted(by_opponent.items()):
                offset = k * self.games
                result = play_match(
                    candidate,
                    [self.opponents[k]],
                    games=games,
                    seed=seed,
                    device=device,
                    board_size=board_size,
                    mode="duel",
                    max_turns=max_turns,
                    batch_size=min(len(games), 1024),
                    record=[g for g in games if offset + g in recorded],
                    on_game_end=_renumbered(offset, on_game_end),
                    processes=processes,
                )
                outcomes.extend(o._replace(game=offset + o.game) for o in result.outcomes)
                history.update({offset + g: frames for g, frames in result.history.items()})
        else:
            total = sum(len(games) for games in by_opponent.values())
            ids: dict[int, int] = {}
            try:
                with GameScheduler(
                    board_size=board_size, max_turns=max_turns, device=device, batch_size=max(1, min(total, 1024))
                ) as batch:
                    for k, games in sorted(by_opponent.items()):
                        offset = k * self.games
                        ids[k] = batch.add(
                            candidate,
                            self.opponents[k],
                            seed=seed,
                            games=games,
                            record=[g for g in games if offset + g in recorded],
                            on_game_end=_renumbered(offset, on_game_end),
                        )
                    batch.run()
                    for k, cid in ids.items():
                        offset = k * self.games
                        result = batch.result(cid)
                        outcomes.extend(o._replace(game=offset + o.game) for o in result.outcomes)
                        history.update({offset + g: frames for g, frames in result.history.items()})
            finally:
                candidate.close()  # as play_match does: a server's player reconnects when asked again
        seconds = time.perf_counter() - started
        return MatchResult(outcomes=tuple(sorted(outcomes, key=lambda o: o.game)), seconds=seconds, history=history)

    def by_opponent(self, outcomes: Sequence[GameOutcome]) -> list[list[GameOutcome]]:
        """The outcomes of each opponent, in opponent order (empty for one not played yet)."""
        groups: list[list[GameOutcome]] = [[] for _ in self.opponents]
        for outcome in outcomes:
            groups[self.split(outcome.game)[0]].append(outcome)
        return groups

    def weighted(self, metric: Metric, outcomes: Sequence[GameOutcome], max_turns: int) -> float:
        """The weighted mean over opponents of ``metric`` (opponents with no game yet left out)."""
        total = weight = 0.0
        for w, group in zip(self.weights, self.by_opponent(outcomes), strict=True):
            if group:
                total += w * metric(group, max_turns)
                weight += w
        return total / weight if weight else 0.0

    def summary(self, outcomes: Sequence[GameOutcome]) -> list[dict[str, Any]]:
        """Per-opponent results: games, wins, draws, losses, win rate with its Wilson 95% interval."""
        from optuna_clank.arena.outcome import MatchResult  # the arena loads torch  # noqa: PLC0415 - deferred: loads torch

        rows = []
        for name, w, group in zip(self.opponents, self.weights, self.by_opponent(outcomes), strict=True):
            result = MatchResult(tuple(group), 0.0)
            n = result.games
            low, high = result.win_rate_ci
            rows.append(
                {
                    "opponent": name,
                    "weight": w,
                    "games": n,
                    "wins": result.wins,
                    "draws": result.draws,
                    "losses": result.losses,
                    "win_rate": round(result.win_rate, 4) if n else None,
                    WIN_RATE_CI_KEY: [round(low, 4), round(high, 4)],
                    "score": round(result.mean_score, 4) if n else None,
                }
            )
        return rows


def _renumbered(
    offset: int, on_game_end: Callable[[GameOutcome], object] | None
) -> Callable[[GameOutcome], object] | None:
    if on_game_end is None:
        return None
    return lambda outcome: on_game_end(outcome._replace(game=offset + outcome.game))


def describe_opponents(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per opponent for ``status`` and ``validate``: win rate [Wilson 95%] over games, weight."""
    lines = []
    for row in rows:
        name = row["opponent"]
        short = name.rsplit("/", 1)[-1] if "/" in name and not name.startswith("url:") else name
        if not row["games"]:
            lines.append(f"{short}: no games yet (weight {row['weight']:g})")
            continue
        low, high = row[WIN_RATE_CI_KEY]
        lines.append(
            f"{short}: win rate {100 * row['win_rate']:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%] "
            f"over {row['games']} games, score {row['score']:.3f}, weight {row['weight']:g}"
        )
    return lines
