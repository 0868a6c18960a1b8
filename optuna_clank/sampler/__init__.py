"""ClankSampler: autoencoder winning patterns + LLM deltas + anti-repeat memory.

The public names load on first use (PEP 562): importing this package costs nothing, the
sampler loads optuna and torch, and litellm is imported only when a sampler actually asks an LLM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna_clank.sampler._crossover import CROSSOVER_PARENTS_KEY
    from optuna_clank.sampler._llm import llm_environment_problems
    from optuna_clank.sampler._memory import (
        BASE_TRIAL_KEY,
        CHANGED_PARAMS_KEY,
        LLM_MODELS_KEY,
        LLM_RATIONALE_KEY,
        NN_PATTERNS_KEY,
        PROPOSAL_SOURCE_KEY,
        PROVENANCE_KEYS,
        REJECTED_PROPOSALS_KEY,
    )
    from optuna_clank.sampler._sampler import (
        SOURCE_BASE,
        SOURCE_CROSSOVER,
        SOURCE_LLM,
        SOURCE_LOCAL,
        SOURCE_PATTERNS,
        SOURCE_PATTERNS_LLM,
        SOURCE_TPE,
        SOURCE_WARM_START,
        ClankSampler,
    )
    from optuna_clank.sampler._warm import WARM_START_KEY, WARM_START_TRIAL_KEY

# public name -> the module that defines it
_HOMES = {
    "CROSSOVER_PARENTS_KEY": "optuna_clank.sampler._crossover",
    "BASE_TRIAL_KEY": "optuna_clank.sampler._memory",
    "CHANGED_PARAMS_KEY": "optuna_clank.sampler._memory",
    "LLM_MODELS_KEY": "optuna_clank.sampler._memory",
    "LLM_RATIONALE_KEY": "optuna_clank.sampler._memory",
    "NN_PATTERNS_KEY": "optuna_clank.sampler._memory",
    "PROPOSAL_SOURCE_KEY": "optuna_clank.sampler._memory",
    "PROVENANCE_KEYS": "optuna_clank.sampler._memory",
    "REJECTED_PROPOSALS_KEY": "optuna_clank.sampler._memory",
    "SOURCE_BASE": "optuna_clank.sampler._sampler",
    "SOURCE_LLM": "optuna_clank.sampler._sampler",
    "SOURCE_LOCAL": "optuna_clank.sampler._sampler",
    "SOURCE_PATTERNS": "optuna_clank.sampler._sampler",
    "SOURCE_PATTERNS_LLM": "optuna_clank.sampler._sampler",
    "SOURCE_TPE": "optuna_clank.sampler._sampler",
    "SOURCE_CROSSOVER": "optuna_clank.sampler._sampler",
    "SOURCE_WARM_START": "optuna_clank.sampler._sampler",
    "WARM_START_KEY": "optuna_clank.sampler._warm",
    "WARM_START_TRIAL_KEY": "optuna_clank.sampler._warm",
    "ClankSampler": "optuna_clank.sampler._sampler",
    "llm_environment_problems": "optuna_clank.sampler._llm",
}

__all__ = [
    "BASE_TRIAL_KEY",
    "CHANGED_PARAMS_KEY",
    "CROSSOVER_PARENTS_KEY",
    "LLM_MODELS_KEY",
    "LLM_RATIONALE_KEY",
    "NN_PATTERNS_KEY",
    "PROPOSAL_SOURCE_KEY",
    "PROVENANCE_KEYS",
    "REJECTED_PROPOSALS_KEY",
    "SOURCE_BASE",
    "SOURCE_CROSSOVER",
    "SOURCE_LLM",
    "SOURCE_LOCAL",
    "SOURCE_PATTERNS",
    "SOURCE_PATTERNS_LLM",
    "SOURCE_TPE",
    "SOURCE_WARM_START",
    "WARM_START_KEY",
    "WARM_START_TRIAL_KEY",
    "ClankSampler",
    "llm_environment_problems",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
