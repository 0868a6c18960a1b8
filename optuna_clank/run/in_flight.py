"""How many trials a slot plays at once, and how many rounds each queues ahead: enough to fill a batch.

The engine's speed grows with its batch (on one CPU core, gbc vs baseline: 15 games/s at a batch of
20, 59 at 160, 116 at 640; ``python bench/throughput.py``), while a trial plays one round (10-40
games) between two pruning checks. So a slot keeps ``trials`` trials in flight, each with its
current round and up to ``rounds_ahead`` next rounds queued, all in one continuous batch of
``rows`` games (:mod:`optuna_clank.arena.batch_service`). Queuing ahead fills the batch with fewer
trials in flight (the sampler sees more finished trials before it proposes the next); a pruned
trial's queued rounds are dropped, and only the games already running are spent for nothing.

A tuned snake served over HTTP (one server process per trial) or an opponent server plays as
before: one trial at a time per slot, a round per batch, the server's own speed being the limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from optuna_clank.arena.served.faults import servers_involved
from optuna_clank.trial.tournament import Tournament, is_tournament

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec

CPU_ROWS = 1024
"""Games in flight per CPU slot. Fewer run at once: a trial's finished games wait for its round's
longest one. One slot of the main study, in flight 5 vs 16: 235 vs 750 rows running on average,
59 vs 84 games/s."""
CUDA_ROWS = 4096
"""Games at once per GPU slot (not measured on a GPU yet: bench/device_check.sh measures it)."""
MAX_TRIALS_IN_FLIGHT = 16
"""Most trials one slot holds at once (also at most a quarter of its share of the remaining trials)."""
MAX_ROUNDS_AHEAD = 2
SHARE_IN_FLIGHT = 4
"""A slot holds at most 1/4 of its share of the remaining trials at once (see :func:`plan_in_flight`)."""


@dataclass(frozen=True)
class InFlight:
    """A slot's plan: ``trials`` at once, each queueing ``rounds_ahead`` rounds beyond the one it
    waits for, in a batch of ``rows`` games; ``shared`` False: the old way (one trial, a round per batch)."""

    trials: int
    rounds_ahead: int
    rows: int
    shared: bool

    def describe(self) -> str:
        if not self.shared:
            return "1 trial at a time (a served snake plays at its own speed)"
        ahead = f", {self.rounds_ahead} round(s) queued ahead" if self.rounds_ahead else ""
        return f"{self.trials} trial(s) in flight per slot in one batch of up to {self.rows} games{ahead}"


def plan_in_flight(spec: StudySpec, device: str, *, slots: int = 1, target: int | None = None) -> InFlight:
    """The in-flight plan of a slot on ``device`` for this spec (``[parallel] trials_in_flight``),
    one of ``slots`` sharing ``target`` remaining trials (default: the spec's ``n_trials``).

    A slot holds at most a quarter of its share of the remaining trials at once (at least one), so
    that most trials are proposed knowing most of the earlier ones: a study of 8 trials run 8 at a
    time would be all blind guesses. An explicit ``trials_in_flight`` is taken as it is."""
    bench = spec.benchmark
    if servers_involved(spec.snake.is_server, bench.opponents):
        return InFlight(trials=1, rounds_ahead=0, rows=bench.round_size, shared=False)

    steps = Tournament.of(bench).steps if is_tournament(bench) else bench.games_per_trial
    round_size = min(bench.round_size, steps)
    rounds = math.ceil(steps / round_size)
    ahead = min(MAX_ROUNDS_AHEAD, rounds - 1)
    rows = CUDA_ROWS if device.startswith("cuda") else CPU_ROWS
    wanted = spec.parallel.trials_in_flight
    if wanted == "auto":
        trials = max(1, min(MAX_TRIALS_IN_FLIGHT, math.ceil(rows / ((ahead + 1) * round_size))))
        share = (target if target is not None else spec.study.n_trials) / max(1, slots)
        trials = max(1, min(trials, math.ceil(share / SHARE_IN_FLIGHT)))
    else:
        trials = int(wanted)
    return InFlight(trials=trials, rounds_ahead=ahead, rows=max(rows, trials * (ahead + 1) * round_size), shared=True)
