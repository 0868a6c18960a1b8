"""How many trials of a study are in each state, how many of them a run made, and how many lie ahead of one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from optuna_clank.core.attributes import NOT_RUN_KEY, RUN_KEY

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class TrialCounts:
    """How many trials of a study are in each state."""

    complete: int = 0
    pruned: int = 0
    running: int = 0
    waiting: int = 0
    failed: int = 0  # failed while playing (crashed, stopped, killed)
    skipped: int = 0  # ended unplayed: another worker already held the study's last trials

    @property
    def finished(self) -> int:
        return self.complete + self.pruned


def count_trials(study: optuna.Study) -> TrialCounts:
    """Fresh counts from the storage (other processes' trials included)."""
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state for t in trials)
    skipped = sum(1 for t in trials if t.state == TrialState.FAIL and NOT_RUN_KEY in t.user_attrs)
    return TrialCounts(
        complete=states[TrialState.COMPLETE],
        pruned=states[TrialState.PRUNED],
        running=states[TrialState.RUNNING],
        waiting=states[TrialState.WAITING],
        failed=states[TrialState.FAIL] - skipped,
        skipped=skipped,
    )


def trials_ahead(study: optuna.Study, number: int) -> int:
    """Trials numbered below ``number`` that are finished or still going to finish."""
    live = (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
    return sum(1 for t in study.get_trials(deepcopy=False, states=live) if t.number < number)


def trials_of_run(study: optuna.Study, run_id: str) -> int:
    """Finished (complete or pruned) trials that a run's slots played (:data:`RUN_KEY`)."""
    return sum(1 for t in study.get_trials(deepcopy=False, states=FINISHED) if t.user_attrs.get(RUN_KEY) == run_id)
