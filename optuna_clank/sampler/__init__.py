"""ClankSampler: autoencoder winning patterns + LLM deltas + anti-repeat memory.

The public names load on first use (PEP 562): importing this package costs nothing, the
sampler loads optuna and torch, and litellm is imported only when a sampler actually asks an LLM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optuna_clank.sampler._llm import llm_environment_problems
    from optuna_clank.sampler._sampler import ClankSampler

# public name -> the module that defines it (attribute keys live in optuna_clank.attributes)
_HOMES = {
    "ClankSampler": "optuna_clank.sampler._sampler",
    "llm_environment_problems": "optuna_clank.sampler._llm",
}

__all__ = ["ClankSampler", "llm_environment_problems"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
