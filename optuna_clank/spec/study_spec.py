"""Study specs: ``studies/<name>.toml`` read into a validated, frozen :class:`StudySpec`.

A spec says what a study tunes and how it measures. Every mistake in it is caught before a
single game is played and reported as one line naming the file, the section and the key
(``my.toml: [sampler] 'use_lm': unknown key (did you mean 'use_llm'?)``): a typo that is
silently ignored costs a whole night of trials, which is how the old loop tuned dead keys.

Example::

    spec = load_spec(find_spec("v2"))
    spec = spec.with_overrides(n_trials=50, n_jobs=2)
    study = optuna.create_study(directions=list(spec.study.directions))
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from optuna_clank.arena.bot_spec import (
    SnakeConfigError,
    SnakeSpec,
    SnakeSpecError,
    load_base_config,
    read_snake_table,
    with_dotted_values,
)
from optuna_clank.arena.bounds import MODES, Mode
from optuna_clank.arena.config import ConfigError, load_config
from optuna_clank.arena.params import PARAMS_BY_NAME, TUNABLE_PARAMS, TunableParam
from optuna_clank.core.errors import UserError
from optuna_clank.core.userfiles import UserFileError, load_toml, short_repr
from optuna_clank.spec.names import BACKENDS, PRUNERS, SAMPLERS
from optuna_clank.spec.values import (
    BadValue,
    Reader,
    as_integer,
    as_number,
    auto_or_count,
    board_size,
    boolean,
    choice,
    database_url,
    describe,
    did_you_mean,
    fraction_open,
    integer,
    list_of,
    opponent_weights,
    real,
    slots,
    string,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

__all__ = [
    "OVERRIDES",
    "BenchmarkSpec",
    "CheckpointSpec",
    "ParallelSpec",
    "ParamSpec",
    "PrunerSpec",
    "SamplerSpec",
    "SpecError",
    "StorageSpec",
    "StudySection",
    "StudySpec",
    "ValidationSpec",
    "find_spec",
    "load_spec",
    "shipped_spec_names",
    "shipped_spec_path",
]

DIRECTIONS = ("maximize", "minimize")
OBJECTIVES = ("score", "win_rate", "survival", "avg_turns")
MAX_SEED = 2**63 - 1
_STUDY_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_DEFAULT_ROUND_SIZE = 10


class SpecError(UserError, ValueError):
    """A spec that cannot be used; ``str(err)`` is one line: ``<file>: <where> <what>``."""

    def __init__(self, message: str) -> None:
        # One line, always: CLI output and logs show it whole, and tests can match it.
        super().__init__(" ".join(str(message).split()))


class _Problem(Exception):
    """A spec problem without its file name, which the caller adds."""


def _fail(where: str, what: str) -> NoReturn:
    raise _Problem(f"{where} {what}" if where else what)


# --------------------------------------------------------------------------- the spec

_OPTION = "override option"
_SECTION = "spec section"


def _cli(option: str) -> dict[str, str]:
    """Field metadata: the command line may override this key as ``option`` (see :data:`OVERRIDES`)."""
    return {_OPTION: option}


_CLI = _cli("")
"""Field metadata: the command line may override this key under the key's own name."""
_TABLE = {_SECTION: True}
"""Field metadata of :class:`StudySpec`: a section whose keys are exactly its dataclass's fields."""
_OWN_TABLE = {_SECTION: False}
"""Field metadata of :class:`StudySpec`: a section with a reader of its own."""


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
        from optuna.distributions import FloatDistribution, IntDistribution

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
    round_size: int = field(default=_DEFAULT_ROUND_SIZE, metadata=_CLI)
    board_size: tuple[int, int] = field(default=(11, 11), metadata=_CLI)
    seed: int = field(default=20261125, metadata=_CLI)
    max_turns: int = field(default=1000, metadata=_CLI)
    base_config: Path | None = field(default=None, metadata=_CLI)
    max_faults: int = 0
    """Faulty server answers (the tuned snake's, or one opponent's) a trial or validation record may
    hold and still count as a measurement of its config (see :mod:`optuna_clank.arena.faults`)."""


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


@dataclass(frozen=True)
class StudySpec:
    """A whole study spec, validated; build it with :func:`load_spec`."""

    path: Path
    study: StudySection = field(metadata=_TABLE)
    benchmark: BenchmarkSpec = field(metadata=_TABLE)
    sampler: SamplerSpec = field(metadata=_TABLE)
    pruner: PrunerSpec = field(metadata=_TABLE)
    parallel: ParallelSpec = field(metadata=_TABLE)
    storage: StorageSpec = field(metadata=_TABLE)
    checkpoint: CheckpointSpec = field(metadata=_TABLE)
    validation: ValidationSpec = field(metadata=_TABLE)
    search_space: tuple[ParamSpec, ...] = field(metadata=_OWN_TABLE)
    snake: SnakeSpec = field(default_factory=SnakeSpec, metadata=_OWN_TABLE)

    @property
    def name(self) -> str:
        """The study name (also the default SQLite file's name)."""
        return self.study.name

    def distributions(self) -> dict[str, BaseDistribution]:
        """Parameter name -> Optuna distribution, in the spec's order."""
        return {param.name: param.distribution() for param in self.search_space}

    def with_overrides(self, **changes: Any) -> StudySpec:
        """A copy with command-line style changes, validated exactly like the file.

        Keys are the option names of :data:`OVERRIDES` (``n_trials``, ``n_jobs``,
        ``storage_url``, ...); ``None`` means "keep the spec's value", so a CLI can pass its
        unset options straight through. Paths given here (``opponents``, ``base_config``) are
        relative to the current directory, not to the spec file. Lowering ``games_per_trial``
        below ``round_size`` also lowers ``round_size`` unless that is overridden too.
        """
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            return self
        label = str(self.path)
        raw = _as_raw(self)
        for option, value in changes.items():
            _apply_override(raw, option, value, label)
        if "games_per_trial" in changes and "round_size" not in changes:
            _lower_round_size(raw["benchmark"])
        if "opponents" in changes and "opponent_weights" not in changes:
            raw["benchmark"].pop("opponent_weights", None)  # the spec's weights were for its own opponents
        shown = ", ".join(f"{key}={_shown_override(key, value)}" for key, value in changes.items())
        try:
            return _build_spec(raw, self.path)
        except _Problem as exc:
            raise SpecError(f"{label}: override {shown}: {exc}") from None


_SECTIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StudySpec) if _SECTION in f.metadata)
"""The spec's TOML sections, in file order: the :class:`StudySpec` fields marked as sections."""
_FIELD_TYPES = typing.get_type_hints(StudySpec)
_SECTION_CLASSES: dict[str, type[Any]] = {
    f.name: _FIELD_TYPES[f.name] for f in dataclasses.fields(StudySpec) if f.metadata.get(_SECTION)
}
"""Section -> its dataclass, for the sections whose keys are exactly that dataclass's fields."""
OVERRIDES: dict[str, tuple[str, str]] = {
    key.metadata[_OPTION] or key.name: (section, key.name)
    for section, cls in _SECTION_CLASSES.items()
    for key in dataclasses.fields(cls)
    if _OPTION in key.metadata
}
"""Override option -> (section, key) it replaces in :meth:`StudySpec.with_overrides`."""


# --------------------------------------------------------------------------- finding specs


def find_spec(name: str, *, cwd: Path | None = None) -> Path:
    """The spec file of study ``name``: ``studies/<name>.toml`` in ``cwd``, else a shipped one.

    A name ending in ``.toml`` is taken as a path (relative to ``cwd``), so a user's own spec
    anywhere on disk works too.
    """
    base = Path.cwd() if cwd is None else Path(cwd)
    if name.endswith(".toml"):
        path = base / name
        if not path.is_file():
            raise SpecError(f"{name}: no such spec file")
        return path
    local = base / "studies" / f"{name}.toml"
    if local.is_file():
        return local
    shipped = _shipped_dir()
    if shipped is not None and (shipped / f"{name}.toml").is_file():
        return shipped / f"{name}.toml"
    found = sorted(set(_spec_names(base / "studies")) | set(shipped_spec_names()))
    raise SpecError(
        f"unknown study {name!r}{did_you_mean(name, found)}: no studies/{name}.toml in "
        f"{base} nor among the shipped specs (found: {', '.join(found) or 'none'})"
    )


def shipped_spec_path(name: str) -> Path:
    """The shipped spec ``name`` itself (``studies/<name>.toml`` of the current folder does not count)."""
    shipped = _shipped_dir()
    if shipped is None or not (shipped / f"{name}.toml").is_file():
        raise SpecError(f"no shipped spec {name!r} (shipped: {', '.join(shipped_spec_names()) or 'none'})")
    return shipped / f"{name}.toml"


def shipped_spec_names() -> list[str]:
    """The names of the specs that come with the package (``v1``, ``v2``, ...)."""
    shipped = _shipped_dir()
    return [] if shipped is None else _spec_names(shipped)


def _spec_names(folder: Path) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.toml")) if folder.is_dir() else []


def _shipped_dir() -> Path | None:
    """``optuna_clank/studies`` in a wheel (found as package data), the repository's ``studies/`` in a dev install."""
    shipped = resources.files("optuna_clank") / "studies"
    if isinstance(shipped, Path) and shipped.is_dir():  # an installed wheel on disk (not a zip)
        return shipped
    repository = Path(__file__).resolve().parents[2]
    if (repository / "pyproject.toml").is_file() and (repository / "studies").is_dir():
        return repository / "studies"
    return None


# --------------------------------------------------------------------------- loading


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a spec file; any problem raises :class:`SpecError`."""
    path = Path(path)
    label = str(path)
    data = _read_toml(path)
    try:
        return _build_spec(data, path)
    except _Problem as exc:
        raise SpecError(f"{label}: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return load_toml(path, what="spec file")
    except UserFileError as exc:
        raise SpecError(str(exc)) from None


def _build_spec(data: Mapping[str, Any], path: Path) -> StudySpec:
    """The spec from parsed TOML (or its raw round-trip), checked section by section."""
    _check_top_level(data)
    base_dir = path.resolve().parent
    if "study" not in data:
        _fail("[study]:", "missing section (every spec names its study there)")
    study = _read_study(data["study"])
    benchmark = _read_benchmark(data.get("benchmark", {}), base_dir)
    sampler = _read_plain_section("sampler", data, SamplerSpec, _SAMPLER_READERS)
    pruner = _read_plain_section("pruner", data, PrunerSpec, _PRUNER_READERS)
    parallel = _read_plain_section("parallel", data, ParallelSpec, _PARALLEL_READERS)
    storage = _read_storage(data.get("storage", {}))
    checkpoint = _read_plain_section("checkpoint", data, CheckpointSpec, _CHECKPOINT_READERS)
    validation = _read_plain_section("validation", data, ValidationSpec, _VALIDATION_READERS)
    snake = _read_snake(data.get("snake", {}), base_dir)
    if snake.builtin == "gbc":
        search_space = _read_gbc_search_space(data.get("search_space"))
    else:
        search_space = _read_search_space(data.get("search_space"), any_key=snake.is_server)
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
        if key not in _SECTIONS:
            if not isinstance(value, Mapping):
                _fail(f"{key!r}:", f"key outside a section{_home_hint(key)}")
            _fail(f"[{key}]:", f"unknown section{did_you_mean(key, _SECTIONS, section=True)}")
        if not isinstance(value, Mapping):
            _fail(f"[{key}]:", f"must be a section (a table), got {describe(value)}")


def _home_hint(key: str) -> str:
    """`` (put it under [study])`` for a key written above the first section header."""
    for section, cls in _SECTION_CLASSES.items():
        if key in {known.name for known in dataclasses.fields(cls)}:
            return f" (put it under [{section}])"
    return " (keys belong in sections such as [study])"


def _check_unknown_keys(section: str, table: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    for key in table:
        if key not in known:
            _fail(f"[{section}] {key!r}:", f"unknown key{did_you_mean(key, list(known))}")


def _read_values(section: str, table: Mapping[str, Any], readers: Mapping[str, Reader]) -> dict[str, Any]:
    """Each present key through its reader; errors say ``[section] key: what``."""
    _check_unknown_keys(section, table, readers)
    values: dict[str, Any] = {}
    for key, value in table.items():
        try:
            values[key] = readers[key](value)
        except BadValue as exc:
            _fail(f"[{section}] {key}:", str(exc))
    return values


def _read_plain_section(section: str, data: Mapping[str, Any], cls: type[Any], readers: Mapping[str, Reader]) -> Any:
    """A section whose keys are exactly its dataclass fields, each read on its own."""
    return cls(**_read_values(section, data.get(section, {}), readers))


# --------------------------------------------------------------------------- [study]

_STUDY_READERS: dict[str, Reader] = {
    "name": string,
    "description": string,
    "direction": choice(DIRECTIONS),
    "directions": list_of(choice(DIRECTIONS)),
    "objectives": list_of(choice(OBJECTIVES)),
    "n_trials": integer(1),
    "timeout": real(0.0),
}


def _read_study(table: Mapping[str, Any]) -> StudySection:
    values = _read_values("study", table, _STUDY_READERS)
    if "name" not in values:
        _fail("[study] name:", "missing (every spec names its study)")
    if not _STUDY_NAME.fullmatch(values["name"]):
        _fail("[study] name:", f"{values['name']!r} may only use letters, digits, '_', '.', '-'")
    if "direction" in values:
        if "directions" in values:
            _fail("[study] direction:", "give either direction or directions, not both")
        values["directions"] = (values.pop("direction"),)
    objectives = values.get("objectives", ())
    if len(set(objectives)) != len(objectives):
        _fail("[study] objectives:", f"lists an objective twice: {list(objectives)}")
    return StudySection(**values)


# --------------------------------------------------------------------------- [benchmark]


def _resolved(reference: str, base_dir: Path) -> str:
    """A config reference with its path made absolute against ``base_dir``."""
    prefix = next((p for p in ("config:", "gbc:") if reference.startswith(p)), "")
    path = Path(reference.removeprefix(prefix)).expanduser()
    return prefix + str(path if path.is_absolute() else base_dir / path)


def _opponents_reader(base_dir: Path) -> Reader:
    def read(value: Any) -> tuple[str, ...]:
        names = list_of(string)(value)
        return tuple(_checked_opponent(name, base_dir) for name in names)

    return read


def _checked_opponent(name: str, base_dir: Path) -> str:
    """The opponent's stable string (config paths absolute), or why it is unusable."""
    # Imported here: the opponents pull in the arena (torch); reading a spec stays light.
    from optuna_clank.arena.opponents import (
        OTHER_FORMS,
        UnknownOpponentError,
        check_opponent,
        is_command_reference,
        is_config_reference,
        is_server_reference,
        opponent_names,
        stable_command_name,
    )

    if is_command_reference(name):  # its program is found now (paths from the spec's folder), started with the games
        try:
            return stable_command_name(name, base_dir=base_dir)
        except UnknownOpponentError as exc:
            raise BadValue(str(exc)) from None
    if is_server_reference(name):  # a running server: its URL is checked here, the server when games start
        try:
            check_opponent(name)
        except UnknownOpponentError as exc:
            raise BadValue(str(exc)) from None
        return name
    if not is_config_reference(name):
        choices = opponent_names()
        if name not in choices:
            raise BadValue(
                f"unknown opponent {short_repr(name)}{did_you_mean(name, choices)} "
                f"(choose one of {', '.join(choices)}, {OTHER_FORMS})"
            )
        return name
    resolved = _resolved(name, base_dir)
    try:
        check_opponent(resolved, base_dir=base_dir)
    except UnknownOpponentError as exc:
        # Name the opponent as written; the config error already names the resolved file.
        raise BadValue(f"opponent {short_repr(name)}: {exc.__cause__ or exc}") from None
    return resolved


def _weights_in_order(weights: tuple[float, ...] | dict[str, float], opponents: Any) -> tuple[float, ...]:
    """The weights in opponent order, checked against the opponents as written in the spec."""
    names = [str(name) for name in opponents] if isinstance(opponents, list | tuple) else [str(opponents)]
    if isinstance(weights, dict):
        unknown = [name for name in weights if name not in names]
        if unknown:
            _fail("[benchmark] opponent_weights:", f"{unknown[0]!r} is not one of the opponents {names}")
        return tuple(weights.get(name, 1.0) for name in names)
    if len(weights) != len(names):
        _fail(
            "[benchmark] opponent_weights:",
            f"{len(weights)} weight(s) for {len(names)} opponent(s); give one weight per opponent",
        )
    return weights


def _base_config_reader(base_dir: Path) -> Reader:
    def read(value: Any) -> Path | None:
        text = string(value)
        if text == "default":
            return None
        if not text:
            raise BadValue('expected "default" or the path of a YAML config')
        path = Path(_resolved(text, base_dir))
        try:
            load_config(path)
        except ConfigError as exc:
            raise BadValue(str(exc)) from None
        return path

    return read


def _read_benchmark(table: Mapping[str, Any], base_dir: Path) -> BenchmarkSpec:
    readers: dict[str, Reader] = {
        "opponents": _opponents_reader(base_dir),
        "opponent_weights": opponent_weights,
        "mode": choice(MODES),
        "games_per_trial": integer(1),
        "round_size": integer(1),
        "board_size": board_size,
        "seed": integer(0, MAX_SEED),
        "max_turns": integer(1),
        "base_config": _base_config_reader(base_dir),
        "max_faults": integer(0),
    }
    values = _read_values("benchmark", table, readers)
    if "opponent_weights" in values:
        values["opponent_weights"] = _weights_in_order(values["opponent_weights"], table.get("opponents", ["baseline"]))
        if values.get("mode", BenchmarkSpec.mode) != "duel" or len(values["opponent_weights"]) < 2:
            _fail(
                "[benchmark] opponent_weights:",
                "only a tournament (mode duel, several opponents) weighs its opponents",
            )
    games = values.get("games_per_trial", BenchmarkSpec.games_per_trial)
    if "round_size" not in values:
        values["round_size"] = min(_DEFAULT_ROUND_SIZE, games)
    if values["round_size"] > games:
        _fail(
            "[benchmark] round_size:",
            f"{values['round_size']} is more than games_per_trial ({games})",
        )
    return BenchmarkSpec(**values)


# --------------------------------------------------------------------------- small sections

_SAMPLER_READERS: dict[str, Reader] = {
    "name": choice(SAMPLERS),
    "seed": integer(0, MAX_SEED),
    "n_startup_trials": integer(0),
    "use_llm": boolean,
    "llm_models": list_of(string, non_empty=False),
    "llm_api_base": string,
    "llm_timeout": real(0.0, open_low=True),
    "use_neural_net": boolean,
    "fallback_share": real(0.0, 1.0),
    "min_distance": real(0.0),
    "crossover_share": real(0.0, 1.0),
    "crossover_kind": choice(("blend", "uniform")),
}
_PRUNER_READERS: dict[str, Reader] = {
    "name": choice(PRUNERS),
    "p_threshold": fraction_open(),
    "n_startup_steps": integer(0),
    "n_startup_trials": integer(0),
}
_PARALLEL_READERS: dict[str, Reader] = {
    "n_jobs": slots,
    "trials_in_flight": auto_or_count("trials"),
    "backend": choice(BACKENDS),
    "dask_scheduler": string,
}
_STORAGE_READERS: dict[str, Reader] = {
    "url": database_url,
    "heartbeat_interval": integer(1),
    "grace_period": integer(1),
    "max_retry": integer(0),
}
_CHECKPOINT_READERS: dict[str, Reader] = {"interval": integer(0)}
_VALIDATION_READERS: dict[str, Reader] = {
    "top": integer(1),
    "games": integer(1),
    "seed": integer(0, MAX_SEED),
    "alpha": fraction_open(),
}


def _read_storage(table: Mapping[str, Any]) -> StorageSpec:
    values = _read_values("storage", table, _STORAGE_READERS)
    heartbeat = values.get("heartbeat_interval", StorageSpec.heartbeat_interval)
    if "grace_period" not in values:
        # Like Optuna: a grace period of at least two heartbeats, so live trials are not reaped.
        values["grace_period"] = max(StorageSpec.grace_period, 2 * heartbeat)
    if values["grace_period"] <= heartbeat:
        _fail(
            "[storage] grace_period:",
            f"{values['grace_period']} must be longer than heartbeat_interval ({heartbeat}), "
            "or running trials would be taken for dead",
        )
    return StorageSpec(**values)


# --------------------------------------------------------------------------- cross checks


def _check_objectives(study: StudySection, sampler: SamplerSpec, pruner: PrunerSpec) -> None:
    n_directions, n_objectives = len(study.directions), len(study.objectives)
    if n_objectives != n_directions:
        _fail(
            "[study] objectives:",
            f"{n_objectives} objective(s) for {n_directions} direction(s); give one objective per direction",
        )
    if n_objectives == 1:
        return
    if pruner.name != "none":
        _fail(
            "[pruner] name:",
            f"{pruner.name!r} cannot prune a study with {n_objectives} objectives "
            '(Optuna prunes single-objective studies only); set name = "none"',
        )
    if sampler.name == "cmaes":
        _fail("[sampler] name:", f"'cmaes' handles one objective only, the study has {n_objectives}")


def _check_sampler(sampler: SamplerSpec) -> None:
    if sampler.name == "clank" and sampler.use_llm and not sampler.llm_models:
        _fail("[sampler] llm_models:", "is empty while use_llm = true")


def _check_validation(validation: ValidationSpec, benchmark: BenchmarkSpec) -> None:
    if validation.seed and validation.seed == benchmark.seed:
        _fail(
            "[validation] seed:",
            f"{validation.seed} equals [benchmark] seed; validation must play fresh games",
        )


# --------------------------------------------------------------------------- [search_space]

_PARAM_KEYS = ("low", "high", "log", "int")
_PARAM_SECTIONS = tuple(sorted({param.name.split(".", 1)[0] for param in TUNABLE_PARAMS}))


def _read_search_space(table: Any, *, any_key: bool = False) -> tuple[ParamSpec, ...]:
    """The tuned parameters; ``any_key`` (a server snake) allows any YAML key, with explicit bounds."""
    if table is None:
        _fail("[search_space]:", "missing section (list the parameters to tune)")
    entries = _nested_entries(table) if any_key else _flat_entries(table)
    if not entries:
        _fail("[search_space]:", "is empty (list at least one parameter to tune)")
    if any_key:
        return tuple(_read_free_param(name, entry) for name, entry in entries)
    return tuple(_read_param(name, entry) for name, entry in entries)


def _flat_entries(table: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``"weights.space" = {}``, ``weights.space = {}`` and ``[search_space.weights]`` alike."""
    entries: list[tuple[str, Any]] = []
    for key, value in table.items():
        if "." not in key and key in _PARAM_SECTIONS and isinstance(value, Mapping):
            entries.extend((f"{key}.{sub}", entry) for sub, entry in value.items())
        else:
            entries.append((key, value))
    seen: set[str] = set()
    for name, _ in entries:
        if name in seen:
            _fail(f"[search_space] {name!r}:", "listed twice")
        seen.add(name)
    return entries


def _read_param(name: str, entry: Any) -> ParamSpec:
    where = f"[search_space] {name!r}:"
    allowed = PARAMS_BY_NAME.get(name)
    if allowed is None:
        _fail(where, f"unknown parameter{did_you_mean(name, list(PARAMS_BY_NAME))}")
    if not isinstance(entry, Mapping):
        _fail(where, f"expected a table like {{ low = 1, high = 10 }} or {{}}, got {describe(entry)}")
    for key in entry:
        if key not in _PARAM_KEYS:
            _fail(where, f"unknown key {key!r}{did_you_mean(key, _PARAM_KEYS)}")
    try:
        return _param_from_entry(allowed, entry)
    except BadValue as exc:
        _fail(where, str(exc))


def _param_from_entry(allowed: TunableParam, entry: Mapping[str, Any]) -> ParamSpec:
    is_int = _entry_flag(entry, "int", allowed.is_int)
    if is_int != allowed.is_int:
        kind = "an integer" if allowed.is_int else "not an integer"
        raise BadValue(f"int = {describe(is_int)}, but the parameter is {kind}")
    log = _entry_flag(entry, "log", allowed.log)
    low = _entry_bound(entry, "low", allowed.low, is_int)
    high = _entry_bound(entry, "high", allowed.high, is_int)
    if low < allowed.low:
        raise BadValue(f"low {entry['low']} is below the allowed minimum {allowed.low}")
    if high > allowed.high:
        raise BadValue(f"high {entry['high']} is above the allowed maximum {allowed.high}")
    if low >= high:
        raise BadValue(f"low {low:g} must be below high {high:g}")
    if log and low <= 0:
        raise BadValue(f"log = true needs low > 0, got low {low:g}")
    return ParamSpec(name=allowed.name, low=low, high=high, log=log, is_int=is_int)


def _entry_flag(entry: Mapping[str, Any], key: str, default: bool) -> bool:
    if key not in entry:
        return default
    try:
        return boolean(entry[key])
    except BadValue as exc:
        raise BadValue(f"{key}: {exc}") from None


def _entry_bound(entry: Mapping[str, Any], key: str, default: float, is_int: bool) -> float:
    if key not in entry:
        return float(default)
    try:
        return float(as_integer(entry[key]) if is_int else as_number(entry[key]))
    except BadValue as exc:
        raise BadValue(f"{key}: {exc}") from None


# --------------------------------------------------------------------------- [snake]

_FREE_PARAM_KEYS = ("low", "high", "log", "int", "step")


def _read_snake(table: Mapping[str, Any], base_dir: Path) -> SnakeSpec:
    try:
        return read_snake_table(table, base_dir)
    except SnakeSpecError as exc:
        where = f"[snake] {exc.key!r}:" if exc.unknown else (f"[snake] {exc.key}:" if exc.key else "[snake]:")
        _fail(where, exc.what)


def _check_snake(snake: SnakeSpec, benchmark: BenchmarkSpec, search_space: tuple[ParamSpec, ...]) -> None:
    if not snake.reads_own_yaml:
        return
    if benchmark.base_config is not None:
        which = "a server snake's" if snake.is_server else f"{snake.builtin}'s"
        _fail(
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
            _fail(f"[search_space] {param.name!r}:", f"{exc} in {snake.base_config}")


def _read_gbc_search_space(table: Any) -> tuple[ParamSpec, ...]:
    """go-battleclank's dotted keys (its schema's), explicit bounds; an int field is tuned as an int."""
    from optuna_clank.arena.snakes.gbc.schema import GBC_KEY_BY_NAME

    if table is None:
        _fail("[search_space]:", "missing section (list the parameters to tune)")
    entries = _nested_entries(table)
    if not entries:
        _fail("[search_space]:", "is empty (list at least one parameter to tune)")
    params = []
    for name, written in entries:
        where = f"[search_space] {name!r}:"
        key = GBC_KEY_BY_NAME.get(name)
        if key is None:
            _fail(where, f"go-battleclank has no such config key{did_you_mean(name, list(GBC_KEY_BY_NAME))}")
        if key.kind not in (int, float):
            _fail(where, f"is a {key.kind.__name__} in go-battleclank's config; only numbers can be tuned")
        entry = written
        if key.kind is int and isinstance(written, Mapping) and "int" not in written:
            entry = {**written, "int": True}
        param = _read_free_param(name, entry)
        if param.is_int != (key.kind is int):
            kind = "an integer" if key.kind is int else "a float"
            _fail(where, f"int = {describe(param.is_int)}, but go-battleclank reads it as {kind}")
        params.append(param)
    return tuple(params)


def _nested_entries(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """A server snake's keys at any depth: ``"a.b.c" = {}``, ``a.b.c = {}``, ``[search_space.a.b]``."""
    entries: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        is_group = (
            isinstance(value, Mapping)
            and bool(value)
            and not any(k in _FREE_PARAM_KEYS for k in value)
            and all(isinstance(v, Mapping) for v in value.values())
        )
        entries.extend(_nested_entries(value, f"{name}.") if is_group else [(name, value)])
    if not prefix:
        seen: set[str] = set()
        for name, _ in entries:
            if name in seen:
                _fail(f"[search_space] {name!r}:", "listed twice")
            seen.add(name)
    return entries


def _read_free_param(name: str, entry: Any) -> ParamSpec:
    """A key of a server snake's YAML: explicit ``low``/``high``, optional ``log``, ``int``, ``step``."""
    where = f"[search_space] {name!r}:"
    if any(not part.strip() for part in name.split(".")):
        _fail(where, "a key path has an empty part")
    if not isinstance(entry, Mapping):
        _fail(where, f"expected a table like {{ low = 0, high = 10 }}, got {entry!r}")
    for key in entry:
        if key not in _FREE_PARAM_KEYS:
            _fail(where, f"unknown key {key!r}{did_you_mean(key, _FREE_PARAM_KEYS)}")
    missing = [key for key in ("low", "high") if key not in entry]
    if missing:
        _fail(where, f"needs {' and '.join(missing)}: a server snake's keys have no built-in range")
    try:
        return _free_param_from_entry(name, entry)
    except BadValue as exc:
        _fail(where, str(exc))


def _free_param_from_entry(name: str, entry: Mapping[str, Any]) -> ParamSpec:
    is_int = _entry_flag(entry, "int", False)
    log = _entry_flag(entry, "log", False)
    low = _entry_bound(entry, "low", 0.0, is_int)
    high = _entry_bound(entry, "high", 0.0, is_int)
    if low >= high:
        raise BadValue(f"low {low:g} must be below high {high:g}")
    if not math.isfinite(high - low):  # samplers scale by the range: an infinite one overflows in every trial
        raise BadValue(f"the range high - low ({high:g} - {low:g}) is not a finite number; choose closer bounds")
    if log and low <= 0:
        raise BadValue(f"log = true needs low > 0, got low {low:g}")
    step = None
    if "step" in entry:
        step = _entry_bound(entry, "step", 0.0, is_int)
        if step <= 0:
            raise BadValue(f"step must be above 0, got {step:g}")
        if log:
            raise BadValue("step and log = true cannot be combined")
        steps = (high - low) / step
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            raise BadValue(f"high - low ({high - low:g}) is not a multiple of step {step:g}")
    return ParamSpec(name=name, low=low, high=high, log=log, is_int=is_int, step=step)


# --------------------------------------------------------------------------- overrides


def _as_raw(spec: StudySpec) -> dict[str, Any]:
    """The spec as TOML-shaped data, so overrides go through the same checks as a file."""
    raw: dict[str, Any] = {}
    for section in _SECTION_CLASSES:
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


def _shown_override(option: str, value: Any) -> str:
    """An override as messages show it: short, and a storage URL without its password."""
    if option == "storage_url" and isinstance(value, str):
        from optuna_clank.core.redact import redact_url

        return repr(redact_url(value))
    return short_repr(value)


def _apply_override(raw: dict[str, Any], option: str, value: Any, label: str) -> None:
    if option not in OVERRIDES:
        raise SpecError(
            f"{label}: override {option!r}: unknown option{did_you_mean(option, list(OVERRIDES))}"
            f" (known: {', '.join(sorted(OVERRIDES))})"
        )
    section, key = OVERRIDES[option]
    own_yaml = "builtin" not in raw["snake"] or raw["snake"]["builtin"] == "gbc"
    if option == "base_config" and own_yaml:
        section = "snake"  # a server's or gbc's base config is its own YAML: [snake] base_config
    if section == "snake" and str(value) == "default":
        raw["snake"].pop("base_config", None)  # gbc: the bot's built-in defaults
        return
    raw[section][key] = _override_value(option, value)


def _lower_round_size(benchmark: dict[str, Any]) -> None:
    """Keep ``round_size <= games_per_trial`` when only the games were overridden."""
    try:
        games = as_integer(benchmark["games_per_trial"])
    except BadValue:
        return  # the reader reports it, naming the option
    benchmark["round_size"] = min(benchmark["round_size"], games)


def _override_value(option: str, value: Any) -> Any:
    """Paths from the command line are relative to where it runs, not to the spec file."""
    here = Path.cwd()
    if option == "base_config" and isinstance(value, str | Path) and str(value) not in ("default", "shipped"):
        return _resolved(str(value), here)
    if option == "opponents" and isinstance(value, list | tuple):
        return [_absolute_if_config(name, here) for name in value]
    if isinstance(value, tuple):
        return list(value)
    return value


def _absolute_if_config(name: Any, here: Path) -> Any:
    from optuna_clank.arena.opponents import is_config_reference

    if isinstance(name, str) and is_config_reference(name):
        return _resolved(name, here)
    return name
