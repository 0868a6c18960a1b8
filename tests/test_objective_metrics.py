"""What the objective records on each trial, checked against the same games replayed here.

In-process and fast: tiny real games (7x7 board), real SQLite studies, the real objective. Every
expected number is computed in this file from an independent replay of the trial's games
(``play_match`` on the trial's config, seated here rather than through the objective), with
the interval formulas derived here from their definitions rather than taken from
:mod:`optuna_clank.core.stats`.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import optuna
import pytest
from _study import write_spec
from optuna.trial import TrialState

from optuna_clank.arena.config import default_config, with_values
from optuna_clank.arena.match import GameOutcome, play_match
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.spec import StudySpec, load_spec
from optuna_clank.trial.metrics import death_cause_summary
from optuna_clank.trial.objective import ArenaObjective, SurplusTrial, TrialAborted

optuna.logging.set_verbosity(optuna.logging.WARNING)

Z = statistics.NormalDist().inv_cdf(0.975)
"""The two-sided 95% normal quantile, from the normal distribution itself."""

GAMES = 6
SEED = 7  # the tiny spec's benchmark seed
MAX_TURNS = 200


@pytest.fixture(autouse=True)
def _artifacts_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial stories (notes, replays) go under the current folder's storage/: keep them in the test's."""
    monkeypatch.chdir(tmp_path)


def _spec(
    tmp_path: Path, name: str, *, round_size: int, objectives: Sequence[str] = (), directions: Sequence[str] = ()
) -> StudySpec:
    path = write_spec(tmp_path, name, games=GAMES, pruner="none")
    if objectives:
        text = path.read_text()
        listed = ", ".join(f'"{o}"' for o in objectives)
        goals = ", ".join(f'"{d}"' for d in directions)
        text = text.replace(
            f'name = "{name}"\n', f'name = "{name}"\nobjectives = [{listed}]\ndirections = [{goals}]\n', 1
        )
        path.write_text(text)
    return load_spec(path).with_overrides(round_size=round_size)


def _study(tmp_path: Path, spec: StudySpec, pruner: optuna.pruners.BasePruner | None = None) -> optuna.Study:
    return optuna.create_study(
        study_name=spec.name,
        storage=f"sqlite:///{tmp_path / 'study.db'}",
        directions=list(spec.study.directions),
        sampler=optuna.samplers.RandomSampler(seed=3),
        pruner=pruner or optuna.pruners.NopPruner(),
    )


def _replay(params: dict, games: Sequence[int]) -> list[GameOutcome]:
    """The trial's games played again here: its params on the default config, against the baseline."""
    player = HeuristicSnake(with_values(default_config(), params), name="candidate")
    result = play_match(
        player, ["baseline"], games=list(games), seed=SEED, board_size=(7, 7), mode="duel", max_turns=MAX_TURNS
    )
    return sorted(result.outcomes, key=lambda o: o.game)


def _wilson(successes: int, n: int) -> list[float]:
    """Wilson's interval by its definition: the p with |p_hat - p| <= z * sqrt(p (1 - p) / n)."""
    p_hat = successes / n
    # (p_hat - p)^2 = z^2 p (1 - p) / n  <=>  (1 + z^2/n) p^2 - (2 p_hat + z^2/n) p + p_hat^2 = 0
    roots = np.roots([1 + Z * Z / n, -(2 * p_hat + Z * Z / n), p_hat * p_hat]).real
    return [round(float(max(0.0, roots.min())), 4), round(float(min(1.0, roots.max())), 4)]


def _phase(turn: int) -> str:
    return "early" if turn < 50 else "mid" if turn < 150 else "late"


def _expected_attrs(outcomes: Sequence[GameOutcome]) -> dict:
    scores = [{"win": 1.0, "draw": 0.5, "loss": 0.0}[o.result] for o in outcomes]
    n = len(outcomes)
    wins = sum(o.result == "win" for o in outcomes)
    losses = sum(o.result == "loss" for o in outcomes)
    mean = sum(scores) / n
    half = Z * statistics.stdev(scores) / math.sqrt(n)
    deaths = Counter(
        (o.snakes[o.candidate_seat].cause, _phase(o.snakes[o.candidate_seat].eliminated_on_turn))
        for o in outcomes
        if o.snakes[o.candidate_seat].cause
    )
    table: dict[str, dict[str, int]] = {}
    for (cause, phase), count in deaths.items():
        table.setdefault(cause, {})[phase] = count
    return {
        "games_played": n,
        "mean_score": round(mean, 4),
        "wins": wins,
        "losses": losses,
        "draws": n - wins - losses,
        "win_rate_ci": _wilson(wins, n),
        "score_ci": [round(max(mean - half, 0.0), 4), round(min(mean + half, 1.0), 4)],
        "avg_turns": round(sum(o.turns for o in outcomes) / n, 2),
        "death_causes": table,
    }


def test_each_game_is_reported_at_its_own_step_and_the_attributes_summarise_them(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "metrics", round_size=3)
    study = _study(tmp_path, spec)
    study.optimize(ArenaObjective(spec, attrs={"slot": 5, "device": "cpu"}), n_trials=2)

    results: Counter[str] = Counter()
    for trial in study.trials:
        assert trial.state == TrialState.COMPLETE
        outcomes = _replay(trial.params, range(GAMES))
        results.update(o.result for o in outcomes)
        # Every game is reported at its game index, whatever order the trial played them in.
        assert trial.intermediate_values == {o.game: o.score for o in outcomes}
        assert trial.value == pytest.approx(sum(o.score for o in outcomes) / GAMES, abs=1e-12)
        expected = _expected_attrs(outcomes)
        assert {key: trial.user_attrs[key] for key in expected} == expected
        assert trial.user_attrs["slot"] == 5 and trial.user_attrs["device"] == "cpu"
    # The check means something only if the games differ: wins and losses both occur.
    assert results["win"] > 0 and results["loss"] > 0, results


def test_several_objectives_are_each_metric_over_the_same_games(tmp_path: Path) -> None:
    objectives = ("score", "win_rate", "survival", "avg_turns")
    spec = _spec(
        tmp_path,
        "multi",
        round_size=GAMES,
        objectives=objectives,
        directions=("maximize", "maximize", "maximize", "minimize"),
    )
    study = _study(tmp_path, spec)
    study.optimize(ArenaObjective(spec), n_trials=1)

    for trial in study.trials:
        outcomes = _replay(trial.params, range(GAMES))
        lived = [
            o.snakes[o.candidate_seat].eliminated_on_turn if o.snakes[o.candidate_seat].cause else o.turns
            for o in outcomes
        ]
        expected = [
            sum({"win": 1.0, "draw": 0.5, "loss": 0.0}[o.result] for o in outcomes) / GAMES,
            sum(o.result == "win" for o in outcomes) / GAMES,
            sum(lived) / GAMES / MAX_TURNS,
            sum(o.turns for o in outcomes) / GAMES,
        ]
        assert trial.values == pytest.approx(expected, abs=1e-12)
        assert trial.intermediate_values == {}  # several objectives: nothing for a pruner to read
        assert trial.user_attrs["games_played"] == GAMES


def test_a_pruned_trial_reports_only_its_first_round_then_its_mean(tmp_path: Path) -> None:
    """Pruned at the first check: the steps are the first round of the trial's own shuffled order."""
    spec = _spec(tmp_path, "pruned", round_size=2)
    round_size = spec.benchmark.round_size
    study = _study(tmp_path, spec, pruner=optuna.pruners.ThresholdPruner(lower=1.5))  # every score is below 1.5
    study.optimize(ArenaObjective(spec), n_trials=3)

    firsts = set()
    for trial in study.trials:
        assert trial.state == TrialState.PRUNED
        order = list(range(GAMES))
        random.Random(f"{SEED}:{trial.number}").shuffle(order)
        played = sorted(order[:round_size])
        firsts.add(tuple(played))
        outcomes = _replay(trial.params, played)
        mean = sum(o.score for o in outcomes) / len(outcomes)
        # Each played game at its own step, then the mean "after its games" at step GAMES.
        assert trial.intermediate_values == {**{o.game: o.score for o in outcomes}, GAMES: mean}
        assert trial.value == mean
        expected = _expected_attrs(outcomes)
        assert {key: trial.user_attrs[key] for key in expected} == expected
    assert len(firsts) > 1, "every trial shuffles its own order, so their first rounds differ"


def test_a_stop_request_between_rounds_fails_the_trial_with_the_games_played(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "abort", round_size=2)
    round_size = spec.benchmark.round_size
    polls = iter([False, True])  # play one round, then the user asks to stop
    study = _study(tmp_path, spec)
    study.optimize(ArenaObjective(spec, should_abort=lambda: next(polls)), n_trials=1, catch=(TrialAborted,))

    (trial,) = study.trials
    assert trial.state == TrialState.FAIL
    assert trial.user_attrs["aborted"] == "stopped by the user (Ctrl-C twice); queued again"
    order = list(range(GAMES))
    random.Random(f"{SEED}:0").shuffle(order)
    outcomes = _replay(trial.params, sorted(order[:round_size]))
    assert trial.intermediate_values == {o.game: o.score for o in outcomes}
    expected = _expected_attrs(outcomes)
    assert {key: trial.user_attrs[key] for key in expected} == expected


def test_a_trial_beyond_the_target_plays_nothing_but_says_whose_it_was(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "surplus", round_size=2)
    study = _study(tmp_path, spec)
    objective = ArenaObjective(spec, attrs={"slot": 1}, claim=lambda trial: False)
    study.optimize(objective, n_trials=1, catch=(SurplusTrial,))

    (trial,) = study.trials
    assert trial.state == TrialState.FAIL
    assert trial.params == {} and trial.intermediate_values == {}
    assert trial.user_attrs == {"slot": 1, "not_run": "another worker already holds the study's last trials"}


def test_death_cause_summary_adds_up_causes_and_phases_over_trials() -> None:
    def frozen(games: int, deaths: dict) -> optuna.trial.FrozenTrial:
        return optuna.trial.create_trial(value=0.5, user_attrs={"games_played": games, "death_causes": deaths})

    trials = [
        frozen(10, {"wall-collision": {"early": 3, "mid": 1}}),
        frozen(20, {"wall-collision": {"early": 1}, "head-collision": {"late": 2, "mid": 1}}),
        frozen(10, {}),
    ]
    # 40 games: walls 5 (early 4, mid 1) = 12.5% -> "12%" (round half to even), heads 3 = 7.5% -> "8%".
    assert death_cause_summary(trials) == (
        "deaths of the tuned snake over the last 3 trials (40 games): "
        "wall-collision 12% of games (early 4, mid 1); head-collision 8% of games (late 2, mid 1)"
    )
    assert death_cause_summary([frozen(10, {})]) == ""
