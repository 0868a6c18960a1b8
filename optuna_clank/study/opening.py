"""Opening a study from its spec: storage, sampler and pruner wired together, created or resumed.

Opening the same spec on the same storage twice gives the same study: the trial numbers
continue and the sampler sees every earlier trial. Trials left RUNNING by a process that died
are failed by the heartbeat and queued again with the same parameters.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from optuna_clank.arena.served.bot_spec import SHIPPED_GBC_CONFIG, shipped_gbc_config_path
from optuna_clank.core.attributes import PROPOSAL_SOURCE_KEY, SPEC_ATTR, ProposalSource
from optuna_clank.core.errors import UserError
from optuna_clank.core.optuna_private import quiet_experimental
from optuna_clank.core.redact import redact_url
from optuna_clank.study.building import make_pruner, make_sampler
from optuna_clank.study.storage import HeartbeatSettings, open_storage, resolve_storage_url
from optuna_clank.trial.base_trial import base_trial_params

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec

_LOG = logging.getLogger("optuna_clank")


def storage_url_of(spec: StudySpec, *, root: Path | None = None) -> str:
    """The spec's storage URL (``[storage] url`` or the default SQLite file), resolved."""
    return resolve_storage_url(spec.storage.url or None, spec.name, root=root)


def open_study(spec: StudySpec, *, storage_url: str | None = None, create: bool = True) -> optuna.Study:
    """Create or load the spec's study with its sampler, pruner and heartbeat settings."""
    url = storage_url or storage_url_of(spec)
    heartbeat = HeartbeatSettings(
        interval=spec.storage.heartbeat_interval,
        grace_period=spec.storage.grace_period,
        max_retry=spec.storage.max_retry,
    )
    with quiet_experimental():
        # Heartbeat retries, the Wilcoxon pruner and metric names are "experimental" in Optuna 5.
        return _open_study(spec, url, heartbeat, create=create)


def _open_study(spec: StudySpec, url: str, heartbeat: HeartbeatSettings, *, create: bool) -> optuna.Study:
    storage = open_storage(url, heartbeat=heartbeat, stale_trial_callback=_RetryStale(heartbeat.max_retry))
    sampler = make_sampler(spec)
    pruner = make_pruner(spec)
    directions = list(spec.study.directions)
    if not create:
        try:
            return optuna.load_study(study_name=spec.name, storage=storage, sampler=sampler, pruner=pruner)
        except KeyError as exc:
            raise UserError(f"no study named {spec.name!r} in {redact_url(url)}") from exc
    study = optuna.create_study(
        study_name=spec.name,
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        directions=[optuna.study.StudyDirection[d.upper()] for d in directions],
        load_if_exists=True,
    )
    stored = [d.name.lower() for d in study.directions]
    if stored != directions:
        raise UserError(
            f"study {spec.name!r} in {redact_url(url)} was created with directions {stored}, "
            f"the spec says {directions}; use another study name or storage"
        )
    if study.metric_names is None:
        study.set_metric_names(list(spec.study.objectives))
    recorded = study.user_attrs.get(SPEC_ATTR)
    if recorded is None:
        base = str(spec.benchmark.base_config) if spec.benchmark.base_config else None
        study.set_user_attr(
            SPEC_ATTR,
            {
                "path": str(spec.path),
                "base_config": base,
                BASE_LABEL_KEY: base_label(spec),
                "params": [p.name for p in spec.search_space],
            },
        )
    elif BASE_LABEL_KEY in recorded and recorded[BASE_LABEL_KEY] != base_label(spec):
        raise UserError(
            f"study {spec.name!r} in {redact_url(url)} was started from {_shown_base(recorded[BASE_LABEL_KEY])}, "
            f"this run names {_shown_base(base_label(spec))}: a study keeps one base config (pass --base-config "
            "with the study's, or use another study name or --storage for another base)"
        )
    return study


BASE_LABEL_KEY = "base"
"""Key of :data:`SPEC_ATTR`: the base config the study started from (:func:`base_label`)."""


def base_label(spec: StudySpec) -> str:
    """The spec's base config as a study records it: a file's path, ``shipped`` (go-battleclank's own
    config.yaml, wherever the package lies) or ``defaults`` (the snake's built-in config)."""

    path = spec.snake.base_config if spec.snake.reads_own_yaml else spec.benchmark.base_config
    if path is None:
        return "defaults"
    resolved = Path(path).resolve()
    return SHIPPED_GBC_CONFIG if resolved == shipped_gbc_config_path() else str(resolved)


def _shown_base(label: str) -> str:

    if label == SHIPPED_GBC_CONFIG:
        return "go-battleclank's shipped config.yaml"
    return "the snake's built-in defaults" if label == "defaults" else label


def spec_as_started(spec: StudySpec, study: optuna.Study) -> StudySpec:
    """``spec`` with the base config its study was started from, where the two differ.

    ``optimize --base-config FILE`` starts a study from FILE; ``status``, ``validate`` and ``export``
    of that study must compare with and write onto the same base, whatever the spec file says.
    """
    recorded = (study.user_attrs.get(SPEC_ATTR) or {}).get(BASE_LABEL_KEY)
    if recorded is None or recorded == base_label(spec):
        return spec
    if recorded == "defaults":
        return spec.with_overrides(base_config="default")
    return spec.with_overrides(base_config=recorded)


class _RetryStale(RetryHeartbeatStaleTrialCallback):
    """Optuna's retry (the trial is queued again with the same parameters), plus a log line."""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        _LOG.warning("trial %d stopped sending heartbeats (its process died?): marked FAIL, queued again", trial.number)
        super().__call__(study, trial)


def queue_again(study: optuna.Study, trial_number: int, *, max_retry: int) -> int | None:
    """Queue a FAILed trial again with the same parameters, as a heartbeat-stale trial is.

    Used for trials the user stopped mid-games (Ctrl-C twice): they were not bad, only
    interrupted, and the next run plays them first. Returns the new trial's number, or None
    when the trial was already retried ``max_retry`` times.
    """
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))}
    frozen = study.get_trials(deepcopy=False)[trial_number]
    with quiet_experimental():
        RetryHeartbeatStaleTrialCallback(max_retry)(study, frozen)
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    queued = [t.number for t in waiting if t.number not in before and t.params == frozen.params]
    return queued[0] if queued else None


def start_from_base(study: optuna.Study, spec: StudySpec) -> bool:
    """Queue the base config as the first trial of a new study (ClankSampler does it itself).

    Every sampler then measures its proposals against the config the user starts from.
    Returns whether a trial was queued.
    """
    if spec.sampler.name == "clank" or study.get_trials(deepcopy=False):
        return False
    study.enqueue_trial(base_trial_params(spec), user_attrs={PROPOSAL_SOURCE_KEY: ProposalSource.BASE.value})
    return True
