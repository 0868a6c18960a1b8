"""The whole spec: :class:`StudySpec`, put together from its sections and checked across them.

The sections are read one by one (:mod:`optuna_clank.spec.readers`,
:mod:`optuna_clank.spec.search_space`); what only holds between sections (one pruner for several
objectives, validation seeds apart from the benchmark's, a server snake's keys in its YAML) is
checked here. :meth:`StudySpec.with_overrides` lives here too, because it turns the spec back into
TOML data and builds it again the same way, so the class sits above everything that reads it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.served.bot_spec import SnakeConfigError, SnakeSpec, load_base_config, with_dotted_values
from optuna_clank.spec.model import (
    SECTION_CLASSES,
    BenchmarkSpec,
    CheckpointSpec,
    ParallelSpec,
    ParamSpec,
    PrunerSpec,
    SamplerSpec,
    SpecError,
    SpecProblem,
    StorageSpec,
    StudySection,
    ValidationSpec,
    fail,
)
from optuna_clank.spec.overrides import apply_overrides, shown_overrides
from optuna_clank.spec.readers import (
    read_benchmark,
    read_checkpoint,
    read_parallel,
    read_pruner,
    read_sampler,
    read_snake,
    read_storage,
    read_study,
    read_validation,
)
from optuna_clank.spec.search_space import read_gbc_search_space, read_search_space
from optuna_clank.spec.values import describe, did_you_mean

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

__all__ = ["StudySpec", "build_spec"]


@dataclass(frozen=True)
class StudySpec:
    """A whole study spec, validated; build it with :func:`~optuna_clank.spec.files.load_spec`.

    Every field but ``path`` is a section of the file, in file order; the sections whose keys are
    exactly their dataclass's fields are :data:`~optuna_clank.spec.model.SECTION_CLASSES`.
    """

    path: Path
    study: StudySection
    benchmark: BenchmarkSpec
    sampler: SamplerSpec
    pruner: PrunerSpec
    parallel: ParallelSpec
    storage: StorageSpec
    checkpoint: CheckpointSpec
    validation: ValidationSpec
    search_space: tuple[ParamSpec, ...]
    snake: SnakeSpec = field(default_factory=SnakeSpec)

    @property
    def name(self) -> str:
        """The study name (also the default SQLite file's name)."""
        return self.study.name

    def distributions(self) -> dict[str, BaseDistribution]:
        """Parameter name -> Optuna distribution, in the spec's order."""
        return {param.name: param.distribution() for param in self.search_space}

    def with_overrides(self, **changes: Any) -> StudySpec:
        """A copy with command-line style changes, validated exactly like the file.

        Keys are the option names of :data:`~optuna_clank.spec.overrides.OVERRIDES` (``n_trials``,
        ``n_jobs``, ``storage_url``, ...); ``None`` means "keep the spec's value", so a CLI can pass its
        unset options straight through. Paths given here (``opponents``, ``base_config``) are
        relative to the current directory, not to the spec file. Lowering ``games_per_trial``
        below ``round_size`` also lowers ``round_size`` unless that is overridden too.
        """
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            return self
        label = str(self.path)
        raw = apply_overrides(_as_raw(self), changes, label)
        shown = shown_overrides(changes)
        try:
            return build_spec(raw, self.path)
        except SpecProblem as exc:
            raise SpecError(f"{label}: override {shown}: {exc}") from None


SECTIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StudySpec) if f.name != "path")
"""The spec's TOML sections, in file order: the :class:`StudySpec` fields but ``path``."""


def build_spec(data: Mapping[str, Any], path: Path) -> StudySpec:
    """The spec from parsed TOML (or its raw round-trip), checked section by section.

    A problem raises :class:`~optuna_clank.spec.model.SpecProblem`; the caller adds the file's name.
    """
    _check_top_level(data)
    base_dir = path.resolve().parent
    if "study" not in data:
        fail("[study]:", "missing section (every spec names its study there)")
    study = read_study(data["study"])
    benchmark = read_benchmark(data.get("benchmark", {}), base_dir)
    sampler = read_sampler(data.get("sampler", {}))
    pruner = read_pruner(data.get("pruner", {}))
    parallel = read_parallel(data.get("parallel", {}))
    storage = read_storage(data.get("storage", {}))
    checkpoint = read_checkpoint(data.get("checkpoint", {}))
    validation = read_validation(data.get("validation", {}))
    snake = read_snake(data.get("snake", {}), base_dir)
    if snake.builtin == "gbc":
        search_space = read_gbc_search_space(data.get("search_space"))
    else:
        search_space = read_search_space(data.get("search_space"), any_key=snake.is_server)
    _check_snake(snake, benchmark, search_space)
    if len(study.objectives) > 1 and "name" not in data.get("pruner", {}):
        pruner = dataclasses.replace(pruner, name="none")  # the default pruner cannot prune several objectives
    _check_objectives(study, sampler, pruner)
    _check_sampler(sampler)
    _check_validation(validation, benchmark)
    return StudySpec(
        path=path,
        study=study,
        benchmark=benchmark,
        sampler=sampler,
        pruner=pruner,
        parallel=parallel,
        storage=storage,
        checkpoint=checkpoint,
        validation=validation,
        search_space=search_space,
        snake=snake,
    )


def _check_top_level(data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if key not in SECTIONS:
            if not isinstance(value, Mapping):
                fail(f"{key!r}:", f"key outside a section{_home_hint(key)}")
            fail(f"[{key}]:", f"unknown section{did_you_mean(key, SECTIONS, section=True)}")
        if not isinstance(value, Mapping):
            fail(f"[{key}]:", f"must be a section (a table), got {describe(value)}")


def _home_hint(key: str) -> str:
    """`` (put it under [study])`` for a key written above the first section header."""
    for section, cls in SECTION_CLASSES.items():
        if key in {known.name for known in dataclasses.fields(cls)}:
            return f" (put it under [{section}])"
    return " (keys belong in sections such as [study])"


# --------------------------------------------------------------------------- cross checks


def _check_snake(snake: SnakeSpec, benchmark: BenchmarkSpec, search_space: tuple[ParamSpec, ...]) -> None:
    if not snake.reads_own_yaml:
        return
    if benchmark.base_config is not None:
        which = "a server snake's" if snake.is_server else f"{snake.builtin}'s"
        fail(
            "[benchmark] base_config:",
            f"is the built-in snake's base config; {which} base config is [snake] base_config",
        )
    if not snake.is_server:
        return
    base = load_base_config(snake.base_config)
    for param in search_space:  # a key under a scalar of the base YAML cannot be written
        try:
            with_dotted_values(base, {param.name: param.low})
        except SnakeConfigError as exc:
            fail(f"[search_space] {param.name!r}:", f"{exc} in {snake.base_config}")


def _check_objectives(study: StudySection, sampler: SamplerSpec, pruner: PrunerSpec) -> None:
    n_directions, n_objectives = len(study.directions), len(study.objectives)
    if n_objectives != n_directions:
        fail(
            "[study] objectives:",
            f"{n_objectives} objective(s) for {n_directions} direction(s); give one objective per direction",
        )
    if n_objectives == 1:
        return
    if pruner.name != "none":
        fail(
            "[pruner] name:",
            f"{pruner.name!r} cannot prune a study with {n_objectives} objectives "
            '(Optuna prunes single-objective studies only); set name = "none"',
        )
    if sampler.name == "cmaes":
        fail("[sampler] name:", f"'cmaes' handles one objective only, the study has {n_objectives}")


def _check_sampler(sampler: SamplerSpec) -> None:
    if sampler.name == "clank" and sampler.use_llm and not sampler.llm_models:
        fail("[sampler] llm_models:", "is empty while use_llm = true")


def _check_validation(validation: ValidationSpec, benchmark: BenchmarkSpec) -> None:
    if validation.seed and validation.seed == benchmark.seed:
        fail(
            "[validation] seed:",
            f"{validation.seed} equals [benchmark] seed; validation must play fresh games",
        )


# --------------------------------------------------------------------------- back to TOML data


def _as_raw(spec: StudySpec) -> dict[str, Any]:
    """The spec as TOML-shaped data, so overrides go through the same checks as a file."""
    raw: dict[str, Any] = {}
    for section in SECTION_CLASSES:
        values = dataclasses.asdict(getattr(spec, section))
        raw[section] = {key: _raw_value(value) for key, value in values.items()}
    raw["benchmark"]["base_config"] = (
        "default" if spec.benchmark.base_config is None else str(spec.benchmark.base_config)
    )
    if spec.sampler.seed is None:
        del raw["sampler"]["seed"]
    if not spec.benchmark.opponent_weights:
        del raw["benchmark"]["opponent_weights"]
    raw["search_space"] = {
        param.name: {"low": param.low, "high": param.high, "log": param.log, "int": param.is_int}
        | ({} if param.step is None else {"step": param.step})
        for param in spec.search_space
    }
    raw["snake"] = spec.snake.to_raw()
    return raw


def _raw_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
