"""The GPU-slot pool: N trial workers at once, each on its own device, on joblib.

Slot ``k`` runs its trials on ``cuda:(k mod G)`` when G GPUs are visible, else on the CPU
(then each worker gets ``cores / N`` torch threads). Each slot is one joblib task that
*supervises* a worker process (:mod:`optuna_clank.run.worker`) running the slot's trial loop:
a worker killed mid-trial (``kill -9``, out of memory) takes nothing else down — joblib's
process pool would tear every worker down with it — its trial fails by heartbeat and is
retried, and the supervisor starts a fresh worker for the slot. joblib's backend decides
where supervisors live: ``loky`` (processes, default), ``threading``, or ``dask`` (the
workers of a Dask cluster, each on its own machine; the study then needs PostgreSQL).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optuna_clank.core.control import RunControl, StopReason
from optuna_clank.core.devices import Slot, slot_for, visible_cuda_devices
from optuna_clank.core.extras import require
from optuna_clank.run.worker import PLAN_ENV_VAR, SlotPlan, SlotReport, prepare_process, run_slot

_LOG = logging.getLogger("optuna_clank.run.pool")
_MAX_RESTARTS = 5
"""Worker processes a slot may lose (killed, crashed) before the slot gives up."""


@dataclass(frozen=True)
class PoolPlan:
    """A run of the pool: which study, how many slots, until when."""

    spec_path: str
    storage_url: str
    target: int
    n_slots: int
    control_dir: str
    overrides: dict[str, Any] = field(default_factory=dict)
    deadline: float | None = None
    backend: str = "loky"
    dask_scheduler: str = ""
    cuda_devices: int | None = None  # None: count the visible GPUs
    log_level: int = logging.WARNING
    in_process: bool = False  # run a single slot in this process (no supervisor, no child)
    run_id: str = ""  # recorded on each trial the run's slots play


@dataclass
class PoolReport:
    """What the slots did."""

    slots: list[SlotReport]
    restarts: dict[int, int] = field(default_factory=dict)


def plan_slots(n_slots: int, cuda_devices: int) -> list[Slot]:
    """The slots of a pool of ``n_slots`` workers on a machine with ``cuda_devices`` GPUs."""
    slots = [slot_for(k, n_slots=n_slots, cuda_devices=cuda_devices) for k in range(n_slots)]
    if slots and slots[0].shared:
        _LOG.warning("%d workers on %d GPU(s): several workers take turns on each device", n_slots, cuda_devices)
    cores = os.cpu_count() or 1
    if cuda_devices == 0 and n_slots > cores:
        _LOG.warning(
            "%d workers share %d CPU core(s): each trial runs slower; --n-jobs %d is usually fastest here",
            n_slots,
            cores,
            cores,
        )
    return slots


def run_pool(plan: PoolPlan, *, on_poll: Callable[[], None] | None = None, poll_seconds: float = 2.0) -> PoolReport:
    """Run the pool until the study has ``plan.target`` finished trials, a stop, or the deadline.

    ``on_poll`` is called every ``poll_seconds`` from a monitor thread (progress, checkpoints).
    """
    cuda = visible_cuda_devices() if plan.cuda_devices is None else plan.cuda_devices
    slots = plan_slots(plan.n_slots, cuda)
    slot_plans = [
        SlotPlan(
            spec_path=plan.spec_path,
            storage_url=plan.storage_url,
            target=plan.target,
            slot=slot.index,
            n_slots=plan.n_slots,
            device=slot.device,
            control_dir=plan.control_dir,
            overrides=plan.overrides,
            deadline=plan.deadline,
            log_level=plan.log_level,
            run_id=plan.run_id,
        )
        for slot in slots
    ]
    done = threading.Event()
    monitor = threading.Thread(target=_monitor, args=(done, on_poll, poll_seconds), daemon=True)
    monitor.start()
    try:
        if plan.in_process and plan.n_slots == 1:
            prepare_process(slot_plans[0])
            results = [(run_slot(slot_plans[0]), 0)]
        else:
            results = _run_supervisors(plan, slot_plans)
    finally:
        done.set()
        monitor.join()
    return PoolReport(slots=[r for r, _ in results], restarts={r.slot: n for r, n in results if n})


def _monitor(done: threading.Event, on_poll: Callable[[], None] | None, poll_seconds: float) -> None:
    while on_poll is not None:
        try:
            on_poll()
        except Exception as exc:  # a progress display must never stop the run
            _LOG.warning("progress update failed: %s", exc)
        if done.wait(poll_seconds):
            break


def _run_supervisors(plan: PoolPlan, slot_plans: list[SlotPlan]) -> list[tuple[SlotReport, int]]:
    from joblib import Parallel, delayed, parallel_config  # noqa: PLC0415 - deferred: loads joblib

    backend = plan.backend
    tasks = (delayed(supervise_slot)(slot_plan) for slot_plan in slot_plans)
    if backend == "dask":
        distributed = require("dask", "the dask backend")
        logging.getLogger("distributed").setLevel(max(plan.log_level, logging.WARNING))
        # No address: a local cluster, handy to try the backend on one machine.
        if plan.dask_scheduler:
            client = distributed.Client(plan.dask_scheduler)
        else:
            client = distributed.Client(processes=True, n_workers=len(slot_plans), silence_logs=logging.WARNING)
        with client, parallel_config(backend="dask", n_jobs=len(slot_plans)):
            return Parallel()(tasks)
    return Parallel(n_jobs=len(slot_plans), backend=backend)(tasks)


def supervise_slot(plan: SlotPlan) -> tuple[SlotReport, int]:
    """Keep one worker process running for the slot until it finishes; returns its report."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the workers' and parent's business
    control = RunControl(plan.control_dir)
    restarts = 0
    while True:
        started = time.time()
        # The plan (with the storage URL and its password) goes by environment, never on the
        # command line, which every user of the machine can read in the process table.
        environment = {**os.environ, PLAN_ENV_VAR: plan.to_json()}
        process = subprocess.Popen([sys.executable, "-m", "optuna_clank.run.worker"], env=environment)
        code = process.wait()
        if code == 0:
            return _read_report(plan, process.pid), restarts
        if code == 2 or control.stop_requested():
            report = SlotReport(slot=plan.slot, device=plan.device, stopped=f"worker exited with status {code}")
            return report, restarts
        restarts += 1
        how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
        _LOG.error("slot %d (%s): worker process %d %s; starting a new one", plan.slot, plan.device, process.pid, how)
        if restarts > _MAX_RESTARTS:
            report = SlotReport(slot=plan.slot, device=plan.device, stopped=f"gave up after {restarts} lost workers")
            return report, restarts
        if time.time() - started < 1.0:
            time.sleep(1.0)  # do not spin on a worker that dies at start


def _read_report(plan: SlotPlan, pid: int) -> SlotReport:
    path = Path(plan.control_dir) / f"slot-{plan.slot}-{pid}.json"
    try:
        return SlotReport(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return SlotReport(slot=plan.slot, device=plan.device, stopped=StopReason.NO_REPORT)
