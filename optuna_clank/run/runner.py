"""Studies from specs: storage, sampler and pruner wired together, created or resumed, and run.

Opening the same spec on the same storage twice gives the same study: the trial numbers
continue and the sampler sees every earlier trial. Trials left RUNNING by a process that died
are failed by the heartbeat and queued again with the same parameters. :func:`run_study` is
the whole of ``optimize`` (and ``worker``) for Python callers; the command line only parses
its options, calls it and prints the outcome.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna

from optuna_clank.arena.opponents import short_name
from optuna_clank.core.control import CLEAN_STOPS, RunControl, StopReason
from optuna_clank.core.devices import auto_n_jobs, visible_cuda_devices
from optuna_clank.core.errors import UserError
from optuna_clank.run.in_flight import plan_in_flight
from optuna_clank.run.monitor import Monitor
from optuna_clank.run.pool import PoolPlan, run_pool
from optuna_clank.spec import load_spec
from optuna_clank.study.building import MULTI_OBJECTIVE_PRUNING
from optuna_clank.study.counts import TrialCounts, count_trials, trials_of_run
from optuna_clank.study.dashboard import DashboardServer
from optuna_clank.study.note import write_study_note
from optuna_clank.study.opening import open_study, start_from_base, storage_url_of
from optuna_clank.study.run_record import begin_run, end_run, llm_state
from optuna_clank.study.storage import describe_storage
from optuna_clank.study.warm_start import DEFAULT_WARM_START_TRIALS, load_source, source_storage_url, warm_start
from optuna_clank.trial.base_trial import base_range_notes
from optuna_clank.trial.story import artifact_dir
from optuna_clank.trial.tournament import Tournament, is_tournament

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from optuna_clank.core.control import RunControl
    from optuna_clank.run.worker import SlotReport
    from optuna_clank.spec import StudySpec
    from optuna_clank.study.dashboard import DashboardServer

_LOG = logging.getLogger("optuna_clank")


# --------------------------------------------------------------------------- a whole run


class RunEnding(StrEnum):
    """How :func:`run_study` can end: nothing to do; the target; the timeout; Ctrl-C once (or
    ``request_stop``); Ctrl-C twice (running trials failed and queued again); every slot gave up.

    A ``StrEnum``: ``run.ended == "target reached"`` holds, and the words match the slots'
    :class:`~optuna_clank.core.control.StopReason` where the two mean the same.
    """

    ALREADY_DONE = "already done"
    TARGET_REACHED = StopReason.TARGET_REACHED.value
    TIMEOUT = StopReason.TIMEOUT.value
    STOPPED = "stopped"
    ABORTED = StopReason.ABORTED.value
    SLOTS_STOPPED = "slots stopped"


PROGRESS = ("bar", "log", "none")
"""What :func:`run_study` shows while trials run: a tqdm bar, a log line per finished trial, nothing."""


@dataclass(frozen=True)
class StudyRun:
    """How one :func:`run_study` call ended, with the study to look at afterwards."""

    study: optuna.Study
    spec: StudySpec  # the spec as run: overrides applied
    storage_url: str
    before: TrialCounts
    after: TrialCounts
    ended: RunEnding
    seconds: float  # of the pool; 0 when there was nothing to do
    slots: tuple[SlotReport, ...] = ()
    ran: int = 0
    """Trials this run's slots finished (complete or pruned); other processes' on the same study are not counted."""

    @property
    def target(self) -> int:
        return self.spec.study.n_trials

    def why_short(self) -> str | None:
        """Why the run ended with the target unmet, when the user did not ask for it (Ctrl-C, timeout); else None."""
        if self.ended != RunEnding.SLOTS_STOPPED:
            return None
        troubled = [s for s in self.slots if s.stopped not in CLEAN_STOPS]
        what = "; ".join(_slot_trouble(s) for s in troubled) or "the workers stopped"
        return (
            f"study {self.spec.name} holds {self.after.finished} of its {self.target} finished trials: "
            f"every slot gave up ({what})"
        )


def _slot_trouble(slot: SlotReport) -> str:
    text = f"slot {slot.slot}: {slot.stopped or 'stopped'}"
    return text + (f", the last because {slot.errors[-1]}" if slot.errors else "")


def run_study(
    spec: StudySpec,
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    n_jobs: int | str | None = None,
    storage_url: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    worker: bool = False,
    warm_start_from: str | None = None,
    warm_start_storage: str | None = None,
    warm_start_trials: int | None = None,
    progress: str = "none",
    dashboard: tuple[str, int] | None = None,
    verbose: bool = False,
    say: Callable[[str], None] | None = None,
) -> StudyRun:
    """Run (or resume) a study until it holds ``n_trials`` finished trials, as ``optimize`` does.

    ``spec`` is a spec as :func:`optuna_clank.spec.load_spec` read it: the worker processes read
    the file again, so every change goes in here, as ``n_trials``, ``timeout``, ``n_jobs``,
    ``storage_url`` or ``overrides`` (the names of :data:`optuna_clank.spec.OVERRIDES`); a spec
    that differs from its file is refused. Everything ``optimize`` does happens here: the study
    is created or resumed, a new one starts from the base config (and from ``warm_start_from``'s
    best trials), the pool runs one slot per ``n_jobs``, checkpoints are written, optuna-dashboard
    is served on ``dashboard`` (host, port) while the run lasts, and, on the main thread, Ctrl-C
    once finishes the running trials and twice stops them (they are queued again; the previous
    handlers are back when this returns). ``worker=True`` joins a study run elsewhere instead:
    nothing queued, no study note, no checkpoints. ``progress``: one of :data:`PROGRESS`.
    ``say`` takes the lines that narrate the run (default: INFO log records).

    Example (tests/test_runner_api.py runs the same on a tiny spec)::

        from optuna_clank.run.runner import run_study
        from optuna_clank.spec import load_spec

        run = run_study(load_spec("studies/v2.toml"), n_trials=2, storage_url="sqlite:///v2.db")
        print(run.ended, run.after.complete, run.study.best_trial.params)
    """

    if progress not in PROGRESS:
        raise ValueError(f"progress must be one of {PROGRESS}, got {progress!r}")
    if worker and warm_start_from:
        raise ValueError("a worker joins a running study: it does not warm-start it")
    if warm_start_storage and not warm_start_from:
        raise ValueError("warm_start_storage needs warm_start_from")
    say = say or _LOG.info
    changes = {**(overrides or {})}
    for name, value in (("n_trials", n_trials), ("timeout", timeout), ("n_jobs", n_jobs)):
        if value is not None:
            changes[name] = value
    if storage_url is not None:
        changes["storage_url"] = storage_url
    spec = _as_its_file(spec, changes)
    warm_source = None if worker else _warm_start_source(spec, warm_start_from, warm_start_storage)
    url = storage_url_of(spec)
    study = open_study(spec, storage_url=url)
    if worker and url.startswith("sqlite"):
        _LOG.warning("a SQLite storage only works for workers on this machine; use PostgreSQL across machines")
    target = spec.study.n_trials
    if not worker:
        start_from_base(study, spec)
        if warm_source is not None:
            _apply_warm_start(study, spec, warm_source, warm_start_trials, say)
    before = count_trials(study)
    if before.finished >= target:
        return StudyRun(study, spec, url, before, before, RunEnding.ALREADY_DONE, 0.0)
    where = describe_storage(url)
    n_slots, slots_why = _slots(spec.parallel.n_jobs, say)
    opponents = ", ".join(short_name(o) for o in spec.benchmark.opponents)
    say(
        f"study {spec.name} on {where}: {before.finished} finished, target {target}, "
        f"{n_slots} slot(s), sampler {spec.sampler.name}, pruner {spec.pruner.name}, "
        f"{spec.benchmark.games_per_trial} games per trial vs {opponents}"
        + (f"; each trial starts {spec.snake.describe()}" if spec.snake.is_server else "")
    )
    for line in _study_kind_lines(spec):
        say(line)
    say(f"  {_in_flight_line(spec, n_slots, target - before.finished)}")
    if not worker:
        for line in base_range_notes(spec):  # never clipped silently
            say(line)

    run_index = begin_run(
        study,
        spec,
        role="worker" if worker else "optimize",
        slots=n_slots,
        slots_why=slots_why,
        llm=llm_state(spec, load_spec(spec.path)),
        target=target,
    )
    if not worker:
        write_study_note(study, spec)
    server = _bind_dashboard(dashboard, spec, url)  # a taken port stops us before any trial runs
    if before.running:
        say(
            f"  {before.running} trial(s) marked running: if their workers are gone, the heartbeat fails them after "
            f"{spec.storage.grace_period} s and they are queued again"
        )
    in_process = n_slots == 1 and spec.parallel.backend != "dask"
    workers = "the worker in this process" if in_process else f"{n_slots} worker process(es)"
    say(f"  starting {workers}: loading torch, the study and its sampler; a line follows when the first trial runs")
    control = RunControl()
    run_id = uuid.uuid4().hex[:12]
    restore = _take_interrupts(control)
    try:
        monitor = Monitor(
            spec,
            url,
            target=target,
            start=before.finished,
            bar=progress == "bar",
            log_lines=progress == "log",
            checkpoints=not worker,
            say=say,
        )
        deadline = time.time() + spec.study.timeout if spec.study.timeout else None
        plan = PoolPlan(
            spec_path=str(Path(spec.path).absolute()),
            storage_url=url,
            target=target,
            n_slots=n_slots,
            control_dir=str(control.folder),
            overrides={k: v for k, v in changes.items() if k != "storage_url"},
            deadline=deadline,
            backend=spec.parallel.backend,
            dask_scheduler=spec.parallel.dask_scheduler,
            log_level=logging.INFO if verbose else logging.WARNING,
            in_process=in_process,
            run_id=run_id,
        )
        if server is not None:
            say(f"optuna-dashboard: {server.url} (while this run lasts)")
            server.start()
        started = time.time()
        try:
            report = run_pool(plan, on_poll=monitor.poll)
        finally:
            if server is not None:
                server.stop()
        monitor.poll()
        monitor.close()
        after = count_trials(study)
        seconds = time.time() - started
    finally:
        restore()
    ended = _ending(control, after, target, deadline)
    used = sum(1 for slot in report.slots if slot.trials) if report.slots else None
    ran = trials_of_run(study, run_id)
    end_run(study, run_index, ended=ended.value, ran=ran, seconds=seconds, slots_used=used)
    if not worker:
        write_study_note(study, spec)  # with how the run ended
    return StudyRun(study, spec, url, before, after, ended, seconds, tuple(report.slots), ran)


def _as_its_file(spec: StudySpec, changes: dict[str, Any]) -> StudySpec:
    """``spec`` with ``changes``, refused unless its file says the same (the workers read the file)."""

    wanted = spec.with_overrides(**changes)
    if load_spec(spec.path).with_overrides(**changes) != wanted:
        raise UserError(
            f"{spec.path}: the spec differs from its file; the worker processes read the file, so pass "
            "changes to run_study as overrides (see optuna_clank.spec.OVERRIDES)"
        )
    return wanted


def _warm_start_source(spec: StudySpec, source: str | None, storage: str | None) -> tuple[str, str] | None:
    """The warm-start source study and its storage URL, checked before this study is created."""
    if not source:
        return None

    url = source_storage_url(spec, source, storage)
    load_source(source, url)  # a wrong name or storage stops us before anything is created
    return source, url


def _apply_warm_start(
    study: optuna.Study, spec: StudySpec, source: tuple[str, str], count: int | None, say: Callable[[str], None]
) -> None:
    """Seed the study once (see warm_start.py) and say what was taken."""

    done = warm_start(study, spec, source=source[0], source_url=source[1], count=count or DEFAULT_WARM_START_TRIALS)
    when = "seeded now" if done.seeded_now else "already seeded, not seeded again"
    say(f"{done.describe()}; {when}")


def _in_flight_line(spec: StudySpec, n_slots: int, remaining: int) -> str:
    """What each slot holds at once (:mod:`optuna_clank.run.in_flight`), for the run's opening lines."""

    device = "cuda:0" if visible_cuda_devices() else "cpu"
    return "in flight: " + plan_in_flight(spec, device, slots=n_slots, target=remaining).describe()


def _slots(n_jobs: int | str, say: Callable[[str], None]) -> tuple[int, str]:
    """The number of slots and why; ``auto`` is resolved here and the choice is said once."""
    if n_jobs != "auto":
        return int(n_jobs), f"n_jobs = {n_jobs}"

    count, why = auto_n_jobs()
    say(f"n_jobs auto: {count} slot(s), {why}")
    return count, f"n_jobs auto: {why}"


def _study_kind_lines(spec: StudySpec) -> list[str]:
    """Whether the study is a tournament or multi-objective, and that the latter prunes nothing."""

    lines = []
    if is_tournament(spec.benchmark):
        tour = Tournament.of(spec.benchmark)
        weights = ", ".join(f"{short_name(o)} {w:g}" for o, w in zip(tour.opponents, tour.weights, strict=True))
        lines.append(
            f"tournament: the same {tour.games} games against each opponent ({tour.steps} per trial); "
            f"value = weighted mean (weights {weights})"
        )
    if len(spec.study.objectives) > 1:
        goals = ", ".join(f"{d} {o}" for d, o in zip(spec.study.directions, spec.study.objectives, strict=True))
        lines.append(f"multi-objective: {goals}; {MULTI_OBJECTIVE_PRUNING}")
    return lines


def _bind_dashboard(where: tuple[str, int] | None, spec: StudySpec, url: str) -> DashboardServer | None:
    """optuna-dashboard bound to its port, to be served in a thread during the run."""
    if where is None:
        return None

    host, port = where
    if not 0 <= port <= 65535:
        raise UserError(f"--dashboard-port must be a port number 0..65535, got {port}")
    return DashboardServer(url, artifact_dir(spec.name), host=host, port=port)


def _take_interrupts(control: RunControl) -> Callable[[], None]:
    """Ctrl-C handlers for this run (main thread only); returns what puts the previous ones back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    control.install_interrupt_handler()

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def _ending(control: RunControl, after: TrialCounts, target: int, deadline: float | None) -> RunEnding:
    if control.abort_requested():
        return RunEnding.ABORTED
    if control.stop_requested():
        return RunEnding.STOPPED
    if after.finished >= target:
        return RunEnding.TARGET_REACHED
    if deadline is not None and time.time() >= deadline:
        return RunEnding.TIMEOUT
    return RunEnding.SLOTS_STOPPED
