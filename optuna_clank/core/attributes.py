"""The names of the trial and study attributes optuna-clank stores: one home for each.

These strings are a stored contract. ``status``, ``validate``, the dashboard notes, ``export``,
warm starts and the sampler of *another* worker read them back from the storage, possibly
written by an older version of optuna-clank. Renaming one silently orphans every study
already stored under the old name, so change a value here only with a migration, never
lightly. Every module imports the name from here instead of spelling the string itself
(``tests/test_attributes.py`` checks that the package does).

The status JSON (``status --json``) mirrors these names for the trial fields it shows.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ABORTED_KEY",
    "BASE_TRIAL_KEY",
    "CHANGED_PARAMS_KEY",
    "CROSSOVER_PARENTS_KEY",
    "DEATH_CAUSES_KEY",
    "DEVICE_KEY",
    "GAMES_PLAYED_KEY",
    "HOST_KEY",
    "LLM_FAILURES_KEY",
    "LLM_LAST_ERROR_KEY",
    "LLM_MODELS_KEY",
    "LLM_RATIONALE_KEY",
    "MEAN_SCORE_KEY",
    "NN_PATTERNS_KEY",
    "NOT_RUN_KEY",
    "OPPONENTS_KEY",
    "OPPONENT_FAULTS_KEY",
    "PROPOSAL_KEY",
    "PROPOSAL_SOURCE_KEY",
    "PROVENANCE_KEYS",
    "REJECTED_PROPOSALS_KEY",
    "RUNS_KEY",
    "RUN_KEY",
    "SLOT_KEY",
    "SNAKE_ERROR_KEY",
    "SNAKE_PID_KEY",
    "SNAKE_STDERR_KEY",
    "SPEC_ATTR",
    "TORCH_THREADS_KEY",
    "VALIDATED_BASE_KEY",
    "VALIDATION_PREFIX",
    "WARM_START_KEY",
    "WARM_START_TRIAL_KEY",
    "WIN_RATE_CI_KEY",
    "WORKER_PID_KEY",
    "ProposalSource",
]

# --- trial user attributes: the games (written by the objective) ---------------------------

GAMES_PLAYED_KEY = "games_played"
"""Games the trial played (0 for a trial that played none)."""

MEAN_SCORE_KEY = "mean_score"
"""The mean score (win 1, draw 0.5, loss 0) over the games the trial played."""

WIN_RATE_CI_KEY = "win_rate_ci"
"""``[low, high]``: Wilson 95% interval of the trial's win rate (also a field of each by-opponent row)."""

DEATH_CAUSES_KEY = "death_causes"
"""``{cause: {phase: count}}`` of the tuned snake's deaths."""

OPPONENTS_KEY = "by_opponent"
"""A tournament's per-opponent results, one row per opponent (also a validation record field)."""

ABORTED_KEY = "aborted"
"""Set on a trial stopped mid-games by the user (Ctrl-C twice); it is queued again."""

NOT_RUN_KEY = "not_run"
"""Set on a surplus trial that another worker's trials made unnecessary (it fails unplayed)."""

SNAKE_PID_KEY = "snake_pid"
"""Process id of the candidate's snake server, when it runs as one."""

SNAKE_ERROR_KEY = "snake_error"
"""Why the trial failed for a snake server: the candidate's did not start or died, or a server (the
candidate's or an opponent's) failed more answers than ``[benchmark] max_faults`` allows."""

OPPONENT_FAULTS_KEY = "http_opponent_faults"
"""``{timeouts, errors, invalid, disconnects}`` of the opponents' servers (when any opponent is one);
the tuned snake's own are ``http_timeouts``, ``http_errors``, ``http_invalid``, ``http_disconnects``."""

SNAKE_STDERR_KEY = "snake_stderr"
"""The last lines the failed snake server wrote to stderr."""

# --- trial user attributes: where the trial ran (written by the worker) --------------------

SLOT_KEY = "slot"
DEVICE_KEY = "device"
RUN_KEY = "run"
"""The id of the ``optimize`` or ``worker`` run whose slot played the trial (what "this run" counts)."""
WORKER_PID_KEY = "worker_pid"
HOST_KEY = "host"
TORCH_THREADS_KEY = "torch_threads"

# --- trial user attributes: where the parameters came from (written by the sampler) --------

PROPOSAL_SOURCE_KEY = "proposal_source"
"""Which proposer made the trial: a :class:`ProposalSource` value."""

CHANGED_PARAMS_KEY = "changed_params"
"""Names of the parameters that differ from the base (tpe: from the best)."""

BASE_TRIAL_KEY = "base_trial"
"""Number of the trial the proposal started from, or None."""

LLM_RATIONALE_KEY = "llm_rationale"
"""The LLM's rationale for its changes ("" if none)."""

LLM_MODELS_KEY = "llm_models"
"""The models whose answers were used."""

NN_PATTERNS_KEY = "nn_patterns"
"""The winning-pattern text sent to the LLM ("" if none)."""

REJECTED_PROPOSALS_KEY = "rejected_proposals"
"""Proposals rejected as repeats before this one was accepted."""

PROVENANCE_KEYS = (
    PROPOSAL_SOURCE_KEY,
    CHANGED_PARAMS_KEY,
    BASE_TRIAL_KEY,
    LLM_RATIONALE_KEY,
    LLM_MODELS_KEY,
    NN_PATTERNS_KEY,
    REJECTED_PROPOSALS_KEY,
)
"""The attributes the sampler sets on every trial it proposes."""

CROSSOVER_PARENTS_KEY = "crossover_parents"
"""The numbers of a crossover trial's two parents."""

WARM_START_TRIAL_KEY = "warm_start_trial"
"""The source study's trial number this trial re-plays."""

LLM_FAILURES_KEY = "llm_failures"
"""Failed LLM requests (retries included) while proposing this trial."""

LLM_LAST_ERROR_KEY = "llm_last_error"
"""The error class of the last failed LLM request (e.g. ``InternalServerError``)."""

# --- trial system attributes ----------------------------------------------------------------

PROPOSAL_KEY = "clank:proposal"
"""The parameters a running trial is about to get, visible to other workers before the
objective has suggested them (like TPE's constant-liar attribute)."""

# --- study user attributes ------------------------------------------------------------------

SPEC_ATTR = "optuna_clank:spec"
"""The spec's path, base config and search space, for ``export`` and ``status``."""

WARM_START_KEY = "warm_start"
"""Where the warm-start seeds came from and the seeds themselves.

``{"source_study": ..., "source_storage": <masked URL>, "picked_by": ..., "seeds": [{"trial": n,
"params": {...}}, ...], "notes": [...]}``.
"""

RUNS_KEY = "runs"
"""What each ``optimize`` (and ``worker``) run of the study did, newest last: a list of dicts (slots used,
sampler, LLM on or off and why, snake, opponents, games per trial, when, how it ended), read by the
study note and ``status``; see :mod:`optuna_clank.study.run_record`."""

VALIDATION_PREFIX = "validated:"
"""``validated:<trial number>``: that trial's result on the validation games."""

VALIDATED_BASE_KEY = "validated_base"
"""The base config's result on the validation games (also the status JSON field)."""


class ProposalSource(StrEnum):
    """Who proposed a trial's parameters: the value of :data:`PROPOSAL_SOURCE_KEY`.

    A ``StrEnum``: each member equals (and is stored as) its plain string value.
    """

    TPE = "tpe"
    BASE = "base"
    LOCAL = "local"
    PATTERNS = "patterns"
    LLM = "llm"
    PATTERNS_LLM = "patterns+llm"
    CROSSOVER = "crossover"
    WARM_START = "warm-start"
