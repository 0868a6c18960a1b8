"""Warm start: another study's best configs are re-played first, mapped by name, recorded once."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import create_trial

from optuna_clank.core.attributes import PROPOSAL_SOURCE_KEY, WARM_START_KEY, WARM_START_TRIAL_KEY, ProposalSource
from optuna_clank.spec import load_spec
from optuna_clank.study.opening import open_study, start_from_base
from optuna_clank.study.storage import open_storage
from optuna_clank.study.warm_start import PICKED_RAW, PICKED_VALIDATED, warm_start
from optuna_clank.trial.base_trial import base_trial_params
from tests._study import load, run_cli, write_spec

_GAMES = {"seed": 5, "games": 4, "opponents": ["baseline"], "board_size": [7, 7], "mode": "standard", "max_turns": 200}


def _record(results: str) -> dict:
    score = sum({"W": 1.0, "D": 0.5, "L": 0.0}[r] for r in results) / len(results)
    return {**_GAMES, "results": results, "score": score, "win_rate": score, "ci": [0.0, 1.0]}


def _source_study(url: str, name: str, spec_path: Path, *, validated: bool) -> optuna.Study:
    """A finished source study on the real storage: four trials, one with a value out of the target's range.

    With ``validated``, trial 1 (not the best by study value) is validated better than the base.
    """
    spec = load_spec(spec_path)
    space = spec.distributions()
    study = optuna.create_study(study_name=name, storage=open_storage(url, heartbeat=None), direction="maximize")
    base = base_trial_params(spec)
    wide = {**space, "weights.space": FloatDistribution(0.001, 1e6, log=True)}
    for value, space_value in ((0.4, 5.0), (0.5, 7.0), (0.9, 1e5), (0.2, 3.0)):
        params = {**base, "weights.space": space_value}
        del params["traps.critical"]  # the source did not tune it: the target's base value fills in
        dists = {name: wide[name] for name in params}
        study.add_trial(create_trial(params=params, distributions=dists, value=value))
    if validated:
        study.set_user_attr("validated_base", _record("LLLL"))
        study.set_user_attr("validated:1", _record("WWWW"))
    return study


def _objective_for(spec_path: Path):
    space = load_spec(spec_path).distributions()

    def objective(trial: optuna.Trial) -> float:
        return sum(float(trial._suggest(name, dist)) for name, dist in space.items()) * 0.0

    return objective


def test_validated_trials_come_first_and_the_sampler_replays_them(storage_url: str, tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, "target", n_trials=4)
    _source_study(storage_url, "source", spec_path, validated=True)
    spec = load_spec(spec_path)
    study = open_study(spec, storage_url=storage_url)
    done = warm_start(study, spec, source="source", source_url=storage_url, count=2)
    record = study.user_attrs[WARM_START_KEY]
    assert done.seeded_now and record["picked_by"] == PICKED_VALIDATED
    assert [s["trial"] for s in record["seeds"]] == [1]  # only trial 1 was validated
    seed = record["seeds"][0]["params"]
    assert seed["traps.critical"] == base_trial_params(spec)["traps.critical"]
    assert any("traps.critical not in the source" in n for n in record["notes"])
    study.optimize(_objective_for(spec_path), n_trials=3)
    replays = [t for t in study.trials if t.user_attrs.get(PROPOSAL_SOURCE_KEY) == ProposalSource.WARM_START]
    assert [t.user_attrs[WARM_START_TRIAL_KEY] for t in replays] == [1]
    assert replays[0].params == pytest.approx(seed)
    assert study.trials[0].user_attrs[PROPOSAL_SOURCE_KEY] == "base"  # the base config still comes first


def test_without_validation_the_best_completed_trials_are_taken_and_clipped(sqlite_url: str, tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, "target")
    _source_study(sqlite_url, "source", spec_path, validated=False)
    spec = load_spec(spec_path)
    high = spec.distributions()["weights.space"].high
    study = open_study(spec, storage_url=sqlite_url)
    record = warm_start(study, spec, source="source", source_url=sqlite_url, count=2).record
    assert record["picked_by"] == PICKED_RAW
    assert [s["trial"] for s in record["seeds"]] == [2, 1]  # by study value, best first
    assert record["seeds"][0]["params"]["weights.space"] == high
    assert any(f"weights.space 100000 clipped to {high:g}" in n for n in record["notes"])
    again = warm_start(study, spec, source="source", source_url=sqlite_url, count=4)
    assert not again.seeded_now and again.record == record


def test_cli_warm_start_seeds_once_and_masks_the_storage(postgres_url: str, tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, "target", n_trials=3, games=2)
    _source_study(postgres_url, "source", spec_path, validated=False)
    secret_url = postgres_url.replace("postgres@", "postgres:hunter2@", 1)
    assert "hunter2" in secret_url
    args = ["optimize", "--spec", str(spec_path), "--quiet", "--warm-start-from", "source"]
    first = run_cli([*args, "--warm-start-storage", secret_url, "--warm-start-trials", "2"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "hunter2" not in first.stderr and "seeded now" in first.stderr
    url = f"sqlite:///{tmp_path / 'storage' / 'target.db'}"
    record = load("target", url).user_attrs[WARM_START_KEY]
    assert "hunter2" not in str(record) and "***" in record["source_storage"]
    assert [s["trial"] for s in record["seeds"]] == [2, 1]
    second = run_cli([*args, "--warm-start-storage", secret_url, "--n-trials", "4"], cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "already seeded, not seeded again" in second.stderr
    study = load("target", url)
    assert study.user_attrs[WARM_START_KEY] == record
    replayed = [t.user_attrs.get(WARM_START_TRIAL_KEY) for t in study.trials]
    assert sorted(r for r in replayed if r is not None) == [1, 2]  # each seed played once
    assert len(study.trials) == 4


def test_cli_unknown_source_study_is_one_masked_line(postgres_url: str, tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, "target", n_trials=1, games=2)
    secret_url = postgres_url.replace("postgres@", "postgres:hunter2@", 1)
    result = run_cli(
        ["optimize", "--spec", str(spec_path), "--warm-start-from", "nope", "--warm-start-storage", secret_url],
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "nope" in line]
    assert len(errors) == 1 and "no study 'nope' to warm-start from" in errors[0]
    assert not (tmp_path / "storage" / "target.db").exists()  # checked before the new study is created


def test_other_samplers_get_the_seeds_enqueued_after_the_base(sqlite_url: str, tmp_path: Path) -> None:
    spec_path = write_spec(tmp_path, "target", sampler="tpe")
    _source_study(sqlite_url, "source", spec_path, validated=False)
    spec = load_spec(spec_path)
    study = open_study(spec, storage_url=sqlite_url)
    assert start_from_base(study, spec)
    record = warm_start(study, spec, source="source", source_url=sqlite_url, count=2).record
    waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
    assert [t.user_attrs.get(PROPOSAL_SOURCE_KEY) for t in waiting] == [
        "base",
        ProposalSource.WARM_START,
        ProposalSource.WARM_START,
    ]
    assert [t.user_attrs.get(WARM_START_TRIAL_KEY) for t in waiting[1:]] == [s["trial"] for s in record["seeds"]]
    assert not warm_start(study, spec, source="source", source_url=sqlite_url).seeded_now
    assert len(study.get_trials(deepcopy=False)) == 3  # nothing enqueued twice
