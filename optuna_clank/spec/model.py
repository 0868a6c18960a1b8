"""The parts of a study spec: one frozen dataclass per TOML section, and the spec's one error.

They live apart from the readers that fill them and from :class:`~optuna_clank.spec.assembly.StudySpec`
that holds them, so every reader, the override options and the code that only reads a spec
name the same small vocabulary without pulling in how a file is checked. A field's ``metadata``
says whether the command line may override it (see :data:`optuna_clank.spec.overrides.OVERRIDES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from optuna_clank.arena.bounds import Mode
from optuna_clank.core.errors import UserError

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

__all__ = [
    "DIRECTIONS",
    "MAX_SEED",
    "OBJECTIVES",
    "SECTION_CLASSES",
    "BenchmarkSpec",
    "CheckpointSpec",
    "ParallelSpec",
    "ParamSpec",
    "PrunerSpec",
    "SamplerSpec",
    "SpecError",
    "StorageSpec",
    "StudySection",
    "ValidationSpec",
]

DIRECTIONS = ("maximize", "minimize")
OBJECTIVES = ("score", "win_rate", "survival", "avg_turns")
MAX_SEED = 2**63 - 1
DEFAULT_ROUND_SIZE = 10


class SpecError(UserError, ValueError):
    """A spec that cannot be used; ``str(err)`` is one line: ``<file>: <where> <what>``."""

    def __init__(self, message: str) -> None:
        # One line, always: CLI output and logs show it whole, and tests can match it.
        super().__init__(" ".join(str(message).split()))


class SpecProblem(Exception):
    """A spec problem without its file name, which the caller adds."""


def fail(where: str, what: str) -> NoReturn:
    """Raise :class:`SpecProblem` as ``<where> <what>`` (``where`` like ``[study] name:``)."""
    raise SpecProblem(f"{where} {what}" if where else what)


# --------------------------------------------------------------------------- field metadata

OPTION = "override option"
"""Field metadata key: the override option that replaces this key (empty: the key's own name)."""


def _cli(option: str) -> dict[str, str]:
    """Field metadata: the command line may override this key as ``option`` (see ``OVERRIDES``)."""
    return {OPTION: option}


_CLI = _cli("")
"""Field metadata: the command line may override this key under the key's own name."""


# --------------------------------------------------------------------------- the sections


@dataclass(frozen=True)
class ParamSpec:
    """One tuned parameter: its search range, scale and type (within params.py's bounds).

    ``step`` (server snakes only) makes the values a grid ``low, low + step, ...``.
    """

    name: str
    low: float
    high: float
    log: bool
    is_int: bool
    step: float | None = None

    def distribution(self) -> BaseDistribution:
        """The Optuna distribution the sampler draws this parameter from."""
        from optuna.distributions import FloatDistribution, IntDistribution  # noqa: PLC0415 - deferred: loads optuna

        if self.is_int:
            return IntDistribution(int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        return FloatDistribution(float(self.low), float(self.high), log=self.log, step=self.step)


@dataclass(frozen=True)
class StudySection:
    """``[study]``: the study's name, what it optimises and for how long."""

    name: str
    description: str = ""
    directions: tuple[str, ...] = ("maximize",)
    objectives: tuple[str, ...] = ("score",)
    n_trials: int = field(default=200, metadata=_CLI)
    timeout: float = field(default=0.0, metadata=_CLI)


@dataclass(frozen=True)
class BenchmarkSpec:
    """``[benchmark]``: the games every trial plays (the same seeds for every trial)."""

    opponents: tuple[str, ...] = field(default=("baseline",), metadata=_CLI)
    opponent_weights: tuple[float, ...] = field(default=(), metadata=_CLI)
    """Weights of a tournament's opponents (duel, several opponents); empty: equal weights."""
    mode: Mode = field(default="duel", metadata=_CLI)
    games_per_trial: int = field(default=30, metadata=_CLI)
    round_size: int = field(default=DEFAULT_ROUND_SIZE, metadata=_CLI)
    board_size: tuple[int, int] = field(default=(11, 11), metadata=_CLI)
    seed: int = field(default=20261125, metadata=_CLI)
    max_turns: int = field(default=1000, metadata=_CLI)
    base_config: Path | None = field(default=None, metadata=_CLI)
    max_faults: int = 0
    """Faulty server answers (the tuned snake's, or one opponent's) a trial or validation record may
    hold and still count as a measurement of its config (see :mod:`optuna_clank.arena.served.faults`)."""


@dataclass(frozen=True)
class SamplerSpec:
    """``[sampler]``: which sampler proposes trials and what the clank sampler may use."""

    name: str = field(default="clank", metadata=_cli("sampler_name"))
    seed: int | None = field(default=None, metadata=_cli("sampler_seed"))
    n_startup_trials: int = 10
    use_llm: bool = field(default=True, metadata=_CLI)
    llm_models: tuple[str, ...] = field(default=("openai/gpt-4o-mini",), metadata=_CLI)
    llm_api_base: str = field(default="", metadata=_CLI)
    llm_timeout: float = field(default=60.0, metadata=_CLI)
    use_neural_net: bool = field(default=True, metadata=_CLI)
    fallback_share: float = field(default=0.2, metadata=_CLI)
    min_distance: float = field(default=0.02, metadata=_CLI)
    # off: the quick race (bench/race.py --crossover) did not show a gain
    crossover_share: float = field(default=0.0, metadata=_CLI)
    crossover_kind: str = "blend"


@dataclass(frozen=True)
class PrunerSpec:
    """``[pruner]``: when a trial that is clearly worse stops playing."""

    name: str = field(default="wilcoxon", metadata=_cli("pruner_name"))
    p_threshold: float = field(default=0.1, metadata=_CLI)
    n_startup_steps: int = 10
    n_startup_trials: int = 5


@dataclass(frozen=True)
class ParallelSpec:
    """``[parallel]``: how many trials run at once, and on what."""

    # "auto": one slot per GPU, else one per CPU core (devices.auto_n_jobs)
    n_jobs: int | str = field(default="auto", metadata=_CLI)
    # "auto": as many as fill the device's batch (see optuna_clank.run.in_flight); 1: a trial at a time
    trials_in_flight: int | str = field(default="auto", metadata=_CLI)
    backend: str = field(default="loky", metadata=_CLI)
    dask_scheduler: str = field(default="", metadata=_CLI)


@dataclass(frozen=True)
class StorageSpec:
    """``[storage]``: where the study lives and how dead workers' trials are detected."""

    url: str = field(default="", metadata=_cli("storage_url"))
    heartbeat_interval: int = field(default=10, metadata=_CLI)
    grace_period: int = field(default=30, metadata=_CLI)
    max_retry: int = field(default=3, metadata=_CLI)


@dataclass(frozen=True)
class CheckpointSpec:
    """``[checkpoint]``: how often the best config so far is exported."""

    interval: int = field(default=10, metadata=_cli("checkpoint_interval"))


@dataclass(frozen=True)
class ValidationSpec:
    """``[validation]``: re-playing the best trials on fresh seeds before trusting them."""

    top: int = field(default=3, metadata=_cli("validation_top"))
    games: int = field(default=1000, metadata=_cli("validation_games"))
    seed: int = field(default=0, metadata=_cli("validation_seed"))
    # family-wise error level of "better than the base" over the --top trials
    alpha: float = field(default=0.05, metadata=_cli("validation_alpha"))


SECTION_CLASSES: dict[str, type[Any]] = {
    "study": StudySection,
    "benchmark": BenchmarkSpec,
    "sampler": SamplerSpec,
    "pruner": PrunerSpec,
    "parallel": ParallelSpec,
    "storage": StorageSpec,
    "checkpoint": CheckpointSpec,
    "validation": ValidationSpec,
}
"""Section -> its dataclass, in file order, for the sections whose keys are exactly that dataclass's
fields (``[search_space]`` and ``[snake]`` have readers of their own). :class:`StudySpec` holds one
field per section under the same name; a new section is added here and there."""
