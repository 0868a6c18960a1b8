"""The section readers: one TOML table of a spec in, its checked dataclass out.

Each reader knows one section: its keys, each key's value reader (:mod:`optuna_clank.spec.values`)
and the checks between its own keys. A problem raises :class:`~optuna_clank.spec.model.SpecProblem`
as ``[section] key: what``; checks across sections, and the file's name, come in
:mod:`optuna_clank.spec.assembly`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optuna_clank.arena.bounds import MODES
from optuna_clank.arena.config import ConfigError, load_config
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
from optuna_clank.arena.served.bot_spec import SnakeSpec
from optuna_clank.core.userfiles import short_repr
from optuna_clank.spec.model import (
    DEFAULT_ROUND_SIZE,
    DIRECTIONS,
    MAX_SEED,
    OBJECTIVES,
    BenchmarkSpec,
    CheckpointSpec,
    ParallelSpec,
    PrunerSpec,
    SamplerSpec,
    StorageSpec,
    StudySection,
    ValidationSpec,
    fail,
)
from optuna_clank.spec.names import BACKENDS, PRUNERS, SAMPLERS
from optuna_clank.spec.snake_table import SnakeSpecError, read_snake_table
from optuna_clank.spec.values import (
    BadValue,
    Reader,
    auto_or_count,
    board_size,
    boolean,
    choice,
    database_url,
    did_you_mean,
    fraction_open,
    integer,
    list_of,
    opponent_weights,
    real,
    slots,
    string,
)

__all__ = [
    "read_benchmark",
    "read_checkpoint",
    "read_parallel",
    "read_pruner",
    "read_sampler",
    "read_snake",
    "read_storage",
    "read_study",
    "read_validation",
    "resolved",
]

_STUDY_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _check_unknown_keys(section: str, table: Mapping[str, Any], known: Mapping[str, Any]) -> None:
    for key in table:
        if key not in known:
            fail(f"[{section}] {key!r}:", f"unknown key{did_you_mean(key, list(known))}")


def _read_values(section: str, table: Mapping[str, Any], readers: Mapping[str, Reader]) -> dict[str, Any]:
    """Each present key through its reader; errors say ``[section] key: what``."""
    _check_unknown_keys(section, table, readers)
    values: dict[str, Any] = {}
    for key, value in table.items():
        try:
            values[key] = readers[key](value)
        except BadValue as exc:
            fail(f"[{section}] {key}:", str(exc))
    return values


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


def read_study(table: Mapping[str, Any]) -> StudySection:
    values = _read_values("study", table, _STUDY_READERS)
    if "name" not in values:
        fail("[study] name:", "missing (every spec names its study)")
    if not _STUDY_NAME.fullmatch(values["name"]):
        fail("[study] name:", f"{values['name']!r} may only use letters, digits, '_', '.', '-'")
    if "direction" in values:
        if "directions" in values:
            fail("[study] direction:", "give either direction or directions, not both")
        values["directions"] = (values.pop("direction"),)
    objectives = values.get("objectives", ())
    if len(set(objectives)) != len(objectives):
        fail("[study] objectives:", f"lists an objective twice: {list(objectives)}")
    return StudySection(**values)


# --------------------------------------------------------------------------- [benchmark]


def resolved(reference: str, base_dir: Path) -> str:
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
    resolved_name = resolved(name, base_dir)
    try:
        check_opponent(resolved_name, base_dir=base_dir)
    except UnknownOpponentError as exc:
        # Name the opponent as written; the config error already names the resolved file.
        raise BadValue(f"opponent {short_repr(name)}: {exc.__cause__ or exc}") from None
    return resolved_name


def _weights_in_order(weights: tuple[float, ...] | dict[str, float], opponents: Any) -> tuple[float, ...]:
    """The weights in opponent order, checked against the opponents as written in the spec."""
    names = [str(name) for name in opponents] if isinstance(opponents, list | tuple) else [str(opponents)]
    if isinstance(weights, dict):
        unknown = [name for name in weights if name not in names]
        if unknown:
            fail("[benchmark] opponent_weights:", f"{unknown[0]!r} is not one of the opponents {names}")
        return tuple(weights.get(name, 1.0) for name in names)
    if len(weights) != len(names):
        fail(
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
        path = Path(resolved(text, base_dir))
        try:
            load_config(path)
        except ConfigError as exc:
            raise BadValue(str(exc)) from None
        return path

    return read


def read_benchmark(table: Mapping[str, Any], base_dir: Path) -> BenchmarkSpec:
    """``[benchmark]``; paths in it (opponent configs, ``base_config``) are relative to ``base_dir``."""
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
            fail(
                "[benchmark] opponent_weights:",
                "only a tournament (mode duel, several opponents) weighs its opponents",
            )
    games = values.get("games_per_trial", BenchmarkSpec.games_per_trial)
    if "round_size" not in values:
        values["round_size"] = min(DEFAULT_ROUND_SIZE, games)
    if values["round_size"] > games:
        fail(
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


def read_sampler(table: Mapping[str, Any]) -> SamplerSpec:
    return SamplerSpec(**_read_values("sampler", table, _SAMPLER_READERS))


def read_pruner(table: Mapping[str, Any]) -> PrunerSpec:
    return PrunerSpec(**_read_values("pruner", table, _PRUNER_READERS))


def read_parallel(table: Mapping[str, Any]) -> ParallelSpec:
    return ParallelSpec(**_read_values("parallel", table, _PARALLEL_READERS))


def read_checkpoint(table: Mapping[str, Any]) -> CheckpointSpec:
    return CheckpointSpec(**_read_values("checkpoint", table, _CHECKPOINT_READERS))


def read_validation(table: Mapping[str, Any]) -> ValidationSpec:
    return ValidationSpec(**_read_values("validation", table, _VALIDATION_READERS))


def read_storage(table: Mapping[str, Any]) -> StorageSpec:
    values = _read_values("storage", table, _STORAGE_READERS)
    heartbeat = values.get("heartbeat_interval", StorageSpec.heartbeat_interval)
    if "grace_period" not in values:
        # Like Optuna: a grace period of at least two heartbeats, so live trials are not reaped.
        values["grace_period"] = max(StorageSpec.grace_period, 2 * heartbeat)
    if values["grace_period"] <= heartbeat:
        fail(
            "[storage] grace_period:",
            f"{values['grace_period']} must be longer than heartbeat_interval ({heartbeat}), "
            "or running trials would be taken for dead",
        )
    return StorageSpec(**values)


# --------------------------------------------------------------------------- [snake]


def read_snake(table: Mapping[str, Any], base_dir: Path) -> SnakeSpec:
    """``[snake]`` (see :mod:`optuna_clank.spec.snake_table`), its problems worded like the other sections'."""
    try:
        return read_snake_table(table, base_dir)
    except SnakeSpecError as exc:
        where = f"[snake] {exc.key!r}:" if exc.unknown else (f"[snake] {exc.key}:" if exc.key else "[snake]:")
        fail(where, exc.what)
