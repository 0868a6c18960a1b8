"""Torch devices: checking a user's choice, and mapping pool slots onto GPUs.

The visible GPUs are counted *without initialising CUDA* (``CUDA_VISIBLE_DEVICES`` and
``torch.cuda.device_count`` both work before any kernel runs), so a worker can learn its
device before torch touches the GPU, and the mapping can be tested with a faked environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from optuna_clank.core.errors import UserError


def check_device(name: str | torch.device) -> torch.device:
    """A usable torch device for ``name`` or a :class:`UserError` saying why not."""
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise UserError(f"unknown device {str(name)!r} (use cpu, cuda or cuda:N)") from exc
    if device.type == "cuda":
        count = visible_cuda_devices()
        if count == 0:
            raise UserError(f"device {str(name)!r}: no CUDA device is visible on this machine")
        if device.index is not None and device.index >= count:
            raise UserError(f"device {str(name)!r}: only {count} CUDA device(s) visible (cuda:0..cuda:{count - 1})")
    elif device.type != "cpu":
        raise UserError(f"device {str(name)!r}: only cpu and cuda devices are supported")
    return device


def visible_cuda_devices(environ: dict[str, str] | None = None) -> int:
    """Number of CUDA devices this process may use.

    By default torch is asked (it honours ``CUDA_VISIBLE_DEVICES`` and does not create a CUDA
    context to count). With ``environ`` given, the count is read from its
    ``CUDA_VISIBLE_DEVICES`` alone, as CUDA would: entries up to the first negative one; this
    is how the slot mapping is planned and tested on machines without GPUs.
    """
    if environ is None:
        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    listed = environ.get("CUDA_VISIBLE_DEVICES")
    if listed is None:
        return 0
    count = 0
    for entry in (e.strip() for e in listed.split(",")):
        if not entry or entry.startswith("-"):
            break
        count += 1
    return count


def usable_cpus() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. under taskset or a container)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def auto_n_jobs(*, cuda_devices: int | None = None, cpus: int | None = None) -> tuple[int, str]:
    """How many slots ``n_jobs = "auto"`` means here, and why (for the line that says so).

    One per visible GPU. Without GPUs, one per usable core: each worker is a process with one
    torch thread (optuna_clank.core.threads), and more workers than cores only take turns; the
    pool benchmark on 2 cores gave 1.81x with 2 workers and 1.47x with 4 (README).
    """
    gpus = visible_cuda_devices() if cuda_devices is None else cuda_devices
    if gpus > 0:
        return gpus, f"one per visible GPU ({gpus})"
    cores = usable_cpus() if cpus is None else cpus
    return max(1, cores), f"no GPU visible: one per usable CPU core ({cores})"


@dataclass(frozen=True)
class Slot:
    """One place in the pool: its number and the device its trials run on."""

    index: int
    device: str
    shared: bool  # True when more slots than devices: several slots take turns on one GPU


def slot_for(index: int, *, n_slots: int, cuda_devices: int) -> Slot:
    """Slot ``index`` of ``n_slots``: ``cuda:(index mod G)`` with G visible GPUs, else ``cpu``."""
    if cuda_devices <= 0:
        return Slot(index=index, device="cpu", shared=False)
    return Slot(index=index, device=f"cuda:{index % cuda_devices}", shared=n_slots > cuda_devices)
