"""ClankSampler: autoencoder winning patterns + LLM deltas + anti-repeat memory.

The public names load on first use (PEP 562): importing this package costs nothing, the
sampler loads optuna and torch, and litellm is imported only when a sampler actually asks an LLM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.core.lazy import lazy_names

if TYPE_CHECKING:
    from optuna_clank.sampler._llm import LLMAdvisor, llm_environment_problems
    from optuna_clank.sampler._sampler import ClankSampler

# public name -> the module that defines it (attribute keys live in optuna_clank.core.attributes)
_HOMES = {
    "ClankSampler": "optuna_clank.sampler._sampler",
    "LLMAdvisor": "optuna_clank.sampler._llm",
    "llm_environment_problems": "optuna_clank.sampler._llm",
}

__all__ = ["ClankSampler", "LLMAdvisor", "llm_environment_problems"]


__getattr__, __dir__ = lazy_names(globals(), _HOMES)
