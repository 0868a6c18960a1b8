"""What the sampler writes into the study's storage, the one memory all its workers share.

A proposal is claimed by publishing its point before the objective runs (so other threads,
processes and machines keep away from it), and every trial gets its provenance as user
attributes. Keeping these writes together keeps the attribute contract in one place; the
reading side is ``_memory``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna_clank.core.attributes import (
    BASE_TRIAL_KEY,
    CHANGED_PARAMS_KEY,
    LLM_FAILURES_KEY,
    LLM_LAST_ERROR_KEY,
    LLM_MODELS_KEY,
    LLM_RATIONALE_KEY,
    NN_PATTERNS_KEY,
    PROPOSAL_KEY,
    PROPOSAL_SOURCE_KEY,
    REJECTED_PROPOSALS_KEY,
)
from optuna_clank.core.optuna_private import storage_of, trial_id_of
from optuna_clank.sampler._memory import nearest_distance, read_history

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy as np
    from optuna.study import Study
    from optuna.trial import FrozenTrial

    from optuna_clank.core.attributes import ProposalSource
    from optuna_clank.sampler._codec import ParamCodec
    from optuna_clank.sampler._vote import Advice

__all__ = ["Proposal", "claim", "publish_point", "record_llm_failures", "write_provenance"]


@dataclass(frozen=True)
class Proposal:
    """One accepted proposal and its provenance (``changed`` None: known after the trial)."""

    source: ProposalSource
    params: dict[str, Any]
    base_trial: int | None
    changed: list[str] | None
    rationale: str = ""
    models: tuple[str, ...] = ()
    patterns: str = ""
    extra_attrs: tuple[tuple[str, Any], ...] = ()  # source-specific provenance (crossover parents ...)


def claim(
    study: Study,
    trial: FrozenTrial,
    codec: ParamCodec,
    params: Mapping[str, Any],
    min_distance: float,
) -> bool:
    """Publish ``params`` for ``trial`` unless another trial is within ``min_distance``.

    Check, publish, check again: two workers proposing the same point at the same time
    both publish before at least one of them checks again, so at most one keeps it
    (possibly neither; both then re-propose).
    """
    if min_distance <= 0.0:
        return True
    vector = codec.encode(params)
    if _is_taken(study, trial, codec, vector, min_distance):
        return False
    publish_point(study, trial, params)
    return not _is_taken(study, trial, codec, vector, min_distance)


def _is_taken(study: Study, trial: FrozenTrial, codec: ParamCodec, vector: np.ndarray, min_distance: float) -> bool:
    points = read_history(study, codec).points(codec, exclude=trial.number)
    return nearest_distance(vector, points) < min_distance


def publish_point(study: Study, trial: FrozenTrial, params: Mapping[str, Any]) -> None:
    """Make the proposal visible to other workers before the objective suggests it."""
    storage_of(study).set_trial_system_attr(trial_id_of(trial), PROPOSAL_KEY, dict(params))


def write_provenance(study: Study, trial: FrozenTrial, proposal: Proposal, rejected: int) -> None:
    """The trial's provenance attributes: where its proposal came from and how many were refused."""
    attrs: dict[str, Any] = {
        PROPOSAL_SOURCE_KEY: proposal.source.value,
        CHANGED_PARAMS_KEY: list(proposal.changed or []),
        BASE_TRIAL_KEY: proposal.base_trial,
        LLM_RATIONALE_KEY: proposal.rationale,
        LLM_MODELS_KEY: list(proposal.models),
        NN_PATTERNS_KEY: proposal.patterns,
        REJECTED_PROPOSALS_KEY: rejected,
        **dict(proposal.extra_attrs),
    }
    for key, value in attrs.items():
        storage_of(study).set_trial_user_attr(trial_id_of(trial), key, value)


def record_llm_failures(study: Study, trial: FrozenTrial, advice: Advice | None) -> None:
    """``llm_failures`` (failed requests, retries included) and ``llm_last_error`` on the trial.

    Only when something failed, so a healthy LLM adds no attributes; the log has the messages.
    """
    if advice is None or not advice.n_failed_calls:
        return
    storage_of(study).set_trial_user_attr(trial_id_of(trial), LLM_FAILURES_KEY, advice.n_failed_calls)
    storage_of(study).set_trial_user_attr(trial_id_of(trial), LLM_LAST_ERROR_KEY, advice.last_error)
