"""Re-validation: re-play the top trials and the base config on the same fresh games.

A study's values come from the same few dozen games for every trial, and the top of many
noisy values is flattered by luck. Re-playing the top trials on games the study never used
(a seed derived from, and never equal to, the study's seed) gives an unbiased estimate. The
base config plays the very same games, and each record keeps its per-game results, so that
:mod:`optuna_clank.study.verdict` can pair them game by game: only a paired difference whose interval
excludes zero is evidence of an improvement over the base config.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from optuna.trial import TrialState

from optuna_clank.arena.match import GameOutcome, MatchResult, play_match
from optuna_clank.arena.served.faults import count_faults, fault_fields, fault_problem, servers_involved
from optuna_clank.core.attributes import OPPONENTS_KEY, VALIDATED_BASE_KEY, VALIDATION_PREFIX
from optuna_clank.core.errors import UserError
from optuna_clank.core.pareto import pareto_front
from optuna_clank.study.results import top_trials
from optuna_clank.study.verdict import GAME_KEYS, REFUSED_KEY, RESULTS_KEY, encode_results, scores_of
from optuna_clank.trial.metrics import objective_values
from optuna_clank.trial.param_diff import is_base_params
from optuna_clank.trial.snake_kind import base_values, kind_of, seat_candidate
from optuna_clank.trial.tournament import Tournament, is_tournament

if TYPE_CHECKING:
    import optuna

    from optuna_clank.arena.served.bot_spec import SnakeSpec
    from optuna_clank.spec import StudySpec

__all__ = ["base_like_trials", "stored_base_record", "trials_to_validate", "validate_study", "validation_seed"]


def validation_seed(spec: StudySpec, seed: int | None = None) -> int:
    """The validation games' seed: given, or the spec's, or derived from the study seed (never equal)."""
    chosen = seed or spec.validation.seed
    if not chosen:
        digest = hashlib.blake2b(f"{spec.benchmark.seed}:validation".encode(), digest_size=6).digest()
        chosen = int.from_bytes(digest, "little")
    if chosen == spec.benchmark.seed:
        chosen += 1
    return chosen


def validate_study(
    study: optuna.Study,
    spec: StudySpec,
    *,
    top: int,
    games: int,
    seed: int | None = None,
    device: str = "cpu",
    include_base: bool = True,
    on_game_end: Callable[[GameOutcome], object] | None = None,
    snake: SnakeSpec | None = None,
    snake_base: Mapping[str, Any] | None = None,
    processes: int | str = 1,
) -> dict[str, dict[str, Any]]:
    """Validate the top trials and the base on the same games; records are stored and returned by label.

    ``snake`` (with its base config ``snake_base``) re-plays the trials on another snake than
    the one the study tuned, e.g. the real bot's server for a study tuned on a stand-in; a
    server snake gets a fresh process per config. By default the study's own snake plays.
    ``include_base=False`` reuses the stored base record, which must be of the same games and snake.
    ``processes`` splits each config's games over worker processes (``"auto"``: one per usable CPU
    core; see :func:`~optuna_clank.arena.match.play_match`); the records are the same.
    A record whose servers (the snake's, or an opponent's) failed more answers than ``[benchmark]
    max_faults`` allows is stored with its reason (``refused``) and never compared
    (:mod:`optuna_clank.arena.served.faults`).
    """
    chosen_seed = validation_seed(spec, seed)
    if snake is None:
        snake, snake_base = spec.snake, kind_of(spec).base_config()
    base = snake_base if snake_base is not None else {}
    games_of = _games_of(spec, games, chosen_seed)
    stored_base = None if include_base else stored_base_record(study, spec, games=games, seed=seed, snake=snake)
    records: dict[str, dict[str, Any]] = {}
    for trial in trials_to_validate(study, top, base=base_values(spec)):
        result = _play(
            snake,
            trial.params,
            base,
            spec,
            games,
            seed=chosen_seed,
            device=device,
            on_game_end=on_game_end,
            processes=processes,
        )
        record = _record(result, games_of, spec, snake)  # stored even when refused: it says why
        study.set_user_attr(f"{VALIDATION_PREFIX}{trial.number}", record)
        records[f"trial {trial.number}"] = record
    if stored_base is None:
        result = _play(
            snake, {}, base, spec, games, seed=chosen_seed, device=device, on_game_end=on_game_end, processes=processes
        )
        stored_base = _record(result, games_of, spec, snake)
        study.set_user_attr(VALIDATED_BASE_KEY, stored_base)
    records["base config"] = stored_base
    return records


def trials_to_validate(
    study: optuna.Study, top: int, *, base: Mapping[str, float] | None = None
) -> list[optuna.trial.FrozenTrial]:
    """The top ``top`` trials; for a multi-objective study, its Pareto front (best first objective first).

    With ``base`` (the base config's values), a trial whose parameters are the base's is left out and
    the next one taken: it is the base config, which validate plays anyway (see :func:`base_like_trials`).
    """
    if len(study.directions) == 1:
        ranked = top_trials(study, len(study.trials))
    else:
        front = set(t.number for t in pareto_front(study))
        ranked = [t for t in top_trials(study, len(study.trials)) if t.number in front]
    if base is not None:
        ranked = [t for t in ranked if not is_base_params(t.params, base)]
    return ranked[:top]


def base_like_trials(study: optuna.Study, base: Mapping[str, float]) -> list[int]:
    """Completed trials whose parameters are the base config's (the base trial, re-queued copies of it)."""

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return [t.number for t in complete if is_base_params(t.params, base)]


def stored_base_record(
    study: optuna.Study, spec: StudySpec, *, games: int, seed: int | None, snake: SnakeSpec | None = None
) -> dict[str, Any]:
    """The stored base-config record of exactly these validation games and snake, or a :class:`UserError`."""
    chosen_seed = validation_seed(spec, seed)
    record = study.user_attrs.get(VALIDATED_BASE_KEY)
    played_by = (snake or spec.snake).describe()
    same_snake = isinstance(record, dict) and record.get("snake", spec.snake.describe()) == played_by
    if not (isinstance(record, dict) and same_snake and _is_record_of(record, _games_of(spec, games, chosen_seed))):
        raise UserError(
            f"no stored base-config record on these {games} games (seed {chosen_seed}); "
            "run validate without --no-base so the base plays the same games"
        )
    if record.get(REFUSED_KEY):
        raise UserError(
            f"the stored base-config record on these games was refused ({record[REFUSED_KEY]}); "
            "run validate without --no-base to play the base again"
        )
    return record


def _games_of(spec: StudySpec, games: int, seed: int) -> dict[str, Any]:
    """What identifies the validation games (see :data:`optuna_clank.study.verdict.GAME_KEYS`)."""
    bench = spec.benchmark
    values = {
        "seed": seed,
        "games": Tournament.of(bench, games).steps if is_tournament(bench) else games,
        "opponents": list(bench.opponents),
        "board_size": list(bench.board_size),
        "mode": bench.mode,
        "max_turns": bench.max_turns,
    }
    assert tuple(values) == GAME_KEYS
    return values


def _is_record_of(record: dict[str, Any] | None, games_of: dict[str, Any]) -> bool:
    """Whether ``record`` holds per-game results of exactly these games."""
    if not record:
        return False
    return scores_of(record) is not None and all(record.get(k) == v for k, v in games_of.items())


def _play(
    snake: SnakeSpec,
    values: Mapping[str, Any],
    base: Mapping[str, Any],
    spec: StudySpec,
    /,
    games: int,
    *,
    seed: int,
    device: str,
    on_game_end: Callable[[GameOutcome], object] | None,
    processes: int | str,
) -> MatchResult:
    bench = spec.benchmark
    with seat_candidate(snake, values, base=base, label="validation") as seated:
        if is_tournament(bench):
            tour = Tournament.of(bench, games)
            result = tour.play(
                seated.player,
                range(tour.steps),
                seed=seed,
                device=device,
                board_size=bench.board_size,
                max_turns=bench.max_turns,
                on_game_end=on_game_end,
                processes=processes,
            )
            seated.check_alive()
            return result
        result = play_match(
            seated.player,
            list(bench.opponents),
            games=games,
            seed=seed,
            device=device,
            board_size=bench.board_size,
            mode=bench.mode,
            max_turns=bench.max_turns,
            batch_size=min(games, 1024),
            on_game_end=on_game_end,
            processes=processes,
        )
        seated.check_alive()
    return result


def _record(result: MatchResult, games_of: dict[str, Any], spec: StudySpec, snake: SnakeSpec) -> dict[str, Any]:
    low, high = result.win_rate_ci
    score_low, score_high = result.score_ci
    in_order = sorted(result.outcomes, key=lambda o: o.game)
    faults: dict[str, Any] = {}
    if servers_involved(snake.is_server, spec.benchmark.opponents):
        faults = fault_fields(result.outcomes)
        problem = fault_problem(count_faults(result.outcomes), spec.benchmark.max_faults)
        if problem is not None:
            faults[REFUSED_KEY] = problem
    return {
        "win_rate": round(result.win_rate, 4),
        "ci": [round(low, 4), round(high, 4)],
        "score": round(result.mean_score, 4),
        "score_ci": [round(score_low, 4), round(score_high, 4)],
        "wins": result.wins,
        "draws": result.draws,
        **games_of,
        "snake": snake.describe(),
        "alpha": spec.validation.alpha,
        **_breakdown(result, spec),
        **faults,
        RESULTS_KEY: encode_results([o.result for o in in_order]),
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _breakdown(result: MatchResult, spec: StudySpec) -> dict[str, Any]:
    """A tournament's per-opponent results, and every objective of a multi-objective study."""

    bench = spec.benchmark
    extra: dict[str, Any] = {}
    tour = Tournament.of(bench, result.games // len(bench.opponents)) if is_tournament(bench) else None
    if tour is not None:
        extra[OPPONENTS_KEY] = tour.summary(result.outcomes)
    if len(spec.study.objectives) > 1:
        values = objective_values(spec, result.outcomes, tour)
        extra["objectives"] = {name: round(v, 4) for name, v in zip(spec.study.objectives, values, strict=True)}
    return extra
