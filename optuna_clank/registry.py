"""The samplers, pruners and pool backends a study can name, each in one place.

Spec validation (``[sampler] name``, ``[pruner] name``, ``[parallel] backend``) and the
command line's ``--sampler``, ``--pruner`` and ``--backend`` choices and help read these
tables, so a new entry is added once. Importing this module stays light: a factory imports
optuna (and its optional package, through :mod:`optuna_clank._extras`) only when called.

Example::

    sampler = SAMPLERS[spec.sampler.name].build(spec)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna_clank._extras import require

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec

__all__ = ["BACKENDS", "PRUNERS", "SAMPLERS", "Entry", "choices_help"]


@dataclass(frozen=True)
class Entry:
    """One name a spec may use: a few words of help and what builds it (``None``: nothing to build)."""

    help: str
    build: Callable[[StudySpec], Any] | None = None
    extra: str | None = None
    """The optional extra it needs (see :data:`optuna_clank._extras.EXTRAS`), if any."""
    needed_by: str = ""
    """How an error names it when its extra is missing: ``the cmaes sampler``."""

    def check_installed(self) -> None:
        """Raise :class:`~optuna_clank._extras.MissingExtraError` when its optional package is missing."""
        if self.extra is not None:
            require(self.extra, self.needed_by)


# --------------------------------------------------------------------------- samplers


def _clank_sampler(spec: StudySpec) -> Any:
    from optuna_clank.objective import death_cause_summary
    from optuna_clank.runner import base_params, task_description
    from optuna_clank.sampler import ClankSampler

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
        base_params=base_params(spec),
        seed=options.seed,
    )


def _tpe_sampler(spec: StudySpec) -> Any:
    import optuna

    options = spec.sampler
    return optuna.samplers.TPESampler(
        n_startup_trials=options.n_startup_trials, multivariate=True, constant_liar=True, seed=options.seed
    )


def _random_sampler(spec: StudySpec) -> Any:
    import optuna

    return optuna.samplers.RandomSampler(seed=spec.sampler.seed)


def _cmaes_sampler(spec: StudySpec) -> Any:
    SAMPLERS["cmaes"].check_installed()  # optuna imports cmaes only at the first trial, with a traceback
    import optuna

    return optuna.samplers.CmaEsSampler(n_startup_trials=spec.sampler.n_startup_trials, seed=spec.sampler.seed)


def _gp_sampler(spec: StudySpec) -> Any:
    import optuna

    return optuna.samplers.GPSampler(n_startup_trials=spec.sampler.n_startup_trials, seed=spec.sampler.seed)


SAMPLERS: Mapping[str, Entry] = {
    "clank": Entry("LLM + autoencoder proposals around the best trials", _clank_sampler),
    "tpe": Entry("Optuna's multivariate TPE", _tpe_sampler),
    "random": Entry("uniform random search", _random_sampler),
    "cmaes": Entry("CMA-ES, one objective only", _cmaes_sampler, extra="cmaes", needed_by="the cmaes sampler"),
    "gp": Entry("Gaussian-process Bayesian optimisation", _gp_sampler),
}
"""``[sampler] name`` -> entry; ``build(spec)`` returns the Optuna sampler."""


# --------------------------------------------------------------------------- pruners


def _wilcoxon_pruner(spec: StudySpec) -> Any:
    import optuna

    options = spec.pruner
    return optuna.pruners.WilcoxonPruner(p_threshold=options.p_threshold, n_startup_steps=options.n_startup_steps)


def _median_pruner(spec: StudySpec) -> Any:
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=spec.pruner.n_startup_trials)


def _no_pruner(spec: StudySpec) -> Any:
    del spec
    import optuna

    return optuna.pruners.NopPruner()


PRUNERS: Mapping[str, Entry] = {
    "wilcoxon": Entry("paired Wilcoxon test against the best trial's games", _wilcoxon_pruner),
    "median": Entry("below the median of earlier trials at the same step", _median_pruner),
    "none": Entry("every trial plays all its games", _no_pruner),
}
"""``[pruner] name`` -> entry; ``build(spec)`` returns the Optuna pruner (single-objective studies)."""


# --------------------------------------------------------------------------- pool backends

BACKENDS: Mapping[str, Entry] = {
    "loky": Entry("joblib's process pool on this machine"),
    "threading": Entry("joblib's threads on this machine"),
    "dask": Entry("a Dask cluster, see --dask-scheduler", extra="dask", needed_by="the dask backend"),
}
"""``[parallel] backend`` -> entry: joblib's backend for the pool's slot supervisors."""


def choices_help(what: str, table: Mapping[str, Any]) -> str:
    """Argparse help naming every choice with its help: ``sampler: clank (...), tpe (...)``."""
    return f"{what}: " + "; ".join(f"{name} ({entry.help})" for name, entry in table.items())
