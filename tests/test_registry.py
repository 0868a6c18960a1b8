"""The registry of samplers, pruners and pool backends: one table for the spec, the CLI and the run."""

from __future__ import annotations

import argparse
from pathlib import Path

import optuna
import pytest

from optuna_clank.cli.main import build_parser
from optuna_clank.spec import SpecError, load_spec
from optuna_clank.spec.names import BACKENDS, PRUNERS, SAMPLERS
from optuna_clank.study.building import PRUNER_FACTORIES, SAMPLER_FACTORIES, make_pruner, make_sampler

REPO_STUDIES = Path(__file__).resolve().parent.parent / "studies"


def _optimize_options() -> dict[str, argparse.Action]:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {option: action for action in commands.choices["optimize"]._actions for option in action.option_strings}


@pytest.mark.parametrize(("option", "table"), [("--sampler", SAMPLERS), ("--pruner", PRUNERS), ("--backend", BACKENDS)])
def test_cli_choices_and_help_come_from_the_registry(option: str, table: dict[str, object]) -> None:
    action = _optimize_options()[option]
    assert list(action.choices) == list(table)
    assert all(f"{name} ({entry.help})" in action.help for name, entry in table.items())


@pytest.mark.parametrize(
    ("section", "key", "table"),
    [("sampler", "name", SAMPLERS), ("pruner", "name", PRUNERS), ("parallel", "backend", BACKENDS)],
)
def test_spec_accepts_exactly_the_registry_names(section: str, key: str, table: dict[str, object]) -> None:
    spec = load_spec(REPO_STUDIES / "v2.toml")
    option = {"sampler": "sampler_name", "pruner": "pruner_name", "parallel": "backend"}[section]
    for name in table:
        assert getattr(getattr(spec.with_overrides(**{option: name}), section), key) == name
    with pytest.raises(SpecError) as error:
        spec.with_overrides(**{option: "no-such"})
    assert f"(choose one of {', '.join(table)})" in str(error.value)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("tpe", optuna.samplers.TPESampler),
        ("random", optuna.samplers.RandomSampler),
        ("cmaes", optuna.samplers.CmaEsSampler),
        ("gp", optuna.samplers.GPSampler),
    ],
)
def test_each_sampler_factory_builds_its_sampler(name: str, kind: type) -> None:
    spec = load_spec(REPO_STUDIES / "v2.toml").with_overrides(sampler_name=name, sampler_seed=3)
    assert type(make_sampler(spec)) is kind


def test_the_clank_factory_builds_the_clank_sampler_over_the_search_space() -> None:
    from optuna_clank.sampler import ClankSampler

    spec = load_spec(REPO_STUDIES / "v2.toml").with_overrides(use_llm=False)
    sampler = make_sampler(spec)
    assert isinstance(sampler, ClankSampler)
    study = optuna.create_study(sampler=sampler, directions=list(spec.study.directions))
    trial = study.ask(spec.distributions())
    assert set(trial.params) == {param.name for param in spec.search_space}


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("wilcoxon", optuna.pruners.WilcoxonPruner),
        ("median", optuna.pruners.MedianPruner),
        ("none", optuna.pruners.NopPruner),
    ],
)
def test_each_pruner_factory_builds_its_pruner(name: str, kind: type) -> None:
    spec = load_spec(REPO_STUDIES / "v2.toml").with_overrides(pruner_name=name)
    assert type(make_pruner(spec)) is kind


def test_optimize_options_override_the_spec_keys_of_the_same_name() -> None:
    """`overrides_of` reads the option names from spec.OVERRIDES: each option given lands on its spec key."""
    from optuna_clank.cli.study_args import overrides_of
    from optuna_clank.spec import OVERRIDES

    argv = ["optimize", "--study", "v2", "--n-trials", "7", "--games", "12", "--sampler", "tpe", "--pruner", "none"]
    args = build_parser().parse_args([*argv, "--llm-model", "openai/gpt-x", "--checkpoint-interval", "3"])
    overrides = overrides_of(args)
    assert overrides == {
        "n_trials": 7,
        "games_per_trial": 12,
        "sampler_name": "tpe",
        "pruner_name": "none",
        "llm_models": ["openai/gpt-x"],
        "use_llm": True,
        "checkpoint_interval": 3,
    }
    spec = load_spec(REPO_STUDIES / "v2.toml").with_overrides(**overrides)
    assert (spec.study.n_trials, spec.benchmark.games_per_trial, spec.sampler.name, spec.pruner.name) == (
        7,
        12,
        "tpe",
        "none",
    )
    assert set(overrides) <= set(OVERRIDES)


def test_every_name_has_exactly_one_factory() -> None:
    assert list(SAMPLER_FACTORIES) == list(SAMPLERS)
    assert list(PRUNER_FACTORIES) == list(PRUNERS)
