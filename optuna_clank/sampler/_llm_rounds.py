"""The sampler's side of an LLM round: which models to ask, what to tell them, and how it went.

The sampler only needs "advice on this candidate, or none". This module turns the study into
the prompt, sets the advisor up once for the models whose environment is ready (the one step
that imports litellm), never lets an advisor's failure reach the proposal, and counts the
rounds and the failed ones.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING, Any

from optuna_clank.core.attributes import WIN_RATE_CI_KEY
from optuna_clank.sampler._llm import LLMAdvisor, llm_environment_problems
from optuna_clank.sampler._prompt import PromptContext
from optuna_clank.sampler._vote import Advice

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from optuna.trial import FrozenTrial

    from optuna_clank.sampler._codec import ParamCodec
    from optuna_clank.sampler._memory import History

__all__ = ["LLMRounds"]

_LOG = logging.getLogger("optuna_clank.sampler")

_RECENT_TRIALS = 10
"""Finished trials handed to the ``context`` callable (e.g. for the death-cause summary)."""


class LLMRounds:
    """Asks the advisor about one candidate at a time; thread-safe, one per sampler.

    Without ``models`` and ``advisor`` there is no advisor; with ``advisor`` it is asked as it
    is; otherwise the first :meth:`advisor` call checks the models' environment and leaves the
    unusable ones out (one WARNING).
    """

    def __init__(
        self,
        *,
        models: Sequence[str],
        api_base: str | None,
        timeout: float,
        advisor: LLMAdvisor | None,
        task: str,
        context: Callable[[Sequence[FrozenTrial]], str] | None,
    ) -> None:
        self._models = tuple(models)
        self._api_base = api_base
        self._timeout = float(timeout)
        self._task = task
        self._context = context
        self._lock = threading.Lock()  # the counters; never held during an LLM call
        self._n_calls = 0
        self._n_failures = 0
        self._setup_lock = threading.Lock()
        self._ready = not self._models or advisor is not None
        self._advisor: LLMAdvisor | None = advisor

    @property
    def calls(self) -> int:
        """Rounds in which the LLM was asked."""
        with self._lock:
            return self._n_calls

    @property
    def failures(self) -> int:
        """Rounds in which the LLM failed or gave no usable change."""
        with self._lock:
            return self._n_failures

    def advisor(self) -> LLMAdvisor | None:
        """The advisor for the usable models, set up on first use (this imports litellm)."""
        if self._ready:
            return self._advisor
        with self._setup_lock:
            if not self._ready:
                self._advisor = self._make_advisor()
                self._ready = True
        return self._advisor

    def _make_advisor(self) -> LLMAdvisor | None:
        """An advisor for the models whose environment is set up; one WARNING for the rest."""
        kwargs: dict[str, Any] = {"api_base": self._api_base, "timeout": self._timeout}
        if self._api_base is not None:
            return LLMAdvisor(models=self._models, **kwargs)
        found = llm_environment_problems(self._models)
        usable = [model for model in self._models if not found[model]]
        problems = [problem for model in self._models for problem in found[model]]
        if problems and usable:
            _LOG.warning(
                "ClankSampler leaves out LLM models whose environment is not set up (%s); asking %s",
                "; ".join(problems),
                ", ".join(usable),
            )
        elif problems:
            _LOG.warning(
                "ClankSampler runs without an LLM: the environment is not set up for %s (%s)",
                ", ".join(self._models),
                "; ".join(problems),
            )
        return LLMAdvisor(models=usable, **kwargs) if usable else None

    def ask(
        self,
        advisor: LLMAdvisor,
        codec: ParamCodec,
        history: History,
        base_params: dict[str, Any],
        patterns: str,
    ) -> Advice | None:
        """One LLM round on the candidate (no lock held); failures are counted."""
        best = history.best
        assert best is not None and best.values
        trend, stagnating = history.trend()
        finished = history.finished
        prompt = PromptContext(
            task=self._task,
            params=codec.param_infos(base=base_params, best=best.params),
            best_value=float(best.values[0]),
            best_interval=_interval(best.user_attrs.get(WIN_RATE_CI_KEY)),
            n_finished=len(finished),
            trend=trend,
            stagnating=stagnating,
            patterns=patterns,
            death_causes=self._context_text(finished[-_RECENT_TRIALS:]),
            change_history=history.change_summary(),
            pareto_front=history.front_summary,
        )
        with self._lock:
            self._n_calls += 1
        try:
            advice = advisor.advise(prompt)
        except Exception as exc:
            _LOG.warning("LLM advice failed; the proposal goes on without it", exc_info=True)
            advice = Advice((), "", (), 0, (f"advisor: {type(exc).__name__}",), 1, type(exc).__name__)
        if advice is None or not advice.changes:
            with self._lock:
                self._n_failures += 1
        return advice

    def _context_text(self, recent: Sequence[FrozenTrial]) -> str:
        """The caller's context for the prompt; a failing callable gives ""."""
        if self._context is None:
            return ""
        try:
            return str(self._context(recent))
        except Exception:
            _LOG.warning("ClankSampler context callable failed; prompt goes without it", exc_info=True)
            return ""


def _interval(value: object) -> tuple[float, float] | None:
    """A [low, high] pair of finite numbers, or None."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in value):
        return None
    low, high = float(value[0]), float(value[1])
    return (low, high) if math.isfinite(low) and math.isfinite(high) else None
