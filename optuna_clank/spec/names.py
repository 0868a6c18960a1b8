"""The samplers, pruners and pool backends a study can name, each in one place.

Spec validation (``[sampler] name``, ``[pruner] name``, ``[parallel] backend``) and the
command line's ``--sampler``, ``--pruner`` and ``--backend`` choices and help read these
tables, so a new entry is added once. Importing this module stays light: a factory imports
optuna (and its optional package, through :mod:`optuna_clank.core.extras`) only when called.

Example::

    sampler = SAMPLERS[spec.sampler.name].build(spec)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optuna_clank.core.extras import require

__all__ = ["BACKENDS", "PRUNERS", "SAMPLERS", "Entry", "choices_help"]


@dataclass(frozen=True)
class Entry:
    """One name a spec may use: a few words of help, and the optional extra it needs."""

    help: str
    extra: str | None = None
    """The optional extra it needs (see :data:`optuna_clank.core.extras.EXTRAS`), if any."""
    needed_by: str = ""
    """How an error names it when its extra is missing: ``the cmaes sampler``."""

    def check_installed(self) -> None:
        """Raise :class:`~optuna_clank.core.extras.MissingExtraError` when its optional package is missing."""
        if self.extra is not None:
            require(self.extra, self.needed_by)


SAMPLERS: Mapping[str, Entry] = {
    "clank": Entry("LLM + autoencoder proposals around the best trials"),
    "tpe": Entry("Optuna's multivariate TPE"),
    "random": Entry("uniform random search"),
    "cmaes": Entry("CMA-ES, one objective only", extra="cmaes", needed_by="the cmaes sampler"),
    "gp": Entry("Gaussian-process Bayesian optimisation"),
}
"""``[sampler] name`` -> entry (:func:`optuna_clank.study.building.make_sampler` builds it)."""


PRUNERS: Mapping[str, Entry] = {
    "wilcoxon": Entry("paired Wilcoxon test against the best trial's games"),
    "median": Entry("below the median of earlier trials at the same step"),
    "none": Entry("every trial plays all its games"),
}
"""``[pruner] name`` -> entry (:func:`optuna_clank.study.building.make_pruner` builds it)."""


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
