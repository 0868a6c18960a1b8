"""ClankSampler on a multi-objective study: scores are Pareto ranks, and the LLM prompt shows the front.

A real SQLite study, the real sampler, and a real HTTP server standing in for the LLM.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import optuna
from _openai_stub import OpenAIStub, Reply
from test_sampler import SPACE, answer, sqlite_url, suggest_all, unit

from optuna_clank.core.pareto import pareto_ranks
from optuna_clank.sampler import ClankSampler
from optuna_clank.sampler._codec import ParamCodec
from optuna_clank.sampler._memory import read_history


def two_goals(trial: optuna.Trial) -> tuple[float, float]:
    """A trade-off: the first value wants weights.space high, the second wants it low (minimised turns)."""
    params = suggest_all(trial)
    space = unit("weights.space", params["weights.space"])
    food = unit("weights.food", params["weights.food"])
    return float(space * (1 - 0.5 * food)), float(40 + 60 * space + 30 * food)


def test_history_scores_are_minus_the_pareto_rank(tmp_path: Path) -> None:
    study = optuna.create_study(
        storage=sqlite_url(tmp_path / "ranks.db"),
        directions=["maximize", "minimize"],
        sampler=optuna.samplers.RandomSampler(seed=3),
    )
    study.optimize(two_goals, n_trials=12)
    history = read_history(study, ParamCodec(SPACE))
    ranks = pareto_ranks([t.values for t in study.trials], study.directions)
    assert list(history.scores) == [-float(r) for r in ranks]
    assert history.best is not None and history.best.number in {t.number for t in study.best_trials}
    assert [t.number for t in history.pareto_front()] == sorted(t.number for t in study.best_trials)
    assert history.score(study.trials[0]) == -float(ranks[0])


def test_clank_proposes_and_the_prompt_shows_the_front(tmp_path: Path) -> None:
    reply = answer([{"param": "weights.space", "value": 0.6}], "Trade space for speed.")
    with OpenAIStub(Reply.answer(reply)) as stub:
        sampler = ClankSampler(
            search_space=SPACE,
            llm_models=["openai/stub-model"],
            llm_api_base=stub.api_base,
            llm_timeout=10.0,
            n_startup_trials=5,
            fallback_share=0.0,
            seed=2,
        )
        study = optuna.create_study(
            storage=sqlite_url(tmp_path / "front.db"), directions=["maximize", "minimize"], sampler=sampler
        )
        with warnings.catch_warnings():  # metric names are "experimental" in Optuna 5
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names(["win_rate", "avg_turns"])
        study.optimize(two_goals, n_trials=9)
        requests = stub.requests

    assert len(requests) == 4  # every trial after the startup ones asked the LLM
    sources = {t.user_attrs["proposal_source"] for t in study.trials[5:]}
    assert sources & {"patterns", "patterns+llm", "llm"}
    last = study.trials[-1]
    before = [t for t in study.trials if t.number < last.number]
    ranks = pareto_ranks([t.values for t in before], study.directions)
    front = [t for t, r in zip(before, ranks, strict=True) if r == 0]
    prompt = requests[-1]["messages"][-1]["content"]
    assert "the Pareto front (no trial is better on every objective) is:" in prompt
    for trial in front:
        win, turns = trial.values
        assert f"- trial #{trial.number}: maximize win_rate {win:.4g}, minimize avg_turns {turns:.4g}" in prompt
    shown = {int(n) for n in re.findall(r"- trial #(\d+):", prompt)}
    assert shown == {t.number for t in front}
    assert np.isfinite(last.values).all()
