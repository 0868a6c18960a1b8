"""The private and experimental Optuna APIs that optuna-clank relies on, named in one place.

pyproject pins ``optuna>=5,<6``: a new major version may rename or drop any of these, and this
module is where that shows. Each use has a reason Optuna's public API does not cover.

Private attributes, read through the wrappers below:

- ``Study._storage`` and ``FrozenTrial._trial_id`` (:func:`storage_of`, :func:`trial_id_of`):
  a sampler sees a trial only as a :class:`~optuna.trial.FrozenTrial`, yet writes its provenance
  user attributes (``sampler/_sampler.py``) while the trial runs; ``trial/story.py`` re-reads
  the live trial's attributes that the sampler wrote after the :class:`~optuna.Trial` was made;
  ``tests/test_trial_story.py`` reads a finished trial's dashboard note with them.

The private APIs only the tests use (``Study._study_id``, TPE's ``_get_pruned_trial_score``) are
named in ``tests/_optuna_private.py``.

Experimental APIs (they warn with :class:`~optuna.exceptions.ExperimentalWarning`; the call
sites silence it with :func:`quiet_experimental`, the warning only adds noise for our users):

- ``RDBStorage(heartbeat_interval=..., grace_period=..., heartbeat_stale_trial_callback=...)``
  (``storage.py``) and ``RetryHeartbeatStaleTrialCallback`` (``runner.py``): a crashed worker's
  trial goes back to the queue.
- ``optuna.storages.fail_stale_trials`` (``worker.py``): a waiting worker reclaims stale trials.
- ``WilcoxonPruner`` and ``Study.set_metric_names`` (``runner.py``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial


def storage_of(study: optuna.Study) -> BaseStorage:
    """The storage behind ``study`` (private ``Study._storage``)."""
    return study._storage


def trial_id_of(trial: FrozenTrial | optuna.Trial) -> int:
    """The storage's key of ``trial`` (private ``_trial_id``; Optuna exposes only ``number``)."""
    return trial._trial_id


@contextmanager
def quiet_experimental() -> Iterator[None]:
    """Silence Optuna's ExperimentalWarning for the APIs listed in this module's docstring."""
    from optuna.exceptions import ExperimentalWarning  # noqa: PLC0415 - deferred: loads optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield
