"""The Optuna sampler and pruner a spec names, built: one factory per name of :mod:`optuna_clank.spec.names`.

Example::

    sampler = make_sampler(spec)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import optuna

from optuna_clank.core.errors import UserError
from optuna_clank.spec.names import SAMPLERS
from optuna_clank.spec.task import task_description
from optuna_clank.trial.base_trial import base_trial_params
from optuna_clank.trial.metrics import death_cause_summary

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec

_LOG = logging.getLogger("optuna_clank")


def _clank_sampler(spec: StudySpec) -> Any:

    from optuna_clank.sampler import ClankSampler  # noqa: PLC0415 - deferred: loads torch

    options = spec.sampler

    return ClankSampler(
        search_space=spec.distributions(),
        llm_models=options.llm_models if options.use_llm else (),
        llm_api_base=options.llm_api_base or None,
        llm_timeout=options.llm_timeout,
        use_neural_net=options.use_neural_net,
        n_startup_trials=options.n_startup_trials,
        fallback_share=options.fallback_share,
        min_distance=options.min_distance,
        crossover_share=options.crossover_share,
        crossover_kind=options.crossover_kind,
        task=task_description(spec),
        context=death_cause_summary,
        base_params=base_trial_params(spec),
        seed=options.seed,
    )


def _tpe_sampler(spec: StudySpec) -> Any:

    options = spec.sampler
    return optuna.samplers.TPESampler(
        n_startup_trials=options.n_startup_trials, multivariate=True, constant_liar=True, seed=options.seed
    )


def _random_sampler(spec: StudySpec) -> Any:

    return optuna.samplers.RandomSampler(seed=spec.sampler.seed)


def _cmaes_sampler(spec: StudySpec) -> Any:
    SAMPLERS["cmaes"].check_installed()  # optuna imports cmaes only at the first trial, with a traceback

    return optuna.samplers.CmaEsSampler(n_startup_trials=spec.sampler.n_startup_trials, seed=spec.sampler.seed)


def _gp_sampler(spec: StudySpec) -> Any:

    return optuna.samplers.GPSampler(n_startup_trials=spec.sampler.n_startup_trials, seed=spec.sampler.seed)


def _wilcoxon_pruner(spec: StudySpec) -> Any:

    options = spec.pruner
    return optuna.pruners.WilcoxonPruner(p_threshold=options.p_threshold, n_startup_steps=options.n_startup_steps)


def _median_pruner(spec: StudySpec) -> Any:

    return optuna.pruners.MedianPruner(n_startup_trials=spec.pruner.n_startup_trials)


def _no_pruner(spec: StudySpec) -> Any:
    del spec

    return optuna.pruners.NopPruner()


SAMPLER_FACTORIES: Mapping[str, Callable[[StudySpec], Any]] = {
    "clank": _clank_sampler,
    "tpe": _tpe_sampler,
    "random": _random_sampler,
    "cmaes": _cmaes_sampler,
    "gp": _gp_sampler,
}
"""A factory for each name of :data:`~optuna_clank.spec.names.SAMPLERS`."""

PRUNER_FACTORIES: Mapping[str, Callable[[StudySpec], Any]] = {
    "wilcoxon": _wilcoxon_pruner,
    "median": _median_pruner,
    "none": _no_pruner,
}
"""A factory for each name of :data:`~optuna_clank.spec.names.PRUNERS`."""


def make_sampler(spec: StudySpec) -> optuna.samplers.BaseSampler:
    """The sampler a spec asks for, over the spec's search space (see :data:`optuna_clank.spec.names.SAMPLERS`)."""
    factory = SAMPLER_FACTORIES.get(spec.sampler.name)
    if factory is None:
        raise UserError(f"unknown sampler {spec.sampler.name!r}")
    return factory(spec)


MULTI_OBJECTIVE_PRUNING = (
    "pruning is off: a multi-objective study cannot prune (Optuna's trial.report and should_prune "
    "support single-objective studies only); every trial plays all its games"
)


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    """The pruner a spec asks for (none for multi-objective studies, which Optuna cannot prune)."""
    options = spec.pruner
    if len(spec.study.directions) > 1:
        _LOG.info(MULTI_OBJECTIVE_PRUNING)
        return optuna.pruners.NopPruner()
    factory = PRUNER_FACTORIES.get(options.name)
    if factory is None:
        raise UserError(f"unknown pruner {options.name!r}")
    return factory(spec)
