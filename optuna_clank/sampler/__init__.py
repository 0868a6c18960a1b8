"""ClankSampler: autoencoder winning patterns + LLM deltas + anti-repeat memory.

Importing this package loads optuna and torch but not litellm; litellm is imported only
when a sampler actually asks an LLM.
"""

from __future__ import annotations

from optuna_clank.sampler._crossover import CROSSOVER_PARENTS_KEY
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
]
