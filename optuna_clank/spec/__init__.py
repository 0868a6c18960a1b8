"""Study specs: ``studies/<name>.toml`` read into a validated, frozen :class:`StudySpec`.

The layer above :mod:`optuna_clank.arena`: it names what a study plays, never plays it.
"""

from __future__ import annotations

from optuna_clank.spec.study_spec import (
    OVERRIDES,
    BenchmarkSpec,
    CheckpointSpec,
    ParallelSpec,
    ParamSpec,
    PrunerSpec,
    SamplerSpec,
    SpecError,
    StorageSpec,
    StudySection,
    StudySpec,
    ValidationSpec,
    find_spec,
    load_spec,
    shipped_spec_names,
    shipped_spec_path,
)

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
