"""The litellm client behind the sampler's LLM advice: ask every model at once, retry, vote.

litellm is imported lazily (it takes seconds), when an advisor first needs it, and every LLM,
network or parse failure becomes a recorded failure, never an exception. What is asked, how an
answer is read and how answers are combined live in ``_prompt``, ``_answers`` and ``_vote``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna_clank.core.extras import EXTRAS, is_missing, missing_extra
from optuna_clank.sampler._answers import parse_answer
from optuna_clank.sampler._prompt import build_messages
from optuna_clank.sampler._redact import redact_secrets
from optuna_clank.sampler._vote import Advice, _combine

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from optuna_clank.sampler._answers import ParsedAnswer
    from optuna_clank.sampler._param_info import ParamInfo
    from optuna_clank.sampler._prompt import PromptContext

__all__ = ["LLMAdvisor", "llm_environment_problems"]

_LOG = logging.getLogger("optuna_clank.llm")

_MAX_ERROR_TEXT = 200
_RETRY_BACKOFF_S = 0.5  # first wait; doubles per retry
_MAX_BACKOFF_S = 8.0
_RETRY_STATUS = frozenset({408, 409, 429})  # timeout, conflict, rate limit; and every 5xx
_KEY_ENV_VAR = "OPTUNA_CLANK_LLM_API_KEY"
_PLACEHOLDER_KEY = "none"

_IMPORT_LOCK = threading.Lock()


def _import_litellm() -> Any:
    """Import litellm on first use only (it takes seconds), without a network fetch."""
    with _IMPORT_LOCK:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm  # deferred: litellm takes seconds to import, and most runs never ask a model  # noqa: PLC0415 - deferred: loads litellm

        litellm.suppress_debug_info = True  # failures are logged by us, once, without banners
        return litellm


def llm_environment_problems(models: Sequence[str], *, api_base: str | None = None) -> dict[str, list[str]]:
    """What keeps each model from being asked, by model: an empty list means it can be asked.

    A problem is a provider setting that is missing (the names of environment variables, never
    their values), a provider litellm does not know, or litellm not installed. The one probe for
    the sampler, which leaves the unusable models out, and for the command line, which says once
    that a run goes without an LLM.
    """
    return {model: LLMAdvisor(models=[model], api_base=api_base).environment_problems() for model in models}


class LLMAdvisor:
    """Asks one or several models (through litellm) for parameter changes and votes.

    Stateless after construction, so one instance can serve several sampler threads.
    """

    def __init__(
        self,
        *,
        models: Sequence[str],
        api_base: str | None = None,
        timeout: float = 60.0,
        temperature: float = 0.7,
        max_tokens: int = 1200,
        num_retries: int = 2,
        retry_backoff: float = _RETRY_BACKOFF_S,
        mock_response: str | None = None,
    ) -> None:
        names = tuple(models)
        if not names or not all(isinstance(m, str) and m.strip() for m in names):
            raise ValueError("LLMAdvisor needs at least one non-empty model name")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._models = names
        self._api_base = api_base
        self._timeout = float(timeout)
        self._temperature = float(temperature)
        self._max_tokens = int(max_tokens)
        self._num_retries = max(0, int(num_retries))
        self._retry_backoff = max(0.0, float(retry_backoff))
        self._mock_response = mock_response

    @property
    def models(self) -> tuple[str, ...]:
        """The models asked in every round."""
        return self._models

    def environment_problems(self) -> list[str]:
        """Missing provider settings per model (names of env vars, never their values).

        Raises :class:`~optuna_clank.core.extras.MissingExtraError` when litellm (the llm extra) is
        not installed: that is no setting to warn about and run without, but a missing install.
        """
        if self._mock_response is not None:
            return []
        try:
            litellm = _import_litellm()
        except ImportError as exc:
            if is_missing(exc, "litellm"):
                raise missing_extra("llm", "the LLM sampler", otherwise="pass --no-llm") from None
            return [f"litellm cannot be imported ({type(exc).__name__}: {exc})"]
        return [p for model in self._models for p in self._model_problems(litellm, model)]

    def _model_problems(self, litellm: Any, model: str) -> list[str]:
        """What litellm says is missing to call one model."""
        try:
            litellm.get_llm_provider(model=model, api_base=self._api_base)
            report = litellm.validate_environment(
                model=model, api_key=self._api_key_for(litellm, model), api_base=self._api_base
            )
        except Exception as exc:
            return [f"{model}: unknown provider or model ({type(exc).__name__})"]
        missing = [str(k) for k in report.get("missing_keys") or []]
        if report.get("keys_in_environment") or not missing:
            return []
        return [f"{model}: missing {', '.join(missing)}"]

    def _api_key_for(self, litellm: Any, model: str) -> str | None:
        """The key to pass explicitly: only for a custom api_base, else litellm reads the env.

        A local OpenAI-compatible server ignores keys, but the client insists on one.
        """
        if self._api_base is None:
            return None
        explicit = os.environ.get(_KEY_ENV_VAR)
        if explicit:
            return explicit
        try:
            report = litellm.validate_environment(model=model, api_base=self._api_base)
        except Exception:
            return _PLACEHOLDER_KEY
        return None if report.get("keys_in_environment") else _PLACEHOLDER_KEY

    def advise(self, context: PromptContext) -> Advice:
        """Ask every model concurrently and vote; failures are recorded, never raised."""
        messages = build_messages(context)
        params = {p.name: p for p in context.params}
        try:
            litellm = _import_litellm()
        except ImportError as exc:
            failures = tuple(f"{m}: {type(exc).__name__}" for m in self._models)
            hint = f" ({EXTRAS['llm'].install})" if is_missing(exc, "litellm") else f": {exc}"
            _LOG.warning("LLM advice skipped: litellm cannot be imported%s", hint)
            return Advice((), "", (), 0, failures)
        with ThreadPoolExecutor(max_workers=len(self._models)) as pool:
            results = list(pool.map(lambda m: self._ask_one(litellm, m, messages, params), self._models))
        return self._advice_from(results, params)

    def _advice_from(
        self,
        results: Sequence[_ModelResult],
        params: Mapping[str, ParamInfo],
    ) -> Advice:
        """Vote over the useful answers; everything else becomes a failure line."""
        useful = [(r.model, r.answer) for r in results if r.answer and r.answer.changes]
        failures = tuple(f"{r.model}: {r.why}" for r in results if r.why)
        n_dropped = sum(r.answer.n_dropped for r in results if r.answer)
        changes, rationale = _combine([a for _, a in useful], params, labels=[m for m, _ in useful])
        errors = [error for r in results for error in r.errors]
        return Advice(
            changes,
            rationale,
            tuple(m for m, _ in useful),
            n_dropped,
            failures,
            n_failed_calls=len(errors),
            last_error=errors[-1] if errors else "",
        )

    def _ask_one(
        self,
        litellm: Any,
        model: str,
        messages: list[dict[str, str]],
        params: Mapping[str, ParamInfo],
    ) -> _ModelResult:
        """One model's parsed answer, or the reason it gave nothing usable."""
        text, errors = self._complete(litellm, model, messages)
        if text is None:
            if errors:
                return _ModelResult(model, None, errors[-1], tuple(errors))
            _LOG.warning("LLM %s returned no message text", model)
            return _ModelResult(model, None, "empty response", ())
        answer = parse_answer(text, params, prompt=messages[-1]["content"])
        cut = [p for p in answer.problems if " cut to the " in p]
        if cut:
            _LOG.warning("LLM %s: %s", model, cut[0])
        if answer.changes:
            return _ModelResult(model, answer, None, tuple(errors))
        reason = answer.problems[-1] if answer.problems else "no changes proposed"
        _LOG.warning("LLM %s gave no usable change: %s", model, reason)
        return _ModelResult(model, answer, _failure_reason(answer), tuple(errors))

    def _complete(self, litellm: Any, model: str, messages: list[dict[str, str]]) -> tuple[str | None, list[str]]:
        """The answer text (None when every attempt failed) and the error class of each failed attempt.

        Retries are ours, bounded and with a doubling wait: litellm's own need ``tenacity``
        (and hid every real error behind "tenacity import failed" without it). Errors that
        a retry cannot fix (a bad key, a bad request: 4xx) are not retried.
        """
        errors: list[str] = []
        kwargs = self._completion_kwargs(litellm, model, messages)
        for attempt in range(self._num_retries + 1):
            try:
                response = litellm.completion(**kwargs)
            except Exception as exc:
                errors.append(type(exc).__name__)
                retry = attempt < self._num_retries and _worth_retrying(exc)
                self._log_failure(model, exc, retry=retry)
                if not retry:
                    return None, errors
                time.sleep(min(_MAX_BACKOFF_S, self._retry_backoff * 2**attempt))
                continue
            return _response_text(response), errors
        return None, errors

    def _completion_kwargs(self, litellm: Any, model: str, messages: list[dict[str, str]]) -> dict[str, Any]:
        """Arguments for litellm.completion; keys come from the env or the placeholder."""
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": self._temperature,
            "timeout": self._timeout,
            "max_tokens": self._max_tokens,
            "num_retries": 0,  # we retry (see _complete); litellm's retries need tenacity
            "max_retries": 0,  # nor may the provider's client retry behind our back
            "response_format": {"type": "json_object"},
        }
        if self._api_base is not None:
            kwargs["api_base"] = self._api_base
            api_key = self._api_key_for(litellm, model)
            if api_key is not None:
                kwargs["api_key"] = api_key
        if self._mock_response is not None:
            kwargs["mock_response"] = self._mock_response
        return kwargs

    def _log_failure(self, model: str, exc: Exception, *, retry: bool) -> None:
        """One WARNING line: model, exception class and a short, key-free message."""
        then = "; retrying" if retry else ""
        _LOG.warning("LLM %s failed: %s: %s%s", model, type(exc).__name__, _safe_error_text(exc), then)


@dataclass(frozen=True)
class _ModelResult:
    """One model's part of a round: its parsed answer, why it gave nothing, its failed attempts."""

    model: str
    answer: ParsedAnswer | None
    why: str | None
    errors: tuple[str, ...]


def _worth_retrying(exc: Exception) -> bool:
    """Server trouble, timeouts, rate limits and lost connections; not a bad key or request."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status >= 500 or status in _RETRY_STATUS
    name = type(exc).__name__
    return "Timeout" in name or "Connection" in name


def _response_text(response: Any) -> str | None:
    """The assistant message text of a chat completion, or None if there is none."""
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return content if isinstance(content, str) and content.strip() else None


def _failure_reason(answer: ParsedAnswer) -> str:
    """A short label for an answer that parsed to no change."""
    if any(p.startswith("malformed JSON") for p in answer.problems):
        return "malformed JSON"
    if answer.n_dropped:
        return f"no valid change ({answer.n_dropped} dropped)"
    return "no changes proposed"


def _safe_error_text(exc: BaseException) -> str:
    """The exception message, one line, short, with anything key-like redacted."""
    text = " ".join(str(exc)[: 20 * _MAX_ERROR_TEXT].split())
    return redact_secrets(text)[:_MAX_ERROR_TEXT]
