"""Multi-objective studies end to end: the Pareto front in status, export --pick, validate on the front.

Real games on a tiny board, a real SQLite study, the real CLI in subprocesses, Optuna's own front.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml
from _study import load, run_cli, write_spec

from optuna_clank.core.errors import UserError
from optuna_clank.core.pareto import pareto_ranks, parse_pick, pick_trial
from optuna_clank.spec import load_spec
from optuna_clank.study.validate import base_like_trials
from optuna_clank.trial.snake_kind import base_values

OBJECTIVES = ("win_rate", "avg_turns", "survival")
DIRECTIONS = ("maximize", "minimize", "maximize")


def _mo_spec(tmp_path: Path, name: str, *, sampler: str = "random") -> Path:
    path = write_spec(tmp_path, name, games=4, n_trials=4, sampler=sampler)
    text = path.read_text().replace('name = "wilcoxon"\n', "")  # the default pruner: turned off, with a reason
    text = text.replace(
        f'name = "{name}"\n',
        f'name = "{name}"\nobjectives = {list(OBJECTIVES)}\ndirections = {list(DIRECTIONS)}\n'.replace("'", '"'),
        1,
    )
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def mo_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mo")
    _mo_spec(folder, "mo")
    run = run_cli(["optimize", "--spec", "mo.toml", "--quiet"], cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "pruning is off: a multi-objective study cannot prune" in run.stderr
    return folder


def _study(folder: Path) -> optuna.Study:
    return load("mo", f"sqlite:///{folder / 'storage' / 'mo.db'}")


def test_status_shows_the_pareto_front(mo_study: Path) -> None:
    study = _study(mo_study)
    front = sorted(t.number for t in study.best_trials)
    run = run_cli(["status", "--spec", "mo.toml"], cwd=mo_study)
    assert run.returncode == 0, run.stderr
    assert f"pareto front {len(front)} trial(s) (maximize win_rate, minimize avg_turns, maximize survival)" in (
        run.stdout
    )
    for number in front:
        assert f"#{number:<5} win_rate" in run.stdout
    report = json.loads(run_cli(["status", "--spec", "mo.toml", "--json"], cwd=mo_study).stdout)
    assert [t["number"] for t in report["pareto_front"]] == front
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)  # nothing pruned


def test_export_pick_by_number_and_by_rule(mo_study: Path) -> None:
    study = _study(mo_study)
    trial = study.trials[1]
    run = run_cli(["export", "--spec", "mo.toml", "--pick", str(trial.number)], cwd=mo_study)
    assert run.returncode == 0, run.stderr
    config = yaml.safe_load(run.stdout)
    assert config["weights"]["space"] == pytest.approx(trial.params["weights.space"])
    # Constraints, then the goal over the front: the front trial with the fewest turns among those allowed.
    front = study.best_trials
    floor = min(t.values[0] for t in front)
    expected = min((t for t in front if t.values[0] >= floor), key=lambda t: (t.values[1], t.number))
    out = mo_study / "picked.yaml"
    rule = f"win_rate>={floor},min avg_turns"
    run = run_cli(["export", "--spec", "mo.toml", "--pick", rule, "-o", str(out)], cwd=mo_study)
    assert run.returncode == 0, run.stderr
    assert f"trial {expected.number} picked by" in run.stderr
    assert yaml.safe_load(out.read_text())["weights"]["food"] == pytest.approx(expected.params["weights.food"])


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        ("999", "--pick 999: no completed trial with that number"),
        ("wins>=0.5", "'wins' is not an objective of the study"),
        ("win_rate>=2", "no trial of the Pareto front"),
        ("min avg_turns,max survival", "give one 'min NAME' or 'max NAME'"),
        ("win_rate~0.5", "expected a trial number, a constraint"),
    ],
)
def test_bad_picks_name_what_is_wrong(mo_study: Path, pick: str, message: str) -> None:
    with pytest.raises(UserError) as caught:
        pick_trial(_study(mo_study), parse_pick(pick, OBJECTIVES), OBJECTIVES)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_bad_pick_on_the_command_line_is_one_line_and_exit_2(mo_study: Path) -> None:
    run = run_cli(["export", "--spec", "mo.toml", "--pick", "wins>=0.5"], cwd=mo_study)
    assert run.returncode == 2
    assert "'wins' is not an objective of the study" in run.stderr and run.stderr.count("\n") == 1, run.stderr


def test_validate_replays_the_front_and_reports_each_objective(mo_study: Path) -> None:
    study = _study(mo_study)
    front = sorted(t.number for t in study.best_trials)
    run = run_cli(["validate", "--spec", "mo.toml", "--games", "4", "--top", "10"], cwd=mo_study)
    assert run.returncode == 0, run.stderr
    assert "no single winner is crowned" in run.stdout
    attrs = _study(mo_study).user_attrs
    validated = sorted(int(key.split(":")[1]) for key in attrs if key.startswith("validated:"))
    # A front trial that plays the base config's own values is the base: validate plays the base anyway.
    the_base = base_like_trials(study, base_values(load_spec(mo_study / "mo.toml")))
    assert validated == [number for number in front if number not in the_base]
    for number in the_base:
        if number in front:
            assert f"trial {number} has the base config's parameters: it is the base config" in run.stdout
    for number in validated:
        values = attrs[f"validated:{number}"]["objectives"]
        assert set(values) == set(OBJECTIVES)
        assert f"trial {number:<6} win_rate {values['win_rate']:.3f}" in run.stdout
    assert set(attrs["validated_base"]["objectives"]) == set(OBJECTIVES)


def test_pareto_ranks_by_non_dominated_sorting() -> None:
    up, down = optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE
    values = [(0.5, 10.0), (0.6, 20.0), (0.4, 30.0), (0.5, 12.0), (0.3, 40.0)]
    assert pareto_ranks(values, [up, down]) == [0, 0, 2, 1, 3]


def test_pick_rule_on_a_study_in_memory() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    for values in [(0.5, 10.0), (0.6, 20.0), (0.7, 30.0)]:
        study.add_trial(optuna.trial.create_trial(values=list(values)))
    names = ("win_rate", "avg_turns")
    assert pick_trial(study, parse_pick("win_rate>=0.55,min avg_turns", names), names).number == 1
    assert pick_trial(study, parse_pick("max win_rate", names), names).number == 2
    with pytest.raises(UserError, match="is empty"):
        parse_pick(" , ", names)
