"""One slot's trial loop: run trials on one device until the study has enough of them.

Every worker of every machine runs this loop against the shared storage. It stops when the
study holds ``target`` finished trials; while the remaining trials are all running elsewhere
it waits (one of them may die and come back as a retry) instead of starting surplus ones,
so the study ends with exactly the number of finished trials that was asked for.

Run as ``python -m optuna_clank.run.worker`` by the pool's supervisors, so that a worker killed
with ``kill -9`` takes nothing else down. The plan comes in the environment variable
``OPTUNA_CLANK_WORKER_PLAN`` (or as the one argument): it holds the storage URL, whose
password must not show in the process table.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import optuna

from optuna_clank.core.attributes import DEVICE_KEY, HOST_KEY, RUN_KEY, SLOT_KEY, TORCH_THREADS_KEY, WORKER_PID_KEY
from optuna_clank.core.control import RunControl, StopReason
from optuna_clank.core.errors import UserError
from optuna_clank.core.optuna_private import quiet_experimental
from optuna_clank.core.threads import configure_torch_threads
from optuna_clank.spec import load_spec
from optuna_clank.study.counts import count_trials, trials_ahead

_LOG = logging.getLogger("optuna_clank.run.worker")
_MAX_CONSECUTIVE_ERRORS = 5
_MAX_POLL_SECONDS = 2.0
PLAN_ENV_VAR = "OPTUNA_CLANK_WORKER_PLAN"
"""Environment variable that carries a worker's :class:`SlotPlan` as JSON."""


@dataclass(frozen=True)
class SlotPlan:
    """Everything a slot's process needs, JSON-serialisable."""

    spec_path: str
    storage_url: str
    target: int
    slot: int
    n_slots: int
    device: str
    control_dir: str
    overrides: dict[str, Any] = field(default_factory=dict)
    deadline: float | None = None  # epoch seconds after which no new trial starts
    log_level: int = logging.WARNING
    run_id: str = ""  # recorded on each trial (RUN_KEY): the run's own trials, among other processes'

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> SlotPlan:
        return SlotPlan(**json.loads(text))


@dataclass
class SlotReport:
    """What one slot did in this run."""

    slot: int
    device: str
    trials: int = 0
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str = ""  # a StopReason, or a message for a stop that needs one

    def save(self, control_dir: str) -> None:
        path = Path(control_dir) / f"slot-{self.slot}-{os.getpid()}.json"
        path.write_text(json.dumps(asdict(self)))


def prepare_process(plan: SlotPlan) -> None:
    """Per-process setup: device first (before torch touches CUDA), threads, logging."""
    import torch  # noqa: PLC0415 - deferred: loads torch

    if plan.device.startswith("cuda"):
        torch.cuda.set_device(torch.device(plan.device))
    configure_torch_threads()  # one thread per worker process: see optuna_clank.core.threads
    logging.basicConfig(
        level=plan.log_level, format=f"%(asctime)s slot {plan.slot} %(levelname)s %(name)s: %(message)s"
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING if plan.log_level <= logging.INFO else optuna.logging.ERROR)


def run_slot(plan: SlotPlan) -> SlotReport:
    """The trial loop of one slot (see the module docstring), run by each of its trials in flight.

    With several trials in flight (:mod:`optuna_clank.run.in_flight`) the slot runs the loop in as
    many threads, each asking the study for its next trial, all playing their rounds in one shared
    batch (:class:`~optuna_clank.arena.batch_service.BatchService`).
    """
    from optuna_clank.arena.batch_service import BatchService  # noqa: PLC0415 - deferred: loads torch
    from optuna_clank.run.in_flight import plan_in_flight  # noqa: PLC0415 - deferred: loads torch
    from optuna_clank.study.opening import open_study  # noqa: PLC0415 - deferred: loads sqlalchemy
    from optuna_clank.trial.objective import ArenaObjective  # noqa: PLC0415 - deferred: loads torch

    control = RunControl(plan.control_dir)
    spec = load_spec(plan.spec_path).with_overrides(**plan.overrides)
    study = open_study(spec, storage_url=plan.storage_url)
    report = SlotReport(slot=plan.slot, device=plan.device)
    remaining = max(1, plan.target - count_trials(study).finished)
    in_flight = plan_in_flight(spec, plan.device, slots=plan.n_slots, target=remaining)
    batch = (
        BatchService(
            board_size=spec.benchmark.board_size,
            max_turns=spec.benchmark.max_turns,
            device=plan.device,
            batch_size=in_flight.rows,
        )
        if in_flight.shared
        else None
    )
    objective = ArenaObjective(
        spec,
        device=plan.device,
        attrs={
            SLOT_KEY: plan.slot,
            DEVICE_KEY: plan.device,
            WORKER_PID_KEY: os.getpid(),
            HOST_KEY: os.uname().nodename,
            TORCH_THREADS_KEY: _torch_threads_now(),
            **({RUN_KEY: plan.run_id} if plan.run_id else {}),
        },
        should_abort=control.abort_requested,
        claim=lambda trial: trials_ahead(study, trial.number) < plan.target,
        batch=batch,
        rounds_ahead=in_flight.rounds_ahead,
    )
    loop = _SlotLoop(plan, spec=spec, study=study, objective=objective, control=control, report=report)
    try:
        if in_flight.trials == 1:
            loop.run()
        else:
            threads = [
                threading.Thread(target=loop.run, name=f"slot-{plan.slot}-trial-{k}", daemon=True)
                for k in range(in_flight.trials)
            ]
            first_number = len(study.trials)
            for index, thread in enumerate(threads):
                thread.start()
                if index == 0:  # the first trial (the base config's, on a new study) is asked alone
                    _wait_for_trial(study, first_number, timeout=10.0)
                time.sleep(0.05)  # staggered: the first trials' samplers see the earlier ones running
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)  # a timed join: the main thread stays free for Ctrl-C
    finally:
        if batch is not None:
            batch.close()
    return report


def _wait_for_trial(study: optuna.Study, number: int, *, timeout: float) -> None:
    """Until trial ``number`` holds its parameters (or ``timeout`` seconds): its sampler has proposed it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        trials = study.get_trials(deepcopy=False)
        if len(trials) > number and (trials[number].params or trials[number].state.is_finished()):
            return
        time.sleep(0.05)


class _SlotLoop:
    """One slot's trial loop, shared by the slot's threads: a stop, an abort or too many failed
    trials in a row (counted over all of them) ends every thread's loop."""

    def __init__(
        self,
        plan: SlotPlan,
        *,
        spec: Any,
        study: optuna.Study,
        objective: Any,
        control: RunControl,
        report: SlotReport,
    ) -> None:
        self.plan = plan
        self.spec = spec
        self.study = study
        self.objective = objective
        self.control = control
        self.report = report
        self.lock = threading.Lock()
        self.errors_in_a_row = 0
        self.poll = min(_MAX_POLL_SECONDS, float(spec.storage.heartbeat_interval))

    def stop(self, reason: str) -> None:
        with self.lock:
            if not self.report.stopped:
                self.report.stopped = reason

    def run(self) -> None:
        from optuna_clank.study.opening import queue_again  # noqa: PLC0415 - deferred: loads sqlalchemy
        from optuna_clank.trial.objective import SurplusTrial, TrialAborted  # noqa: PLC0415 - deferred: loads torch

        plan, study = self.plan, self.study
        while not self.report.stopped:
            if self.control.stop_requested():
                self.stop(StopReason.STOP_REQUESTED)
                break
            if plan.deadline is not None and time.time() >= plan.deadline:
                self.stop(StopReason.TIMEOUT)
                break
            counts = count_trials(study)
            if counts.finished >= plan.target:
                self.stop(StopReason.TARGET_REACHED)
                break
            if counts.waiting == 0 and counts.finished + counts.running >= plan.target:
                # Every remaining trial is running somewhere; one may die and return as a retry.
                with quiet_experimental():
                    optuna.storages.fail_stale_trials(study)
                time.sleep(self.poll)
                continue
            try:
                study.optimize(self.objective, n_trials=1, gc_after_trial=False, show_progress_bar=False)
                with self.lock:
                    self.errors_in_a_row = 0
            except SurplusTrial:
                continue
            except TrialAborted as exc:
                retry = queue_again(study, exc.trial_number, max_retry=self.spec.storage.max_retry)
                _LOG.warning(
                    "slot %d: trial %d stopped by the user; %s",
                    plan.slot,
                    exc.trial_number,
                    f"queued again as trial {retry}" if retry is not None else "retried too often, not queued again",
                )
                self.stop(StopReason.ABORTED)
                break
            except Exception as exc:  # a failing trial must not take the slot down
                message = f"{type(exc).__name__}: {exc}"
                _LOG.error("slot %d (%s): trial failed: %s", plan.slot, plan.device, message)
                with self.lock:
                    self.errors_in_a_row += 1
                    self.report.errors.append(message)
                    failed = self.errors_in_a_row
                if failed >= _MAX_CONSECUTIVE_ERRORS:
                    self.stop(f"{failed} failed trials in a row")
                    break
            finally:
                with self.lock:
                    _tally(study, self.report)


def _torch_threads_now() -> int:
    import torch  # noqa: PLC0415 - deferred: loads torch

    return torch.get_num_threads()


def _tally(study: optuna.Study, report: SlotReport) -> None:
    """Count this process's last trial by its final state."""
    trials = study.get_trials(deepcopy=False)
    mine = [t for t in trials if t.user_attrs.get(WORKER_PID_KEY) == os.getpid() and t.state.is_finished()]
    states = [t.state for t in mine]
    report.trials = len(mine)
    report.complete = states.count(optuna.trial.TrialState.COMPLETE)
    report.pruned = states.count(optuna.trial.TrialState.PRUNED)
    report.failed = states.count(optuna.trial.TrialState.FAIL)


def main(argv: list[str] | None = None) -> int:
    """Entry point of a slot process: ``python -m optuna_clank.run.worker [PLAN_JSON]``."""

    args = sys.argv[1:] if argv is None else argv
    text = args[0] if args else os.environ.pop(PLAN_ENV_VAR, "")
    if not text:
        print(f"error: no worker plan: set {PLAN_ENV_VAR} (the pool does)", file=sys.stderr)
        return 2
    plan = SlotPlan.from_json(text)
    prepare_process(plan)
    RunControl(plan.control_dir).install_interrupt_handler(quiet=True)
    try:
        report = run_slot(plan)
    except UserError as exc:
        print(f"error: slot {plan.slot}: {exc}", file=sys.stderr)
        return 2
    report.save(plan.control_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
