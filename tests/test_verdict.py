"""The paired verdict of validation: is a validated trial better than the base config?

Records are built from per-game results here and stored on real SQLite and PostgreSQL studies;
the verdict, status and export read them back through the same code the CLI uses.
"""

from __future__ import annotations

import random
from pathlib import Path

import optuna
import pytest
from _records import GAME_SCORE, validation_record
from _study import load, run_cli, write_spec

from optuna_clank.arena.config import default_config, flatten, load_config
from optuna_clank.core.attributes import VALIDATED_BASE_KEY, VALIDATION_PREFIX
from optuna_clank.core.stats import paired_bootstrap
from optuna_clank.study.export import export_best
from optuna_clank.study.results import best_trial, status
from optuna_clank.study.verdict import judge

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _results(rate: float, games: int, seed: int) -> str:
    """Per-game letters with about ``rate`` wins (the rest losses), reproducible."""
    rng = random.Random(seed)
    return "".join("W" if rng.random() < rate else "L" for _ in range(games))


def _flip(results: str, share: float, seed: int, to: str) -> str:
    """``results`` with about ``share`` of its games changed to ``to`` (a paired, real effect)."""
    rng = random.Random(seed)
    return "".join(to if rng.random() < share else c for c in results)


# --------------------------------------------------------------------------- the test itself


def test_identical_play_is_never_better() -> None:
    scores = [GAME_SCORE[c] for c in _results(0.6, 500, 1)]
    difference = paired_bootstrap(scores, scores)
    assert (difference.mean, difference.low, difference.high, difference.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert not difference.better


def test_a_real_paired_gain_is_found_and_its_interval_holds_the_mean() -> None:
    base = _results(0.55, 1000, 2)
    better = _flip(base, 0.12, 3, "W")
    difference = paired_bootstrap([GAME_SCORE[c] for c in better], [GAME_SCORE[c] for c in base], seed=5)
    observed = (better.count("W") - base.count("W")) / 1000
    assert difference.mean == pytest.approx(observed)
    assert 0 < difference.low < difference.mean < difference.high
    assert difference.better and difference.p_value < 0.001
    assert difference.describe().endswith("on 1,000 games")


def test_unequal_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        paired_bootstrap([1.0, 0.0], [1.0])


def test_bonferroni_widens_the_interval_with_more_trials_compared() -> None:
    base = validation_record(_results(0.5, 400, 4))
    trial = validation_record(_flip(base["results"], 0.06, 5, "W"))
    alone = judge(base, {1: trial})
    crowd = judge(base, {1: trial, 2: base, 3: base, 4: base, 5: base})
    assert alone is not None and crowd is not None
    one = alone.comparisons[0]
    among = next(c for c in crowd.comparisons if c.trial == 1)
    assert one.difference.confidence == pytest.approx(0.95) and among.difference.confidence == pytest.approx(0.99)
    assert among.difference.low < one.difference.low and among.difference.high > one.difference.high
    assert among.compared == 5 and among.p_adjusted == pytest.approx(min(1.0, 5 * among.difference.p_value))


def test_records_of_other_games_are_never_compared() -> None:
    base = validation_record(_results(0.587, 1000, 6))
    lucky_short = validation_record("W" * 10)  # 100% over 10 games: other games, other count
    other_seed = validation_record(_flip(base["results"], 0.3, 7, "W"), seed=98)
    verdict = judge(base, {3: lucky_short, 4: other_seed})
    assert verdict is None
    old_style = dict(base)
    del old_style["results"]  # a record without per-game results cannot be paired
    assert judge(old_style, {1: base}) is None


# --------------------------------------------------------------------------- on a stored study


def _study_with(storage_url: str, tmp_path: Path, records: dict[int, dict], base: dict) -> optuna.Study:
    study = optuna.create_study(study_name="verdict", storage=storage_url, direction="maximize")
    for number in range(max(records) + 1):
        study.add_trial(
            optuna.trial.create_trial(
                params={"weights.space": 1.0 + number},
                distributions={"weights.space": optuna.distributions.FloatDistribution(0.1, 1000.0, log=True)},
                value=0.9 - 0.01 * number,
            )
        )
    for number, record in records.items():
        study.set_user_attr(f"{VALIDATION_PREFIX}{number}", record)
    study.set_user_attr(VALIDATED_BASE_KEY, base)
    return study


def test_a_worse_trial_is_never_exported_over_the_base(tmp_path: Path, storage_url: str) -> None:
    base = validation_record(_results(0.587, 1000, 8))
    worse = validation_record(_flip(base["results"], 0.3, 9, "L"))  # about 40%
    aa = validation_record(_flip(base["results"], 0.04, 10, "W"))  # a hair above the base by luck of a few games
    aa = validation_record(_flip(aa["results"], 0.04, 11, "L"))
    study = _study_with(storage_url, tmp_path, {0: worse, 1: aa}, base)
    best = best_trial(study)
    assert best is not None and best.kind == "base" and best.trial is None
    report = status(study).to_json()  # as `status --json` prints it
    assert report["best_kind"] == "base" and report["best"]["config"] == "base"
    paired = report["best"]["paired"]
    assert paired["better"] is False and paired["compared"] == 2 and paired["games"] == 1000
    assert paired["trial"] == 1  # the closest challenger, shown with its (non-)difference
    assert "results" not in report["validated_base"]
    out = tmp_path / "best.yaml"
    export_best(study, out)
    text = out.read_text()
    assert "the base config: no validated trial beats it" in text.splitlines()[1]
    config = flatten(load_config(out))
    assert config["weights.space"] not in (1.0, 2.0)  # the base's value, not a trial's


def test_a_better_trial_is_crowned_with_its_paired_difference(tmp_path: Path, storage_url: str) -> None:
    base = validation_record(_results(0.55, 1000, 12))
    better = validation_record(_flip(base["results"], 0.15, 13, "W"))
    noise = validation_record(_flip(base["results"], 0.02, 14, "W"))
    study = _study_with(storage_url, tmp_path, {2: better, 5: noise}, base)
    best = best_trial(study)
    assert best is not None and best.kind == "trial" and best.trial is not None and best.trial.number == 2
    assert "over the base on 1,000 games" in best.describe()
    report = status(study).to_json()  # as `status --json` prints it
    assert report["best_kind"] == "trial" and report["best"]["number"] == 2
    assert report["best"]["paired"]["better"] and report["best"]["paired"]["interval"][0] > 0
    out = tmp_path / "best.yaml"
    export_best(study, out)
    assert flatten(load_config(out))["weights.space"] == pytest.approx(3.0)


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow  # an end-to-end run (4 CLI runs per backend): nox -s e2e
def test_a_study_of_the_base_trial_alone_has_nothing_to_validate_and_exports_the_base(
    tmp_path: Path, storage_url: str
) -> None:
    """Its one trial plays the base config's own values: it is the base, so validate compares nothing."""
    spec = write_spec(tmp_path, "alone", n_trials=1)
    ran = run_cli(["optimize", "--spec", str(spec), "--storage", storage_url, "--quiet"], cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    for extra in ([], ["--no-base"]):
        refused = run_cli(
            ["validate", "--spec", str(spec), "--storage", storage_url, "--top", "1", "--games", "12", *extra],
            cwd=tmp_path,
        )
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1
        assert "has no completed trial to validate but the base config's (trial 0)" in refused.stderr
    study = load("alone", storage_url)
    assert not [key for key in study.user_attrs if key.startswith(VALIDATION_PREFIX) or key == VALIDATED_BASE_KEY]
    shown = run_cli(["status", "--spec", str(spec), "--storage", storage_url], cwd=tmp_path)
    assert "best        trial 0 (the base config): value" in shown.stdout
    out = tmp_path / "exported.yaml"
    exported = run_cli(["export", "--spec", str(spec), "--storage", storage_url, "-o", str(out)], cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert "trial 0 (the base config)" in out.read_text().splitlines()[1]
    assert load_config(out) == default_config()  # the base config's own values, written back


def test_refused_records_are_never_compared_and_a_refused_base_judges_nothing() -> None:
    base = validation_record(_results(0.5, 400, 11))
    strong = validation_record(_flip(base["results"], 0.4, 12, "W"))
    refused = dict(strong, faults={"timeouts": 27, "errors": 0, "invalid": 0, "disconnects": 0})
    refused["refused"] = "the tuned snake's server failed 27 of its 30,000 answers (27 timeouts)"
    verdict = judge(base, {1: strong, 2: refused})
    assert verdict is not None and [c.trial for c in verdict.comparisons] == [1]
    assert (verdict.refused, verdict.ignored, verdict.comparisons[0].compared) == (1, 0, 1)  # K counts measurements
    assert judge(base, {2: refused}) is None  # only a refused record: no verdict
    refused_base = dict(base, refused="opponent 'bot' failed 3 answers (3 invalid answers)")
    assert judge(refused_base, {1: strong}) is None
