"""Studies from specs: storage, sampler and pruner wired together, created or resumed.

Opening the same spec on the same storage twice gives the same study: the trial numbers
continue and the sampler sees every earlier trial. Trials left RUNNING by a process that died
are failed by the heartbeat and queued again with the same parameters.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import FrozenTrial, TrialState

from optuna_clank._optuna_private import quiet_experimental
from optuna_clank.attributes import NOT_RUN_KEY, PROPOSAL_SOURCE_KEY, SPEC_ATTR, ProposalSource
from optuna_clank.errors import UserError
from optuna_clank.objective import death_cause_summary
from optuna_clank.storage import HeartbeatSettings, open_storage, redact_url, resolve_storage_url

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec

_LOG = logging.getLogger("optuna_clank")

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


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
        directions=directions,
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
    if SPEC_ATTR not in study.user_attrs:
        base = str(spec.benchmark.base_config) if spec.benchmark.base_config else None
        study.set_user_attr(
            SPEC_ATTR, {"path": str(spec.path), "base_config": base, "params": [p.name for p in spec.search_space]}
        )
    return study


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


def make_sampler(spec: StudySpec) -> optuna.samplers.BaseSampler:
    """The sampler a spec asks for, over the spec's search space."""
    options = spec.sampler
    seed = options.seed
    name = options.name
    if name == "clank":
        from optuna_clank.sampler import ClankSampler

        return ClankSampler(
            search_space=spec.distributions(),
            llm_models=options.llm_models if options.use_llm else (),
            llm_api_base=options.llm_api_base or None,
            llm_timeout=options.llm_timeout,
            use_neural_net=options.use_neural_net,
            n_startup_trials=options.n_startup_trials,
            fallback_share=options.fallback_share,
            min_distance=options.min_distance,
            crossover_share=options.crossover_share,
            crossover_kind=options.crossover_kind,
            task=task_description(spec),
            context=death_cause_summary,
            base_params=base_params(spec),
            seed=seed,
        )
    if name == "tpe":
        return optuna.samplers.TPESampler(
            n_startup_trials=options.n_startup_trials, multivariate=True, constant_liar=True, seed=seed
        )
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(n_startup_trials=options.n_startup_trials, seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(n_startup_trials=options.n_startup_trials, seed=seed)
    raise UserError(f"unknown sampler {name!r}")


def base_params(spec: StudySpec) -> dict[str, float]:
    """The spec's base config as values of its search space (clipped into the bounds)."""
    from optuna_clank.candidate import base_values

    values = base_values(spec)
    params: dict[str, float] = {}
    for param in spec.search_space:
        value = min(max(float(values[param.name]), param.low), param.high)
        if param.step:  # onto the grid the distribution holds
            value = min(param.low + round((value - param.low) / param.step) * param.step, param.high)
        params[param.name] = round(value) if param.is_int else value
    return params


def start_from_base(study: optuna.Study, spec: StudySpec) -> bool:
    """Queue the base config as the first trial of a new study (ClankSampler does it itself).

    Every sampler then measures its proposals against the config the user starts from.
    Returns whether a trial was queued.
    """
    if spec.sampler.name == "clank" or study.get_trials(deepcopy=False):
        return False
    study.enqueue_trial(base_params(spec), user_attrs={PROPOSAL_SOURCE_KEY: ProposalSource.BASE.value})
    return True


MULTI_OBJECTIVE_PRUNING = (
    "pruning is off: a multi-objective study cannot prune (Optuna's trial.report and should_prune "
    "support single-objective studies only); every trial plays all its games"
)


def make_pruner(spec: StudySpec) -> optuna.pruners.BasePruner:
    """The pruner a spec asks for (none for multi-objective studies, which Optuna cannot prune)."""
    options = spec.pruner
    if len(spec.study.directions) > 1:
        _LOG.info(MULTI_OBJECTIVE_PRUNING)
        return optuna.pruners.NopPruner()
    if options.name == "none":
        return optuna.pruners.NopPruner()
    if options.name == "wilcoxon":
        return optuna.pruners.WilcoxonPruner(p_threshold=options.p_threshold, n_startup_steps=options.n_startup_steps)
    if options.name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=options.n_startup_trials)
    raise UserError(f"unknown pruner {options.name!r}")


def task_description(spec: StudySpec) -> str:
    """What the study tunes and why, in a sentence for the LLM prompt."""
    bench = spec.benchmark
    width, height = bench.board_size
    goals = ", ".join(f"{d} {o}" for d, o in zip(spec.study.directions, spec.study.objectives, strict=True))
    bot = (
        "a Battlesnake server that reads a YAML config"
        if spec.snake.is_server
        else "go-battleclank, a greedy one-ply bot that adds up many weighted terms per move, read from its YAML"
        if spec.snake.builtin == "gbc"
        else "a one-ply heuristic that scores its four moves from a go-battleclank style YAML config"
    )
    return (
        f"Tune the numeric weights of a Battlesnake bot ({bot}) to {goals} (score: win 1, draw 0.5, loss 0 "
        f"per game) against {', '.join(Path(o).stem if '/' in o else o for o in bench.opponents)} "
        f"in {bench.mode} games on a {width}x{height} board; every trial plays the same "
        f"{bench.games_per_trial} games."
    )


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
