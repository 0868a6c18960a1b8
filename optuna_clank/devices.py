"""Torch devices: checking a user's choice, and mapping pool slots onto GPUs.

The visible GPUs are counted *without initialising CUDA* (``CUDA_VISIBLE_DEVICES`` and
``torch.cuda.device_count`` both work before any kernel runs), so a worker can learn its
device before torch touches the GPU, and the mapping can be tested with a faked environment.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from optuna_clank.errors import UserError


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
