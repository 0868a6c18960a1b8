"""The LLM cannot leak keys into the study, hide its errors, or rewrite every parameter.

Real HTTP on loopback (``_openai_stub``): a server error followed by an answer (retried), a
bad key (not retried), an answer that echoes keys in its rationale, and a hostile answer that
moves all 31 parameters to their maximum.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import optuna
import pytest
from _openai_stub import OpenAIStub, Reply

from optuna_clank.arena.config import default_config, flatten
from optuna_clank.arena.params import TUNABLE_PARAMS
from optuna_clank.sampler import ClankSampler
from optuna_clank.sampler._answers import MAX_CHANGES
from optuna_clank.sampler._llm import LLMAdvisor
from optuna_clank.sampler._param_info import ParamInfo
from optuna_clank.sampler._prompt import PromptContext
from optuna_clank.sampler._redact import redact_secrets

DEFAULTS = flatten(default_config())
PARAMS = tuple(
    ParamInfo(p.name, p.low, p.high, log=p.log, is_int=p.is_int, best=None, base=float(DEFAULTS[p.name]))
    for p in TUNABLE_PARAMS
)
GOOD = json.dumps({"changes": [{"param": "weights.space", "delta_pct": 20}], "rationale": "more space"})


def _context() -> PromptContext:
    return PromptContext(
        task="tune",
        params=PARAMS,
        best_value=0.5,
        best_interval=(0.4, 0.6),
        n_finished=12,
        trend="flat",
        stagnating=False,
        patterns="",
        death_causes="",
        change_history="",
    )


@pytest.fixture(autouse=True)
def no_provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPTUNA_CLANK_LLM_API_KEY", raising=False)


def _advisor(stub: OpenAIStub, **kwargs: object) -> LLMAdvisor:
    options: dict[str, object] = {"timeout": 5.0, "retry_backoff": 0.0}
    options.update(kwargs)
    return LLMAdvisor(models=["openai/stub"], api_base=stub.api_base, **options)  # type: ignore[arg-type]


def _llm_log(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records if r.name == "optuna_clank.llm")


def test_a_server_error_is_retried_and_the_real_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    with OpenAIStub(Reply.answer(GOOD)) as stub, caplog.at_level(logging.WARNING):
        stub.queue_replies(Reply.error(500))
        advice = _advisor(stub).advise(_context())
        n_requests = len(stub.requests)
    assert n_requests == 2
    assert [c.param for c in advice.changes] == ["weights.space"]
    assert advice.failures == () and advice.n_failed_calls == 1 and advice.last_error == "InternalServerError"
    log = _llm_log(caplog)
    assert "InternalServerError" in log and "retrying" in log and "tenacity" not in log


def test_retries_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    with OpenAIStub(Reply.error(503)) as stub, caplog.at_level(logging.WARNING):
        advice = _advisor(stub, num_retries=2).advise(_context())
        n_requests = len(stub.requests)
    assert n_requests == 3 and advice.n_failed_calls == 3 and not advice.changes
    assert "tenacity" not in _llm_log(caplog)


def test_a_bad_key_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    with OpenAIStub(Reply.error(401)) as stub, caplog.at_level(logging.WARNING):
        advice = _advisor(stub, num_retries=3).advise(_context())
        n_requests = len(stub.requests)
    assert n_requests == 1
    assert advice.failures == ("openai/stub: AuthenticationError",) and advice.last_error == "AuthenticationError"
    log = _llm_log(caplog)
    assert "AuthenticationError" in log and "retrying" not in log and "tenacity" not in log


def test_keys_echoed_in_the_rationale_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    configured = "zq-local-server-key-0042"
    monkeypatch.setenv("OPTUNA_CLANK_LLM_API_KEY", configured)
    openai_key = "sk-proj-" + "Ab3" * 12
    hex_token = "9f" * 20
    rationale = f"Use key {openai_key} or {configured}; token {hex_token}. Raise weights.space by 20%."
    answer = json.dumps({"changes": [{"param": "weights.space", "delta_pct": 20}], "rationale": rationale})
    with OpenAIStub(Reply.answer(answer)) as stub:
        advice = _advisor(stub).advise(_context())
        assert stub.auth_headers == [f"Bearer {configured}"]  # the key was really sent, and is known
    for secret in (openai_key, configured, hex_token, "Ab3Ab3Ab3"):
        assert secret not in advice.rationale
    assert "[redacted]" in advice.rationale and "Raise weights.space by 20%." in advice.rationale


def test_redaction_keeps_ordinary_text() -> None:
    text = "late_game.turn_threshold to 150 and traps.critical down 12.5%; weights.space up"
    assert redact_secrets(text) == text


def test_an_answer_changing_every_parameter_is_cut_to_the_strongest_few(caplog: pytest.LogCaptureFixture) -> None:
    hostile = json.dumps({"changes": [{"param": p.name, "value": p.high} for p in PARAMS], "rationale": "max all"})
    with OpenAIStub(Reply.answer(hostile)) as stub, caplog.at_level(logging.WARNING):
        advice = _advisor(stub).advise(_context())
    assert len(PARAMS) == 31 and len(advice.changes) == MAX_CHANGES
    by_name = {p.name: p for p in PARAMS}

    def size(name: str) -> float:
        p = by_name[name]
        if p.log:
            return (math.log(p.high) - math.log(p.base)) / (math.log(p.high) - math.log(p.low))
        return (p.high - p.base) / (p.high - p.low)

    kept = {c.param for c in advice.changes}
    dropped = [p.name for p in PARAMS if p.name not in kept and p.base != p.high]
    assert min(size(n) for n in kept) >= max(size(n) for n in dropped)
    movable = sum(p.base != p.high for p in PARAMS)  # a parameter already at its maximum is a no-op
    assert f"{movable} changes cut to the 6 largest" in _llm_log(caplog)


SPACE = {
    "weights.space": optuna.distributions.FloatDistribution(0.5, 20.0),
    "weights.food": optuna.distributions.FloatDistribution(0.1, 1000.0, log=True),
}


def _objective(trial: optuna.Trial) -> float:
    space = trial.suggest_float("weights.space", 0.5, 20.0)
    return space + trial.suggest_float("weights.food", 0.1, 1000.0, log=True) / 1000


def test_llm_failures_are_recorded_on_the_trial(tmp_path: Path) -> None:
    with OpenAIStub(Reply.answer(GOOD)) as stub:
        sampler = ClankSampler(
            search_space=SPACE,
            llm_models=["openai/stub"],
            llm_api_base=stub.api_base,
            n_startup_trials=3,
            use_neural_net=False,
            fallback_share=0.0,
            seed=1,
        )
        study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize", sampler=sampler)
        study.optimize(_objective, n_trials=3)
        stub.queue_replies(Reply.error(500))
        study.optimize(_objective, n_trials=1)
    last = study.trials[-1]
    assert last.user_attrs["proposal_source"] == "llm"
    assert last.user_attrs["llm_failures"] == 1
    assert last.user_attrs["llm_last_error"] == "InternalServerError"
    assert all("llm_failures" not in t.user_attrs for t in study.trials[:-1])
