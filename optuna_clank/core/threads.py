"""How many threads torch may use for the arena on the CPU: one per process, unless told otherwise.

The arena's tensors are small (a batch of boards), so torch's intra-op threads buy little
when the machine is idle and cost everything when it is not: a thread that waits for a
core that another process holds makes the others spin at every one of the ~80 operations
of a turn. Measured on a 2-core machine (``play --games 2048``): 415 games/s idle with 2
threads, 3.8 games/s with 2 threads while another process used a core, 258 games/s with
1 thread under the same load. One thread per process is the choice that degrades
gracefully; a pool of N workers is N processes of one thread each.

``OPTUNA_CLANK_TORCH_THREADS`` overrides it (a dedicated machine may gain from more).
"""

from __future__ import annotations

import contextlib
import logging
import os

from optuna_clank.core.errors import UserError

THREADS_ENV_VAR = "OPTUNA_CLANK_TORCH_THREADS"
DEFAULT_THREADS = 1

_LOG = logging.getLogger("optuna_clank")


def torch_threads(environ: dict[str, str] | None = None) -> int:
    """Intra-op threads for one arena process: ``$OPTUNA_CLANK_TORCH_THREADS`` or 1."""
    env = os.environ if environ is None else environ
    text = env.get(THREADS_ENV_VAR, "").strip()
    if not text:
        return DEFAULT_THREADS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UserError(f"{THREADS_ENV_VAR} must be a positive integer, got {text[:40]!r}")
    return value


def configure_torch_threads(threads: int | None = None) -> int:
    """Set torch's intra-op (and, when still possible, inter-op) threads for this process.

    Call it before the arena runs: in ``play``, ``validate``, every pool worker and the
    benches. Returns the number set.
    """
    import torch  # noqa: PLC0415 - deferred: loads torch

    count = torch_threads() if threads is None else threads
    torch.set_num_threads(count)
    with contextlib.suppress(RuntimeError):  # settable once, before any parallel work; intra-op is what counts
        torch.set_num_interop_threads(count)
    _LOG.debug("torch uses %d CPU thread(s) in this process", count)
    return count
