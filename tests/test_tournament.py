"""Tournaments: each opponent plays the same games, the value is the weighted mean, steps pair across trials.

Real games on a tiny board, real SQLite and PostgreSQL studies, and the real CLI in a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from _study import load, run_cli, write_spec

from optuna_clank.arena.match import play_match
from optuna_clank.arena.snakes.heuristic import HeuristicSnake
from optuna_clank.core.attributes import OPPONENTS_KEY
from optuna_clank.spec import SpecError, load_spec
from optuna_clank.trial.metrics import mean_score
from optuna_clank.trial.objective import ArenaObjective
from optuna_clank.trial.tournament import Tournament, is_tournament

optuna.logging.set_verbosity(optuna.logging.WARNING)

OPPONENTS = '["baseline", "greedy-food"]'


def _tournament_spec(tmp_path: Path, name: str, *, weights: str = "[3, 1]", games: int = 4) -> Path:
    path = write_spec(tmp_path, name, games=games, sampler="random", pruner="none")
    text = path.read_text().replace('opponents = ["baseline"]', f"opponents = {OPPONENTS}")
    if weights:
        text = text.replace("[benchmark]\n", f"[benchmark]\nopponent_weights = {weights}\n")
    path.write_text(text)
    return path


def test_every_opponent_plays_the_same_games_numbered_by_step() -> None:
    tour = Tournament(("baseline", "greedy-food"), (1.0, 1.0), games=3)
    result = tour.play(HeuristicSnake(None, name="candidate"), [5, 0, 3, 1], seed=7, device="cpu",
                       board_size=(7, 7), max_turns=200)  # fmt: skip
    assert [o.game for o in result.outcomes] == [0, 1, 3, 5]
    for outcome in result.outcomes:
        k, game = tour.split(outcome.game)
        assert outcome.opponents == (tour.opponents[k],)
        # Step k*G+i is game i against opponent k, exactly as a plain match of that game plays it.
        (alone,) = play_match(None, [tour.opponents[k]], games=[game], seed=7, board_size=7, max_turns=200).outcomes
        assert (alone.result, alone.turns) == (outcome.result, outcome.turns)
        assert alone.candidate_seat == outcome.candidate_seat


def test_trial_value_is_the_weighted_mean_and_attrs_give_each_opponent(tmp_path: Path, postgres_url: str) -> None:
    spec = load_spec(_tournament_spec(tmp_path, "tour"))
    assert is_tournament(spec.benchmark) and spec.benchmark.opponent_weights == (3.0, 1.0)
    study = optuna.create_study(study_name="tour", storage=postgres_url, sampler=optuna.samplers.RandomSampler(0))
    study.optimize(ArenaObjective(spec), n_trials=2)
    for trial in study.trials:
        rows = trial.user_attrs[OPPONENTS_KEY]
        assert [r["opponent"] for r in rows] == ["baseline", "greedy-food"]
        assert [r["games"] for r in rows] == [4, 4]
        assert trial.user_attrs["games_played"] == 8
        assert all(r["win_rate_ci"][0] <= r["win_rate"] <= r["win_rate_ci"][1] for r in rows)
        weighted = (3 * rows[0]["score"] + 1 * rows[1]["score"]) / 4
        assert trial.value == pytest.approx(weighted, abs=1e-3)
        # Every step 0..7 reported once; the mean of the reports is the weighted mean too.
        assert sorted(trial.intermediate_values) == list(range(8))
        assert sum(trial.intermediate_values.values()) / 8 == pytest.approx(trial.value)


def test_pruner_steps_mean_the_same_game_in_every_trial(tmp_path: Path, sqlite_url: str) -> None:
    """Trials shuffle their order differently, yet step s is the same opponent and game for each."""
    spec = load_spec(_tournament_spec(tmp_path, "steps", weights=""))
    objective = ArenaObjective(spec)
    assert objective.game_order(0) != objective.game_order(1)
    assert sorted(objective.game_order(0)) == sorted(objective.game_order(1)) == list(range(8))
    tour = objective.tournament
    assert tour is not None and tour.weights == (1.0, 1.0)
    pruned_spec = spec.with_overrides(pruner_name="wilcoxon", round_size=2)
    study = optuna.create_study(
        study_name="steps",
        storage=sqlite_url,
        sampler=optuna.samplers.RandomSampler(1),
        pruner=optuna.pruners.ThresholdPruner(lower=1.5),  # prunes every trial at its first check
    )
    study.optimize(ArenaObjective(pruned_spec), n_trials=2)
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.PRUNED
        played = {s for s in trial.intermediate_values if s < tour.steps}
        assert played == set(objective.game_order(trial.number)[:2])  # its first round, numbered by step
        assert trial.value == trial.intermediate_values[tour.steps]  # the weighted mean over what was played
        assert trial.user_attrs["games_played"] == 2


def test_weighted_mean_leaves_out_opponents_not_played_yet() -> None:
    tour = Tournament(("baseline", "greedy-food"), (3.0, 1.0), games=2)
    outcomes = play_match(None, ["baseline"], games=[0, 1], seed=3, board_size=7, max_turns=100).outcomes
    assert tour.weighted(mean_score, outcomes, 100) == mean_score(outcomes, 100)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("[1]", "1 weight(s) for 2 opponent(s)"),
        ("[1, -2]", "weights must be positive"),
        ("{ baseline = 2, heuristic = 1 }", "'heuristic' is not one of the opponents"),
        ('"heavy"', "expected a list like [2, 1]"),
    ],
)
def test_bad_weights_are_one_line_errors(tmp_path: Path, weights: str, message: str) -> None:
    with pytest.raises(SpecError, match=r"\[benchmark\] opponent_weights") as caught:
        load_spec(_tournament_spec(tmp_path, "bad", weights=weights))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_weights_table_is_read_in_opponent_order(tmp_path: Path) -> None:
    spec = load_spec(_tournament_spec(tmp_path, "table", weights='{ "greedy-food" = 4 }'))
    assert spec.benchmark.opponent_weights == (1.0, 4.0)


def test_cli_tournament_status_and_json_show_each_opponent(tmp_path: Path) -> None:
    write_spec(tmp_path, "cli", games=2, sampler="random", pruner="none")
    run = run_cli(
        ["optimize", "--spec", "cli.toml", "--n-trials", "2", "--quiet", "--opponent", "baseline",
         "--opponent", "greedy-food", "--opponent-weight", "2", "--opponent-weight", "1"],
        cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "tournament: the same 2 games against each opponent (4 per trial)" in run.stderr
    # The overrides are not stored in the spec: status reads the trials' attributes.
    status = run_cli(["status", "--spec", "cli.toml"], cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "vs baseline: win rate" in status.stdout and "vs greedy-food: win rate" in status.stdout
    assert "weight 2" in status.stdout
    report = json.loads(run_cli(["status", "--spec", "cli.toml", "--json"], cwd=tmp_path).stdout)
    rows = report["best"][OPPONENTS_KEY]
    assert [r["weight"] for r in rows] == [2.0, 1.0] and [r["games"] for r in rows] == [2, 2]
    trials = load("cli", f"sqlite:///{tmp_path / 'storage' / 'cli.db'}").trials
    assert all(len(t.user_attrs[OPPONENTS_KEY]) == 2 for t in trials)


def test_cli_weights_without_a_tournament_are_refused(tmp_path: Path) -> None:
    write_spec(tmp_path, "one", games=2)
    run = run_cli(["optimize", "--spec", "one.toml", "--opponent-weight", "2", "--quiet"], cwd=tmp_path)
    assert run.returncode == 2
    assert "only a tournament (mode duel, several opponents) weighs its opponents" in run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_cli_validate_plays_every_opponent_on_the_same_fresh_games(tmp_path: Path) -> None:
    _tournament_spec(tmp_path, "val", games=2)
    run = run_cli(["optimize", "--spec", "val.toml", "--n-trials", "2", "--quiet"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run = run_cli(["validate", "--spec", "val.toml", "--games", "3", "--top", "1"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    attrs = load("val", f"sqlite:///{tmp_path / 'storage' / 'val.db'}").user_attrs
    base = attrs["validated_base"]
    assert base["games"] == 6 and len(base["results"]) == 6  # 3 games x 2 opponents, paired per step
    assert [r["games"] for r in base[OPPONENTS_KEY]] == [3, 3]
    assert [r["weight"] for r in base[OPPONENTS_KEY]] == [3.0, 1.0]
    (trial_key,) = [k for k in attrs if k.startswith("validated:")]
    assert attrs[trial_key]["opponents"] == base["opponents"] == ["baseline", "greedy-food"]
    for row in base[OPPONENTS_KEY]:
        low, high = row["win_rate_ci"]
        assert f"vs {row['opponent']}: win rate {100 * row['win_rate']:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%]" in (
            run.stdout
        )


def test_study_note_calls_it_a_tournament_with_its_weights(tmp_path: Path) -> None:
    from optuna_clank.study.note import study_note

    note = study_note(load_spec(_tournament_spec(tmp_path, "note")), {})
    assert "a tournament: every opponent plays the same games" in note and "(weights 3, 1)" in note


def test_a_spec_accepts_server_urls_as_opponents(tmp_path: Path) -> None:
    path = _tournament_spec(tmp_path, "urls", weights="")
    path.write_text(path.read_text().replace(OPPONENTS, '["baseline", "url:http://127.0.0.1:8000"]'))
    assert load_spec(path).benchmark.opponents == ("baseline", "url:http://127.0.0.1:8000")
    path.write_text(path.read_text().replace("url:http://127.0.0.1:8000", "url:ftp://x"))
    with pytest.raises(SpecError, match=r"\[benchmark\] opponents: opponent 'url:ftp://x': not an http\(s\) URL"):
        load_spec(path)
