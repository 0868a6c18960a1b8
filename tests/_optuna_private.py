"""The private Optuna APIs that only the tests read (the package's own are in ``optuna_clank.core.optuna_private``).

- ``Study._study_id`` (:func:`study_id_of`): the tests read a study's system attributes from its storage.
- ``optuna.samplers._tpe.sampler._get_pruned_trial_score`` (:func:`pruned_trial_score`):
  ``tests/test_objective.py`` checks that TPE ranks our pruned trials by their mean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial


def study_id_of(study: optuna.Study) -> int:
    """The storage's key of ``study`` (private ``Study._study_id``)."""
    return study._study_id


def pruned_trial_score(trial: FrozenTrial, study: optuna.Study) -> tuple[float, float]:
    """How TPE ranks a pruned trial (private ``_get_pruned_trial_score``)."""
    from optuna.samplers._tpe.sampler import _get_pruned_trial_score

    return _get_pruned_trial_score(trial, study)
