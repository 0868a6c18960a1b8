"""Crossover: children of two good trials, with both parents recorded and the anti-repeat rule kept."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import optuna
import pytest

from optuna_clank.core.attributes import CROSSOVER_PARENTS_KEY, PROPOSAL_SOURCE_KEY, ProposalSource
from optuna_clank.sampler import ClankSampler
from optuna_clank.sampler._codec import ParamCodec
from optuna_clank.sampler._crossover import breed
from optuna_clank.spec import SpecError, load_spec
from optuna_clank.study.building import make_sampler
from optuna_clank.study.storage import open_storage
from tests._study import write_spec

_SPACE = {
    "x": optuna.distributions.FloatDistribution(0.1, 100.0, log=True),
    "y": optuna.distributions.FloatDistribution(-5.0, 5.0),
    "k": optuna.distributions.IntDistribution(1, 50),
}


def _objective(trial: optuna.Trial) -> float:
    x = trial.suggest_float("x", 0.1, 100.0, log=True)
    y = trial.suggest_float("y", -5.0, 5.0)
    k = trial.suggest_int("k", 1, 50)
    return -((np.log10(x) - 1.0) ** 2) - (y - 1.0) ** 2 - ((k - 20) / 10) ** 2


def test_uniform_child_takes_every_coordinate_from_one_parent() -> None:
    rng = np.random.default_rng(3)
    a, b = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0.9, 0.8, 0.7, 0.6])
    for _ in range(20):
        child = breed(a, b, "uniform", rng)
        assert all(c in (x, y) for c, x, y in zip(child, a, b, strict=True))


def test_blend_child_stays_in_the_widened_interval_and_the_cube() -> None:
    rng = np.random.default_rng(4)
    a, b = np.array([0.0, 0.4, 0.5]), np.array([0.2, 0.6, 1.0])
    children = np.array([breed(a, b, "blend", rng) for _ in range(200)])
    assert children.min() >= 0.0 and children.max() <= 1.0
    # Middle coordinate: [0.4, 0.6] widened by half its length on each side.
    assert children[:, 1].min() >= 0.3 and children[:, 1].max() <= 0.7
    assert children[:, 1].min() < 0.4 or children[:, 1].max() > 0.6  # the widening is used
    with pytest.raises(ValueError, match="crossover kind"):
        breed(a, b, "one-point", rng)


@pytest.mark.parametrize("kind", ["blend", "uniform"])
def test_crossover_trials_record_two_earlier_parents_and_keep_their_distance(storage_url: str, kind: str) -> None:
    min_distance = 0.05
    sampler = ClankSampler(
        search_space=_SPACE,
        use_neural_net=False,
        n_startup_trials=4,
        crossover_share=1.0,
        crossover_kind=kind,
        min_distance=min_distance,
        seed=11,
    )
    storage = open_storage(storage_url, heartbeat=None)
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=storage)
    study.optimize(_objective, n_trials=12)
    trials = study.get_trials(deepcopy=False)
    children = [t for t in trials if t.user_attrs.get(PROPOSAL_SOURCE_KEY) == ProposalSource.CROSSOVER]
    assert len(children) >= 4  # every trial after the startup tries crossover first
    codec = ParamCodec(_SPACE)
    for child in children:
        parents = child.user_attrs[CROSSOVER_PARENTS_KEY]
        assert len(parents) == 2 and parents[0] != parents[1]
        assert all(p < child.number and trials[p].state == optuna.trial.TrialState.COMPLETE for p in parents)
        assert child.user_attrs["base_trial"] == parents[0]
        if kind == "uniform" and child.user_attrs["rejected_proposals"] == 0:
            own, pa, pb = (codec.encode(t.params) for t in (child, trials[parents[0]], trials[parents[1]]))
            assert all(np.isclose(c, x) or np.isclose(c, y) for c, x, y in zip(own, pa, pb, strict=True))
    points = [codec.encode(t.params) for t in trials]
    for p, q in itertools.combinations(points, 2):
        assert np.linalg.norm(p - q) / np.sqrt(len(p)) >= min_distance


def test_no_crossover_trial_when_the_share_is_zero(sqlite_url: str) -> None:
    sampler = ClankSampler(search_space=_SPACE, use_neural_net=False, n_startup_trials=4, seed=5)
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=open_storage(sqlite_url, heartbeat=None))
    study.optimize(_objective, n_trials=10)
    assert not any(t.user_attrs.get(PROPOSAL_SOURCE_KEY) == ProposalSource.CROSSOVER for t in study.trials)
    assert not any(CROSSOVER_PARENTS_KEY in t.user_attrs for t in study.trials)


def test_bad_crossover_options_are_refused() -> None:
    with pytest.raises(ValueError, match="crossover_share"):
        ClankSampler(crossover_share=1.5)
    with pytest.raises(ValueError, match="crossover_kind"):
        ClankSampler(crossover_kind="sbx")


def test_spec_sampler_keys_reach_the_sampler_and_bad_ones_are_refused(tmp_path: Path) -> None:
    path = write_spec(tmp_path, "x")
    keys = 'n_startup_trials = 3\ncrossover_share = 0.25\ncrossover_kind = "uniform"'
    text = path.read_text().replace("n_startup_trials = 3", keys)
    path.write_text(text)
    sampler = make_sampler(load_spec(path))
    assert isinstance(sampler, ClankSampler)
    assert (sampler._crossover_share, sampler._crossover_kind) == (0.25, "uniform")
    assert load_spec(write_spec(tmp_path, "y")).sampler.crossover_share == 0.0  # off by default
    path.write_text(text.replace('"uniform"', '"sbx"'))
    with pytest.raises(SpecError, match="crossover_kind"):
        load_spec(path)
