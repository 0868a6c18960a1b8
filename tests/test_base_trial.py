"""The base is the base: the base trial plays the user's values exactly, and export writes them back.

A new user's gbc study exported ``weights.space: 999.9999999999998`` where the YAML says 1000.0, and
``healthy_ceiling: 101`` where it says 359 (clipped into the search range). These tests run real
studies (in-process, SQLite) on such a YAML and compare values exactly, not approximately.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from optuna.distributions import FloatDistribution, IntDistribution

from optuna_clank.arena.served.bot_spec import dotted_value, gbc_base_config
from optuna_clank.cli.bot_init import study_spec_text, template_spec
from optuna_clank.run.runner import run_study
from optuna_clank.sampler import ClankSampler
from optuna_clank.sampler._codec import ParamCodec
from optuna_clank.spec import load_spec
from optuna_clank.study.export import export_server_config

optuna.logging.set_verbosity(optuna.logging.WARNING)

BOT_YAML = """\
weights:
  space: 1000.0
  head_collision: 500.0
  center_control: 303.3
  wall_penalty: 300.0
  cutoff: 200.0
  straight_movement: 50.0
food_weights:
  critical_health: 499.1
  low_health: 100.0
  medium_health: 80.0
  healthy_base: 40.0
  healthy_early_game: 60.0
  healthy_ceiling: 359
  healthy_ceiling_weight: 10.0
search:
  max_depth: 200
"""
"""Values whose unit-cube round trip is not exact (1000.0, 499.1, 303.3) and one outside its range (359)."""


def _gbc_study(tmp_path: Path, *, n_trials: int) -> tuple[Any, Path, list[str]]:
    """The shipped go-battleclank study (as ``init`` writes it) on ``BOT_YAML``, run in-process."""
    config = tmp_path / "config.yaml"
    config.write_text(BOT_YAML)
    text = study_spec_text(
        template_spec().read_text(), name="base-gbc", config=config, bot=tmp_path / "bot", stamp="now"
    )
    (tmp_path / "studies").mkdir()
    path = tmp_path / "studies" / "base-gbc.toml"
    path.write_text(text)
    said: list[str] = []
    run = run_study(
        load_spec(path),
        n_trials=n_trials,
        n_jobs=1,
        storage_url=f"sqlite:///{tmp_path / 'base.db'}",
        overrides={"games_per_trial": 2, "checkpoint_interval": 0, "board_size": [7, 7], "max_turns": 100},
        say=said.append,
    )
    return run, config, said


def test_the_base_trial_plays_the_yamls_values_exactly_an_out_of_range_one_too(tmp_path: Path) -> None:
    run, config, said = _gbc_study(tmp_path, n_trials=3)
    base = gbc_base_config(config)
    trials = run.study.get_trials()
    first = trials[0]
    assert first.user_attrs["proposal_source"] == "base"
    notes = "\n".join(said)
    for name, value in first.params.items():
        own = dotted_value(base, name)  # 0 where the YAML lacks the key, as the bot reads it
        if own == 0 and run.spec.distributions()[name].log:  # no log range holds 0: clipped, and said so
            assert f"base config: {name} = 0 cannot be played in [" in notes
            assert value == run.spec.distributions()[name].low, name
            continue
        assert value == own, name  # exactly: no 999.9999999999998
    assert first.params["weights.space"] == 1000.0
    assert first.params["food_weights.critical_health"] == 499.1
    assert first.params["weights.center_control"] == 303.3
    assert first.params["food_weights.healthy_ceiling"] == 359  # outside [30, 101]: not clipped
    assert first.distributions["food_weights.healthy_ceiling"] == IntDistribution(30, 359)  # its range, widened
    assert first.distributions["weights.space"] == FloatDistribution(1.0, 5000.0, log=True)  # in range: the spec's
    for trial in trials[1:]:  # every other trial stays in the spec's range
        assert trial.distributions["food_weights.healthy_ceiling"] == IntDistribution(30, 101)
        assert 30 <= trial.params["food_weights.healthy_ceiling"] <= 101
    assert any("food_weights.healthy_ceiling = 359 lies outside the search range [30, 101]" in line for line in said)
    assert not any("weights.space" in line for line in said if line.startswith("base config:"))


def test_export_of_the_base_trial_writes_the_yamls_values(tmp_path: Path) -> None:
    run, _, _ = _gbc_study(tmp_path, n_trials=1)  # the base trial is the only, so the best, trial
    out = tmp_path / "tuned.yaml"
    _, best = export_server_config(run.spec, run.study, out)
    assert best.trial is not None and best.trial.number == 0
    written = yaml.safe_load(out.read_text())
    given = yaml.safe_load(BOT_YAML)
    for section, values in given.items():
        for key, value in values.items():
            assert written[section][key] == value, f"{section}.{key}"
    assert "999.99" not in out.read_text() and "499.09" not in out.read_text()


def test_clank_proposes_the_base_exactly_where_a_round_trip_would_not() -> None:
    space = {"w": FloatDistribution(1.0, 5000.0, log=True), "k": IntDistribution(1, 9)}
    base = {"w": 1000.0, "k": 4}
    codec = ParamCodec(space)
    assert codec.decode(codec.encode(base))["w"] != 1000.0  # what the base trial used to play
    study = optuna.create_study(sampler=ClankSampler(search_space=space, base_params=base, seed=1))
    study.optimize(lambda t: t.suggest_float("w", 1.0, 5000.0, log=True) + t.suggest_int("k", 1, 9), n_trials=2)
    assert study.trials[0].params == {"w": 1000.0, "k": 4}


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_an_enqueued_base_trial_is_widened_too(tmp_path: Path, sampler: str) -> None:
    (tmp_path / "base.yaml").write_text("weights:\n  space: 50\n")
    (tmp_path / "w.toml").write_text(
        f"""
[study]
name = "w"
n_trials = 3
[benchmark]
games_per_trial = 2
round_size = 2
board_size = 7
max_turns = 100
base_config = "base.yaml"
[sampler]
name = "{sampler}"
n_startup_trials = 2
[checkpoint]
interval = 0
[search_space]
"weights.space" = {{ low = 1.0, high = 10.0 }}
"""
    )
    said: list[str] = []
    run = run_study(
        load_spec(tmp_path / "w.toml"), n_jobs=1, storage_url=f"sqlite:///{tmp_path / 'w.db'}", say=said.append
    )
    first, *rest = run.study.get_trials()
    assert first.params == {"weights.space": 50.0}
    assert first.distributions["weights.space"] == FloatDistribution(1.0, 50.0, log=True)
    assert all(1.0 <= t.params["weights.space"] <= 10.0 for t in rest)
    assert "base config: weights.space = 50 lies outside the search range [1, 10]" in "\n".join(said)
