"""One tunable parameter as a proposal describes it: its bounds, scale, best and base value.

The codec builds these from the search space (:meth:`ParamCodec.param_infos`) and the LLM
advisor lists them in its prompt and checks answers against them. Neither depends on the
other: both import this module, which imports nothing of the sampler.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ParamInfo"]


@dataclass(frozen=True)
class ParamInfo:
    """One tunable parameter as the LLM sees it."""

    name: str
    low: float
    high: float
    log: bool
    is_int: bool
    best: float | None
    base: float
