"""The study objective: a trial's parameters -> a snake config -> benchmark games -> value.

Every trial plays the same games (the spec's seed fixes them), each trial in its own shuffled
order, a round of a few games at a time. Each finished game is reported with
``trial.report(score, step=game)``, so that :class:`optuna.pruners.WilcoxonPruner` can pair
it with the best trial's result on the *same* game and stop configs that are significantly
worse after a few rounds instead of after all of them.

Optuna gives a pruned trial the value of its last intermediate report, which would be one
game's score (0 or 1). So a pruned trial's last report is its mean over the games it played,
at step ``games_per_trial`` (one past the last game index: "after its games"). That value is
what ``status`` shows and what TPE ranks pruned trials by (TPE orders pruned trials by their
last step, then that step's value; every pruned trial's last step is the same, so by the mean).
The mean is also stored as the ``mean_score`` user attribute of every trial.

A duel against several opponents is a tournament (:mod:`optuna_clank.trial.tournament`): every
opponent plays the same games, the games are numbered by step (opponent, game), and the value
is the weighted mean over the opponents.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import optuna

from optuna_clank.arena.match import GameOutcome, MatchResult, play_match
from optuna_clank.arena.served.bot_process import SnakeServerFailure
from optuna_clank.arena.served.faults import count_faults, servers_involved
from optuna_clank.core.attributes import (
    ABORTED_KEY,
    GAMES_PLAYED_KEY,
    NOT_RUN_KEY,
    OPPONENT_FAULTS_KEY,
    OPPONENTS_KEY,
    SNAKE_ERROR_KEY,
    SNAKE_PID_KEY,
    SNAKE_STDERR_KEY,
)
from optuna_clank.trial.base_trial import base_ranges, suggest_ranges
from optuna_clank.trial.candidate import SeatedCandidate, fault_attrs
from optuna_clank.trial.metrics import _metrics, mean_score, outcome_attrs
from optuna_clank.trial.snake_kind import kind_of, seat_candidate
from optuna_clank.trial.story import StoryTeller, TrialStory
from optuna_clank.trial.tournament import Tournament, is_tournament

if TYPE_CHECKING:
    from optuna_clank.arena.batch_service import BatchService
    from optuna_clank.spec import ParamSpec, StudySpec


class TrialAborted(Exception):
    """The run was asked to stop now (second Ctrl-C): the running trial ends as FAIL.

    The worker then queues it again with the same parameters (see :func:`runner.queue_again`).
    """

    def __init__(self, trial_number: int) -> None:
        super().__init__(f"trial {trial_number} stopped by the user")
        self.trial_number = trial_number


class SurplusTrial(Exception):
    """Other workers already hold every remaining trial of the target: this one is not run."""


def suggest_params(
    trial: optuna.Trial, spec: StudySpec, widened: Mapping[str, ParamSpec] | None = None
) -> dict[str, Any]:
    """Ask the sampler for every parameter of the spec's search space.

    ``widened``: the base trial's ranges for base values outside the spec's (see
    :mod:`optuna_clank.trial.base_trial`); used only where this trial plays exactly such a base value.
    """
    ranges = suggest_ranges(trial, spec, widened or {})
    params: dict[str, Any] = {}
    for param in (ranges.get(p.name, p) for p in spec.search_space):
        if param.is_int:
            low, high, step = int(param.low), int(param.high), int(param.step or 1)
            params[param.name] = trial.suggest_int(param.name, low, high, log=param.log, step=step)
        else:
            params[param.name] = trial.suggest_float(param.name, param.low, param.high, log=param.log, step=param.step)
    return params


class ArenaObjective:
    """Plays a trial's config against the spec's opponents on the spec's games.

    Args:
        spec: the study spec (benchmark, objectives, search space).
        device: torch device the games run on (the worker's slot).
        attrs: extra user attributes recorded on every trial (e.g. ``slot`` and ``device``).
        should_abort: polled between rounds; True ends the trial as FAIL (:class:`TrialAborted`).
        claim: called first with the trial; False means the study's target is already covered
            by other workers, and the trial ends as FAIL without playing (:class:`SurplusTrial`).
        story: writes each finished trial's dashboard note and artifacts (default: under
            ``storage/<study>/artifacts``).
        batch: the slot's shared batch (:mod:`optuna_clank.run.in_flight`): the trial's rounds join it,
            ``rounds_ahead`` rounds queued beyond the one it waits for. ``None``: each round is
            played as a batch of its own.
    """

    def __init__(
        self,
        spec: StudySpec,
        *,
        device: str = "cpu",
        attrs: dict[str, Any] | None = None,
        should_abort: Callable[[], bool] | None = None,
        claim: Callable[[optuna.Trial], bool] | None = None,
        story: StoryTeller | None = None,
        batch: BatchService | None = None,
        rounds_ahead: int = 0,
    ) -> None:
        self.spec = spec
        self.batch = batch
        self.rounds_ahead = rounds_ahead
        self.device = device
        self.attrs = dict(attrs or {})
        self.should_abort = should_abort or (lambda: False)
        self.claim = claim
        self.story = story or StoryTeller.for_spec(spec)
        self.snake_base = kind_of(spec).base_config()
        self.base_ranges = base_ranges(spec)  # base values outside the search space: the base trial's ranges
        self.tournament = Tournament.of(spec.benchmark) if is_tournament(spec.benchmark) else None

    def game_order(self, trial_number: int) -> list[int]:
        """The spec's game indices (a tournament's steps) in this trial's own shuffled order (reproducible)."""
        games = list(range(self.tournament.steps if self.tournament else self.spec.benchmark.games_per_trial))
        random.Random(f"{self.spec.benchmark.seed}:{trial_number}").shuffle(games)
        return games

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        for key, value in self.attrs.items():
            trial.set_user_attr(key, value)  # first, so that even a skipped trial says whose it was
        if self.claim is not None and not self.claim(trial):
            trial.set_user_attr(NOT_RUN_KEY, "another worker already holds the study's last trials")
            raise SurplusTrial(f"trial {trial.number} is beyond the study's target")
        params = suggest_params(trial, self.spec, self.base_ranges)
        started = time.perf_counter()
        outcomes: list[GameOutcome] = []
        snake = self.spec.snake
        story = self.story.begin()
        try:
            with seat_candidate(snake, params, base=self.snake_base, label=f"trial-{trial.number}") as seated:
                if seated.server is not None and seated.server.process is not None:
                    trial.set_user_attr(SNAKE_PID_KEY, seated.server.process.pid)
                self._play_rounds(trial, seated, outcomes, started=started, story=story, params=params)
        except SnakeServerFailure as exc:  # the trial FAILs with the reason (a failed trial is not queued again)
            _record(trial, outcomes, time.perf_counter() - started)
            trial.set_user_attr(SNAKE_ERROR_KEY, str(exc))
            trial.set_user_attr(SNAKE_STDERR_KEY, exc.stderr_tail)
            story.tell(trial, params, outcomes, planned=len(self.game_order(trial.number)), failure=str(exc))
            raise
        finally:
            self._record_faults(trial, outcomes)
        _record(trial, outcomes, time.perf_counter() - started)
        self._record_opponents(trial, outcomes)
        story.tell(trial, params, outcomes, planned=len(self.game_order(trial.number)))
        values = tuple(self._value(metric, outcomes) for metric in _metrics(self.spec.study.objectives))
        return values[0] if len(values) == 1 else values

    def _record_faults(self, trial: optuna.Trial, outcomes: Sequence[GameOutcome]) -> None:
        """The servers' faults as user attributes: the tuned snake's (``http_*``), the opponents' (summed)."""
        if self.spec.snake.is_server:
            for key, value in fault_attrs(outcomes).items():
                trial.set_user_attr(key, value)
        if servers_involved(False, self.spec.benchmark.opponents):
            trial.set_user_attr(OPPONENT_FAULTS_KEY, count_faults(outcomes).opponent_total._asdict())

    def _value(self, metric: Callable[[Sequence[GameOutcome], int], float], outcomes: Sequence[GameOutcome]) -> float:
        """The metric over the games; a tournament's is the weighted mean over its opponents."""
        max_turns = self.spec.benchmark.max_turns
        return self.tournament.weighted(metric, outcomes, max_turns) if self.tournament else metric(outcomes, max_turns)

    def _record_opponents(self, trial: optuna.Trial, outcomes: Sequence[GameOutcome]) -> None:
        """A tournament's per-opponent results (win rates with Wilson intervals) as a user attribute."""
        if self.tournament is not None:
            trial.set_user_attr(OPPONENTS_KEY, self.tournament.summary(outcomes))

    def _play_rounds(
        self,
        trial: optuna.Trial,
        seated: SeatedCandidate,
        outcomes: list[GameOutcome],
        *,
        started: float,
        story: TrialStory,
        params: dict[str, Any],
    ) -> None:
        """The trial's games, a round at a time, reported per game for the pruner."""
        single = len(self.spec.study.directions) == 1
        bench = self.spec.benchmark
        order = self.game_order(trial.number)
        rounds = [order[start : start + bench.round_size] for start in range(0, len(order), bench.round_size)]
        with self._rounds_player(seated, rounds, story) as play:
            for index in range(len(rounds)):
                result = None if self.should_abort() else play(index)
                if result is None:
                    _record(trial, outcomes, time.perf_counter() - started)
                    trial.set_user_attr(ABORTED_KEY, "stopped by the user (Ctrl-C twice); queued again")
                    raise TrialAborted(trial.number)
                story.keep(result)
                outcomes.extend(result.outcomes)  # first, so a crash's games and faults are recorded
                seated.check_alive()
                seated.check_faults(outcomes, bench.max_faults)  # faulty games measure no config: the trial FAILs
                if single:
                    for outcome in result.outcomes:
                        weight = self.tournament.report_weight(outcome.game) if self.tournament else 1.0
                        trial.report(outcome.score * weight, step=outcome.game)
                    if index + 1 < len(rounds) and trial.should_prune():
                        _record(trial, outcomes, time.perf_counter() - started)
                        self._record_opponents(trial, outcomes)
                        # The pruned trial's value (its last report): the mean, not the last game.
                        trial.report(self._value(mean_score, outcomes), step=len(order))
                        story.tell(trial, params, outcomes, planned=len(order))
                        raise optuna.TrialPruned(f"pruned after {len(outcomes)} of {len(order)} games")

    @contextmanager
    def _rounds_player(
        self, seated: SeatedCandidate, rounds: list[list[int]], story: TrialStory
    ) -> Iterator[Callable[[int], MatchResult | None]]:
        """``play(i)``: round ``i``'s result (``None``: the user stopped the run while it played).

        In the slot's shared batch, rounds up to ``i + rounds_ahead`` are queued before round ``i``
        is waited for; the rounds not needed (a pruned or failed trial) are dropped on the way out.
        """
        if self.batch is None:
            yield lambda i: self._play_round(seated, rounds[i], record=story.games_to_record(rounds[i]))
            return
        bench = self.spec.benchmark
        if self.tournament is not None:
            lines = [[opponent] for opponent in self.tournament.opponents]
            stream = self.batch.stream(seated.player, lines, route=self.tournament.split, seed=bench.seed)
        else:
            stream = self.batch.stream(seated.player, [list(bench.opponents)], seed=bench.seed, mode=bench.mode)
        queued = 0

        def play(index: int) -> MatchResult | None:
            nonlocal queued
            while queued < min(len(rounds), index + 1 + self.rounds_ahead):
                stream.queue(rounds[queued], record=story.games_to_record(rounds[queued]))
                queued += 1
            return stream.wait(rounds[index], should_stop=self.should_abort)

        with stream:
            yield play

    def _play_round(self, seated: SeatedCandidate, games: list[int], *, record: list[int]) -> MatchResult:
        """One round: a tournament's steps against their opponents, else the games against all opponents."""
        bench = self.spec.benchmark
        if self.tournament is not None:
            return self.tournament.play(
                seated.player,
                games,
                seed=bench.seed,
                device=self.device,
                board_size=bench.board_size,
                max_turns=bench.max_turns,
                record=record,
            )
        return play_match(
            seated.player,
            list(bench.opponents),
            games=games,
            seed=bench.seed,
            device=self.device,
            board_size=bench.board_size,
            mode=bench.mode,
            max_turns=bench.max_turns,
            batch_size=len(games),
            record=record,
        )


def _record(trial: optuna.Trial, outcomes: Sequence[GameOutcome], seconds: float) -> None:
    if not outcomes:
        trial.set_user_attr(GAMES_PLAYED_KEY, 0)
        return
    for key, value in outcome_attrs(outcomes, seconds).items():
        trial.set_user_attr(key, value)
