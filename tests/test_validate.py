"""Validation in-process: the records it stores, their pairing with the base, and the export it leads to.

A real SQLite study built here (trials added with ``create_trial``), the tiny spec's 7x7
board and a handful of validation games, with :func:`validate_study` called directly. Every
record is checked against the same games replayed here with ``play_match`` on the trial's
config, seated here (not through ``seat_candidate``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from _study import load, write_spec
from optuna.distributions import FloatDistribution, IntDistribution

from optuna_clank.arena.config import default_config, flatten, load_config, with_values
from optuna_clank.arena.match import GameOutcome, play_match
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.core.attributes import VALIDATED_BASE_KEY, VALIDATION_PREFIX
from optuna_clank.core.errors import UserError
from optuna_clank.spec import StudySpec, load_spec
from optuna_clank.study.export import export_best
from optuna_clank.study.results import best_trial
from optuna_clank.study.validate import (
    base_like_trials,
    stored_base_record,
    trials_to_validate,
    validate_study,
    validation_seed,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

GAMES = 8
SEED = 123  # validation games; the study's own benchmark seed is 7
Z = statistics.NormalDist().inv_cdf(0.975)
DISTRIBUTIONS: dict[str, Any] = {
    "weights.space": FloatDistribution(0.1, 1000.0, log=True),
    "weights.food": FloatDistribution(0.1, 1000.0, log=True),
    "traps.critical": FloatDistribution(1.0, 2000.0, log=True),
    "late_game.turn_threshold": IntDistribution(50, 300),
}
AS_BASE = {name: flatten(default_config())[name] for name in DISTRIBUTIONS}
"""A trial whose values are the base config's own: it plays exactly like the base."""
ODD = {"weights.space": 2.0, "weights.food": 900.0, "traps.critical": 5.0, "late_game.turn_threshold": 60}


def _spec(tmp_path: Path) -> StudySpec:
    return load_spec(write_spec(tmp_path, "val", games=4))


def _study(tmp_path: Path, *trials: tuple[dict[str, Any], float]) -> tuple[optuna.Study, str]:
    url = f"sqlite:///{tmp_path / 'val.db'}"
    study = optuna.create_study(study_name="val", storage=url, direction="maximize")
    for params, value in trials:
        study.add_trial(optuna.trial.create_trial(params=params, distributions=DISTRIBUTIONS, value=value))
    return study, url


def _replay(params: dict[str, Any]) -> list[GameOutcome]:
    player = HeuristicSnake(with_values(default_config(), params), name="candidate")
    result = play_match(player, ["baseline"], games=GAMES, seed=SEED, board_size=(7, 7), mode="duel", max_turns=200)
    return sorted(result.outcomes, key=lambda o: o.game)


def _expected_record(outcomes: list[GameOutcome]) -> dict[str, Any]:
    """The record's numbers, from the replayed games."""
    n = len(outcomes)
    wins = sum(o.result == "win" for o in outcomes)
    scores = [{"win": 1.0, "draw": 0.5, "loss": 0.0}[o.result] for o in outcomes]
    mean = sum(scores) / n
    half = Z * statistics.stdev(scores) / n**0.5
    p = wins / n  # Wilson: the roots of (1 + z^2/n) q^2 - (2p + z^2/n) q + p^2 = 0
    roots = np.roots([1 + Z * Z / n, -(2 * p + Z * Z / n), p * p]).real
    return {
        "win_rate": round(p, 4),
        "ci": [round(float(max(0.0, roots.min())), 4), round(float(min(1.0, roots.max())), 4)],
        "score": round(mean, 4),
        "score_ci": [round(max(mean - half, 0.0), 4), round(min(mean + half, 1.0), 4)],
        "wins": wins,
        "draws": sum(o.result == "draw" for o in outcomes),
        "seed": SEED,
        "games": GAMES,
        "opponents": ["baseline"],
        "board_size": [7, 7],
        "mode": "duel",
        "max_turns": 200,
        "snake": "built-in heuristic",
        "alpha": 0.05,
        "results": "".join({"win": "W", "draw": "D", "loss": "L"}[o.result] for o in outcomes),
    }


def test_the_top_trials_and_the_base_play_the_same_fresh_games_and_are_stored(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    study, url = _study(
        tmp_path, (AS_BASE, 0.9), (ODD, 0.8), (ODD | {"weights.space": 30.0}, 0.3), (ODD | {"weights.food": 1.0}, 0.1)
    )
    ended: list[GameOutcome] = []
    records = validate_study(study, spec, top=2, games=GAMES, seed=SEED, on_game_end=ended.append)

    # trial 0 is the base config itself (the base plays anyway); trial 3 is not in the top 2 of the others
    assert set(records) == {"trial 1", "trial 2", "base config"}
    stored = load("val", url).user_attrs  # read back from the file
    assert set(stored) == {VALIDATED_BASE_KEY, f"{VALIDATION_PREFIX}1", f"{VALIDATION_PREFIX}2"}
    assert stored[f"{VALIDATION_PREFIX}1"] == records["trial 1"]
    assert stored[f"{VALIDATION_PREFIX}2"] == records["trial 2"]
    assert stored[VALIDATED_BASE_KEY] == records["base config"]

    for label, params in (("trial 1", ODD), ("trial 2", ODD | {"weights.space": 30.0}), ("base config", {})):
        record = dict(records[label])
        assert isinstance(record.pop("at"), str)
        assert record == _expected_record(_replay(params)), label
    # Identical configs on the same games: the same result in every game.
    assert _expected_record(_replay(AS_BASE))["results"] == records["base config"]["results"]
    assert records["trial 1"]["results"] != records["base config"]["results"]
    # Every config plays every game once, and each game is reported.
    assert Counter(o.game for o in ended) == {game: 3 for game in range(GAMES)}


def test_a_trial_with_the_base_configs_parameters_is_not_replayed(tmp_path: Path) -> None:
    """It is the base: re-playing it would compare the base with itself (+0.0 points [+0.0, +0.0])."""
    spec = _spec(tmp_path)
    round_trip = AS_BASE | {"weights.space": AS_BASE["weights.space"] * (1 + 2e-16)}  # an older study's base trial
    study, _ = _study(tmp_path, (AS_BASE, 0.9), (round_trip, 0.85), (ODD, 0.8))
    assert trials_to_validate(study, 3) and [t.number for t in trials_to_validate(study, 3)] == [0, 1, 2]
    assert [t.number for t in trials_to_validate(study, 3, base=AS_BASE)] == [2]
    assert base_like_trials(study, AS_BASE) == [0, 1]
    records = validate_study(study, spec, top=3, games=GAMES, seed=SEED)
    assert set(records) == {"trial 2", "base config"}


def test_when_nothing_beats_the_base_the_base_is_the_best_and_is_exported(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    study, _ = _study(tmp_path, (AS_BASE, 0.9), (ODD, 0.8))
    validate_study(study, spec, top=1, games=GAMES, seed=SEED)

    best = best_trial(study)
    assert best is not None and best.kind == "base" and best.trial is None
    comparison = best.comparison
    assert comparison is not None and comparison.trial == 1  # trial 0 is the base itself: not compared
    assert not comparison.better
    out = tmp_path / "best.yaml"
    export_best(study, out)
    assert out.read_text().splitlines()[1] == (
        f"# holds the base config: no validated trial beats it (closest: trial 1, {comparison.describe()}); base "
        + _record_text(study.user_attrs[VALIDATED_BASE_KEY])
    )
    assert load_config(out) == default_config()  # the base config, not trial 1's values


def _record_text(record: dict[str, Any]) -> str:
    low, high = record["ci"]
    return (
        f"win rate {100 * record['win_rate']:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%], "
        f"score {record['score']:.3f} over {GAMES} fresh games"
    )


def test_a_stored_base_is_reused_only_for_the_same_games(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    study, _ = _study(tmp_path, (AS_BASE, 0.9), (ODD, 0.8), (ODD | {"weights.space": 30.0}, 0.3))
    first = validate_study(study, spec, top=1, games=GAMES, seed=SEED)

    again = validate_study(study, spec, top=2, games=GAMES, seed=SEED, include_base=False)
    assert again["base config"] == first["base config"] == study.user_attrs[VALIDATED_BASE_KEY]
    assert set(again) == {"trial 1", "trial 2", "base config"}
    best = best_trial(study)
    assert best is not None and best.verdict is not None
    assert sorted(c.trial for c in best.verdict.comparisons) == [1, 2] and best.verdict.ignored == 0

    for games, seed in ((6, SEED), (GAMES, SEED + 1)):
        with pytest.raises(UserError) as refused:
            validate_study(study, spec, top=1, games=games, seed=seed, include_base=False)
        assert str(refused.value) == (
            f"no stored base-config record on these {games} games (seed {seed}); "
            "run validate without --no-base so the base plays the same games"
        )
    assert stored_base_record(study, spec, games=GAMES, seed=SEED) == first["base config"]


def test_validation_games_are_never_the_studys_own(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    study_seed = spec.benchmark.seed
    derived = validation_seed(spec)
    assert derived != study_seed and derived == validation_seed(spec)  # fresh, and the same every time
    assert validation_seed(spec.with_overrides(seed=study_seed + 1)) not in (derived, study_seed + 1)
    assert validation_seed(spec, study_seed) == study_seed + 1  # asked for the study's seed: the next one
    assert validation_seed(spec, 5) == 5
    assert validation_seed(spec.with_overrides(validation_seed=42)) == 42
