"""What a study found: raw best, validated best, status counts, the Pareto front, exports.

In-process, on real SQLite studies built here with ``optuna.create_study`` and
``study.add_trial(optuna.trial.create_trial(...))``, carrying the user attributes the real
objective sets and validation records of the shape ``validate`` stores. Expected values are
worked out here (counts, rates, mean paired differences, fronts by brute force).

The tests that read ``results.status`` (its return value) are marked "status shape" below.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import optuna
import pytest
from _records import GAME_SCORE, validation_record
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from optuna_clank.arena.config import default_config, dump_config, flatten, load_config
from optuna_clank.core.attributes import VALIDATED_BASE_KEY, VALIDATION_PREFIX
from optuna_clank.core.errors import UserError
from optuna_clank.core.pareto import pareto_front
from optuna_clank.study.export import checkpoint_path, export_best
from optuna_clank.study.results import best_raw, best_trial, status, top_trials
from optuna_clank.study.validate import trials_to_validate

optuna.logging.set_verbosity(optuna.logging.WARNING)

DISTRIBUTIONS: dict[str, Any] = {
    "weights.space": FloatDistribution(0.1, 1000.0, log=True),
    "late_game.turn_threshold": IntDistribution(50, 300),
}


def _trial(
    value: float | list[float] | None,
    *,
    state: TrialState = TrialState.COMPLETE,
    space: float = 400.0,
    attrs: dict[str, Any] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> FrozenTrial:
    """A trial as the objective leaves it: params, value(s) and the objective's user attributes."""
    values = value if isinstance(value, list) else None
    trial = optuna.trial.create_trial(
        state=state,
        value=value if not isinstance(value, list) else None,
        values=values,
        params={"weights.space": space, "late_game.turn_threshold": 150} if state != TrialState.WAITING else {},
        distributions=DISTRIBUTIONS if state != TrialState.WAITING else {},
        user_attrs={"games_played": 30, "win_rate_ci": [0.55, 0.82], **(attrs or {})},
    )
    if start is not None:
        trial.datetime_start = start
    if end is not None:
        trial.datetime_complete = end
    return trial


def _study(url: str, *trials: FrozenTrial, directions: tuple[str, ...] = ("maximize",)) -> optuna.Study:
    study = optuna.create_study(study_name="results", storage=url, directions=list(directions))
    for trial in trials:
        study.add_trial(trial)
    return study


def _turn(results: str, count: int, old: str, new: str) -> str:
    """``results`` with its first ``count`` games that were ``old`` turned to ``new``."""
    out, left = [], count
    for c in results:
        if c == old and left:
            out.append(new)
            left -= 1
        else:
            out.append(c)
    assert left == 0
    return "".join(out)


BASE_RESULTS = ("W" * 45 + "L" * 55) * 2
"""The base config on 200 validation games: 90 wins."""


def _validate(study: optuna.Study, records: dict[int, str], *, base: str = BASE_RESULTS, seed: int = 99) -> None:
    for number, results in records.items():
        study.set_user_attr(f"{VALIDATION_PREFIX}{number}", validation_record(results, seed=seed))
    study.set_user_attr(VALIDATED_BASE_KEY, validation_record(base, seed=seed))


# --------------------------------------------------------------------------- raw best


def test_raw_best_is_the_best_complete_trial_and_ties_go_to_the_earlier(sqlite_url: str) -> None:
    study = _study(
        sqlite_url,
        _trial(0.5),
        _trial(0.9, state=TrialState.PRUNED),  # a pruned trial's value is a partial mean: never the best
        _trial(0.7, space=3.0),
        _trial(0.7, space=4.0),
        _trial(None, state=TrialState.FAIL),
    )
    assert [t.number for t in top_trials(study, 3)] == [2, 3, 0]
    best = best_trial(study)
    assert best is not None and best.kind == "raw" and best.trial is not None and best.trial.number == 2
    assert best_raw(study) is not None and best_raw(study).number == 2  # type: ignore[union-attr]
    assert best.describe() == "trial 2: value 0.700 over 30 games, win rate CI [55.0%, 82.0%] (not validated)"


def test_raw_best_of_a_minimised_study_is_the_lowest(sqlite_url: str) -> None:
    study = _study(sqlite_url, _trial(40.0), _trial(25.0), _trial(25.0), _trial(60.0), directions=("minimize",))
    assert [t.number for t in top_trials(study, 4)] == [1, 2, 0, 3]


def test_no_completed_trial_means_no_best_and_nothing_to_export(sqlite_url: str, tmp_path: Path) -> None:
    study = _study(sqlite_url, _trial(0.4, state=TrialState.PRUNED), _trial(None, state=TrialState.FAIL))
    assert best_trial(study) is None
    with pytest.raises(UserError, match="study 'results' has no completed trial yet: nothing to export"):
        export_best(study, tmp_path / "best.yaml")
    assert not (tmp_path / "best.yaml").exists()


# --------------------------------------------------------------------------- validated best


def test_a_validated_winner_is_the_best_even_when_another_trial_has_the_higher_value(sqlite_url: str) -> None:
    gain = _turn(BASE_RESULTS, 40, "L", "W")  # 40 of 200 games won more: +0.2 in every resample's mean
    even = _turn(_turn(BASE_RESULTS, 3, "L", "W"), 3, "W", "L")  # as many games won as lost: +0.0
    study = _study(sqlite_url, _trial(0.60, space=3.0), _trial(0.70, space=5.0), _trial(0.65))
    _validate(study, {0: gain, 1: even})

    best = best_trial(study)
    assert best is not None and best.kind == "trial" and best.trial is not None and best.trial.number == 0
    assert best_raw(study).number == 1  # type: ignore[union-attr]
    assert best.validated == validation_record(gain)
    assert best.verdict is not None and best.verdict.ignored == 0
    by_trial = {c.trial: c for c in best.verdict.comparisons}
    expected_mean = {
        n: sum(GAME_SCORE[a] - GAME_SCORE[b] for a, b in zip(r, BASE_RESULTS, strict=True)) / 200
        for n, r in ((0, gain), (1, even))
    }
    assert expected_mean == {0: 0.2, 1: 0.0}
    for number, comparison in by_trial.items():
        assert comparison.difference.mean == pytest.approx(expected_mean[number], abs=1e-12)
        assert comparison.compared == 2
        assert comparison.difference.confidence == pytest.approx(1 - 0.05 / 2)  # Bonferroni over 2 trials
    assert by_trial[0].better and by_trial[0].difference.low > 0.0
    assert not by_trial[1].better and by_trial[1].difference.low < 0.0 < by_trial[1].difference.high
    assert best.describe().startswith("trial 0: +20.0 points [")
    assert best.describe().endswith(
        "over the base on 200 games (97.5% interval; p < 0.001, 2 trial(s) compared at level 0.05); "
        "validated win rate 65.0% [0.0%, 100.0%], score 0.650 over 200 fresh games"
    )


def test_records_of_other_games_are_left_out_and_alone_they_leave_the_raw_best(sqlite_url: str) -> None:
    gain = _turn(BASE_RESULTS, 40, "L", "W")
    study = _study(sqlite_url, _trial(0.60), _trial(0.70))
    _validate(study, {0: BASE_RESULTS})
    study.set_user_attr(f"{VALIDATION_PREFIX}1", validation_record(gain, seed=98))  # another validation round's games
    best = best_trial(study)
    assert best is not None and best.kind == "base" and best.verdict is not None
    assert best.verdict.ignored == 1 and [c.trial for c in best.verdict.comparisons] == [0]

    only_other = _study(sqlite_url.replace("study.db", "other.db"), _trial(0.60), _trial(0.70))
    only_other.set_user_attr(f"{VALIDATION_PREFIX}0", validation_record(gain, seed=98))
    only_other.set_user_attr(VALIDATED_BASE_KEY, validation_record(BASE_RESULTS))
    fallback = best_trial(only_other)
    assert fallback is not None and fallback.kind == "raw" and fallback.trial.number == 1  # type: ignore[union-attr]


def test_status_reports_the_validated_best_and_the_raw_best(sqlite_url: str) -> None:
    """Reads ``status --json``'s object (``status(study).to_json()``)."""
    gain = _turn(BASE_RESULTS, 40, "L", "W")
    study = _study(sqlite_url, _trial(0.60, space=3.0), _trial(0.70, space=5.0), _trial(0.65))
    _validate(study, {0: gain, 1: BASE_RESULTS})
    study.set_user_attr(f"{VALIDATION_PREFIX}2", validation_record(gain, seed=98))

    report = status(study).to_json()
    assert report["best_kind"] == "trial"
    assert report["best"]["number"] == 0
    assert report["best"]["paired"]["difference"] == 0.2 and report["best"]["paired"]["better"] is True
    assert report["best"]["validated"] == {k: v for k, v in validation_record(gain).items() if k != "results"}
    assert report["best_raw"]["number"] == 1 and report["best_raw"]["values"] == [0.70]
    assert report["validated_trials"] == [0, 1, 2]
    assert report["validation_records_ignored"] == 1
    assert report["validated_base"] == {k: v for k, v in validation_record(BASE_RESULTS).items() if k != "results"}


# --------------------------------------------------------------------------- status counts


def test_status_counts_states_and_the_finishing_rate(sqlite_url: str) -> None:
    """Reads ``status --json``'s object (``status(study).to_json()``)."""
    t0 = datetime(2026, 1, 5, 10, 0)
    study = _study(
        sqlite_url,
        _trial(0.5, start=t0, end=t0 + timedelta(minutes=20)),
        _trial(0.4, state=TrialState.PRUNED, start=t0 + timedelta(minutes=20), end=t0 + timedelta(minutes=50)),
        _trial(0.6, start=t0 + timedelta(minutes=50), end=t0 + timedelta(minutes=90)),
        _trial(None, state=TrialState.FAIL, attrs={"not_run": "another worker already holds the study's last trials"}),
        _trial(None, state=TrialState.FAIL),
        _trial(None, state=TrialState.RUNNING),
        _trial(None, state=TrialState.WAITING),
    )
    report = status(study, last=3).to_json()
    assert report["study"] == "results" and report["directions"] == ["maximize"]
    assert report["trials"] == {
        "complete": 2,
        "pruned": 1,
        "running": 1,
        "waiting": 1,
        "failed": 1,
        "skipped": 1,
        "total": 7,
    }
    # 3 finished trials between the first start (10:00) and the last end (11:30): 2.0 an hour.
    assert report["trials_per_hour"] == 2.0
    assert [(t["number"], t["state"]) for t in report["last_trials"]] == [(4, "fail"), (5, "running"), (6, "waiting")]
    assert report["best_kind"] == "raw" and report["best"]["number"] == 2
    assert report["pareto_front"] is None  # one objective


# --------------------------------------------------------------------------- several objectives


def test_the_pareto_front_is_the_non_dominated_complete_trials(sqlite_url: str) -> None:
    """The last assertion reads ``status --json``'s object."""
    values = [[0.6, 80.0], [0.7, 90.0], [0.5, 70.0], [0.6, 85.0], [0.7, 95.0], [0.45, 75.0], [0.6, 80.0]]
    study = _study(
        sqlite_url,
        *(_trial(v) for v in values),
        _trial(None, state=TrialState.FAIL),
        directions=("maximize", "minimize"),
    )

    def dominates(a: list[float], b: list[float]) -> bool:  # maximise the first, minimise the second
        return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])

    front = [i for i, v in enumerate(values) if not any(dominates(w, v) for w in values)]
    assert front == [0, 1, 2, 6]  # 3, 4 and 5 are dominated; 0 and 6 tie and neither dominates
    assert [t.number for t in pareto_front(study)] == front
    # Validation takes the front's best first objective first, ties to the earlier trial.
    assert [t.number for t in trials_to_validate(study, 3)] == [1, 0, 6]
    assert [t["number"] for t in status(study).to_json()["pareto_front"]] == front


# --------------------------------------------------------------------------- exports


def test_export_of_a_validated_winner_is_the_base_with_its_params(sqlite_url: str, tmp_path: Path) -> None:
    gain = _turn(BASE_RESULTS, 40, "L", "W")
    study = _study(sqlite_url, _trial(0.60, space=3.0))
    _validate(study, {0: gain})
    out = tmp_path / "tuned.yaml"
    path, best = export_best(study, out, storage="sqlite:///x.db")
    assert path == out and best.kind == "trial"

    lines = out.read_text().splitlines()
    assert lines[0] == "# optuna-clank: study results on sqlite:///x.db"
    assert lines[1] == f"# holds {best.describe()}"
    assert lines[2].startswith("# exported ")
    expected = flatten(default_config())
    expected.update({"weights.space": 3.0, "late_game.turn_threshold": 150})
    assert flatten(load_config(out)) == expected


def test_when_nothing_beats_the_base_the_specs_base_file_is_exported(sqlite_url: str, tmp_path: Path) -> None:
    base_file = tmp_path / "mine.yaml"
    mine = default_config()
    mine["weights"]["space"] = 7.5
    base_file.write_text(dump_config(mine))
    study = _study(sqlite_url, _trial(0.60, space=3.0), _trial(0.55, space=5.0))
    study.set_user_attr("optuna_clank:spec", {"base_config": str(base_file)})
    _validate(study, {0: BASE_RESULTS, 1: _turn(BASE_RESULTS, 30, "W", "L")})  # equal, and clearly worse

    out = tmp_path / "best.yaml"
    _, best = export_best(study, out)
    assert best.kind == "base" and best.trial is None
    assert (
        out.read_text()
        .splitlines()[1]
        .startswith(
            "# holds the base config: no validated trial beats it (closest: trial 0, +0.0 points [+0.0, +0.0] over the "
            "base on 200 games"
        )
    )
    assert load_config(out) == mine  # the spec's base file itself, no trial's value


def test_checkpoints_are_per_study_and_storage_but_not_per_password(tmp_path: Path) -> None:
    one = checkpoint_path("v2", "postgresql://tuner:first@db.example/studies", root=tmp_path)
    same = checkpoint_path("v2", "postgresql://tuner:second@db.example/studies", root=tmp_path)
    other = checkpoint_path("v2", "postgresql://tuner:first@db2.example/studies", root=tmp_path)
    assert one == same  # the password is masked before hashing: changing it keeps the checkpoint
    assert one != other and one.parent == other.parent == tmp_path / "storage" / "v2"
    assert one.name.startswith("best-") and one.suffix == ".yaml" and len(one.stem) == len("best-") + 8
    assert checkpoint_path("v3", "postgresql://tuner:first@db.example/studies", root=tmp_path).name == one.name
