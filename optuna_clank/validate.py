"""Re-validation: re-play the top trials (and the base config) on fresh games.

A study's values come from the same few dozen games for every trial, and the top of many
noisy values is flattered by luck. Re-playing the top trials on games the study never used
(a seed derived from, and never equal to, the study's seed) gives an unbiased estimate with
an honest interval; only that is evidence of an improvement over the base config.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.match import GameOutcome, MatchResult, play_match
from optuna_clank.candidate import seat_candidate, snake_base_of
from optuna_clank.results import VALIDATION_PREFIX, top_trials
from optuna_clank.stats import mean_interval

if TYPE_CHECKING:
    import optuna

    from optuna_clank.snake import SnakeSpec
    from optuna_clank.spec import StudySpec

BASE_KEY = "validated_base"
"""Study user attribute: the base config's result on the same validation games."""


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
    on_game_end: Callable[[GameOutcome], None] | None = None,
    snake: SnakeSpec | None = None,
    snake_base: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Validate the top trials; records are stored on the study and returned by label.

    ``snake`` (with its base config ``snake_base``) re-plays the trials on another snake than
    the one the study tuned, e.g. the real bot's server for a study tuned on a stand-in; a
    server snake gets a fresh process per config. By default the study's own snake plays.
    """
    chosen_seed = validation_seed(spec, seed)
    if snake is None:
        snake, snake_base = spec.snake, snake_base_of(spec)
    base = snake_base if snake_base is not None else {}
    records: dict[str, dict[str, Any]] = {}
    for trial in top_trials(study, top):
        values = trial.params
        result = _play(snake, values, base, spec, games, seed=chosen_seed, device=device, on_game_end=on_game_end)
        record = _record(result, chosen_seed, spec, snake)
        study.set_user_attr(f"{VALIDATION_PREFIX}{trial.number}", record)
        records[f"trial {trial.number}"] = record
    if include_base:
        result = _play(snake, {}, base, spec, games, seed=chosen_seed, device=device, on_game_end=on_game_end)
        record = _record(result, chosen_seed, spec, snake)
        study.set_user_attr(BASE_KEY, record)
        records["base config"] = record
    return records


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
    on_game_end: Callable[[GameOutcome], None] | None,
) -> MatchResult:
    bench = spec.benchmark
    with seat_candidate(snake, values, base=base, label="validation") as seated:
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
        )
        seated.check_alive()
    return result


def _record(result: MatchResult, seed: int, spec: StudySpec, snake: SnakeSpec) -> dict[str, Any]:
    low, high = result.win_rate_ci
    score_low, score_high = mean_interval([o.score for o in result.outcomes])
    return {
        "win_rate": round(result.win_rate, 4),
        "ci": [round(low, 4), round(high, 4)],
        "score": round(result.mean_score, 4),
        "score_ci": [round(max(score_low, 0.0), 4), round(min(score_high, 1.0), 4)],
        "games": result.games,
        "wins": result.wins,
        "draws": result.draws,
        "seed": seed,
        "opponents": list(spec.benchmark.opponents),
        "snake": snake.describe(),
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
