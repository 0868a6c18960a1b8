"""Study specs: ``studies/<name>.toml`` read into a validated, frozen :class:`StudySpec`.

The layer above :mod:`optuna_clank.arena`: it names what a study plays, never plays it. Inside it,
each module imports only the ones before it: ``model`` (the sections' dataclasses) <- ``search_space``,
``snake_table`` <- ``readers`` (one section each) <- ``overrides`` <- ``assembly`` (:class:`StudySpec`)
<- ``files`` (:func:`find_spec`, :func:`load_spec`).
"""

from __future__ import annotations

from optuna_clank.spec.assembly import StudySpec
from optuna_clank.spec.files import find_spec, load_spec, shipped_spec_names, shipped_spec_path
from optuna_clank.spec.model import (
    BenchmarkSpec,
    CheckpointSpec,
    ParallelSpec,
    ParamSpec,
    PrunerSpec,
    SamplerSpec,
    SpecError,
    StorageSpec,
    StudySection,
    ValidationSpec,
)
from optuna_clank.spec.overrides import OVERRIDES

__all__ = [
    "OVERRIDES",
    "BenchmarkSpec",
    "CheckpointSpec",
    "ParallelSpec",
    "ParamSpec",
    "PrunerSpec",
    "SamplerSpec",
    "SpecError",
    "StorageSpec",
    "StudySection",
    "StudySpec",
    "ValidationSpec",
    "find_spec",
    "load_spec",
    "shipped_spec_names",
    "shipped_spec_path",
]
