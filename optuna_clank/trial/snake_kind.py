"""The kinds of tuned snake, one object each: its base config, how a trial's values go into it, who plays
it, and the config an export writes.

There are three kinds. The built-in heuristic reads its own schema; ``gbc``, the go-battleclank
stand-in, reads the bot's own YAML; a served bot is a program of its own, with one process per config.
Every other module asks the kind (:func:`kind_of`, :func:`snake_kind`) and does not check which one it
holds. The kind is also the one place that knows which spec field names the base config: the
heuristic's comes from ``[benchmark] base_config``, every other kind's from ``[snake] base_config``.

Example::

    kind = kind_of(spec)
    with kind.seat(params, base=kind.base_config(), label="trial-3") as seated:
        result = play_match(seated.player, "baseline", games=10)
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.config import Config, default_config, load_config, with_values
from optuna_clank.arena.served.bot_process import SnakeServer
from optuna_clank.arena.served.bot_spec import (
    SnakeSpec,
    dotted_value,
    gbc_base_config,
    load_base_config,
    with_dotted_values,
)
from optuna_clank.arena.snakes.gbc.schema import gbc_yaml_mapping, read_gbc_config
from optuna_clank.trial.param_diff import changed_params

if TYPE_CHECKING:
    from optuna_clank.arena.players import Player
    from optuna_clank.spec import StudySpec
    from optuna_clank.trial.candidate import SeatedCandidate


@dataclass(frozen=True)
class SnakeKind(ABC):
    """One kind of tuned snake; ``base_path`` is its base config file (``None``: the snake's defaults)."""

    snake: SnakeSpec
    base_path: Path | None

    @abstractmethod
    def base_config(self, path: Path | None = None) -> Mapping[str, Any]:
        """The config a trial's values are written into: ``path``'s when given, else the kind's own base."""

    @abstractmethod
    def played_config(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> Mapping[str, Any]:
        """The whole config the snake plays with ``values`` set on ``base``."""

    def exported_config(self, base: Mapping[str, Any], params: Mapping[str, Any]) -> Mapping[str, Any]:
        """What an export writes for ``params``. Where a trial holds the base's own value, the base's value
        is kept as written in its YAML, not a float's round trip of it."""
        return self.played_config(base, changed_params(params, base))

    @contextlib.contextmanager
    def seat(self, values: Mapping[str, Any], *, base: Mapping[str, Any], label: str) -> Iterator[SeatedCandidate]:
        """The snake with ``values`` set on ``base``, ready to play."""
        from optuna_clank.trial.candidate import SeatedCandidate  # noqa: PLC0415 - deferred: loads torch

        del label
        yield SeatedCandidate(player=self.player(base, values))

    def player(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> Player:
        """The in-process player of a built-in kind."""
        raise NotImplementedError(f"{type(self).__name__} has no in-process player")


class HeuristicKind(SnakeKind):
    """The built-in heuristic snake, played in-process; its config follows the built-in schema."""

    def base_config(self, path: Path | None = None) -> Config:
        chosen = path or self.base_path
        return load_config(chosen) if chosen else default_config()

    def played_config(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> Config:
        return with_values(dict(base), values)

    def exported_config(self, base: Mapping[str, Any], params: Mapping[str, Any]) -> Config:
        return self.played_config(base, changed_params(params, base))

    def player(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> Player:
        from optuna_clank.arena.snakes.heuristic import HeuristicSnake  # noqa: PLC0415 - deferred: loads torch

        return HeuristicSnake(self.played_config(base, values), name="candidate")


class GbcKind(SnakeKind):
    """go-battleclank's stand-in, played in-process. It reads the bot's own YAML and exports every key of it,
    so the Go bot reads exactly what the stand-in played, not 0 for the keys its own YAML lacks."""

    def base_config(self, path: Path | None = None) -> dict[str, Any]:
        return gbc_base_config(path or self.base_path)

    def played_config(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        return with_dotted_values(base, values)

    def exported_config(self, base: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        played = with_dotted_values(base, changed_params(params, base))
        return gbc_yaml_mapping(read_gbc_config(played))

    def player(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> Player:
        from optuna_clank.arena.snakes.gbc import GbcSnake  # noqa: PLC0415 - deferred: loads torch

        return GbcSnake(self.played_config(base, values), name="candidate")


class ServedKind(SnakeKind):
    """A Battlesnake server. Its keys are its own (whatever its YAML holds) and it runs one process per
    config, stopped when the seat is left, however it is left."""

    def base_config(self, path: Path | None = None) -> dict[str, Any]:
        return load_base_config(path or self.base_path)

    def played_config(self, base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        return with_dotted_values(base, values)

    @contextlib.contextmanager
    def seat(self, values: Mapping[str, Any], *, base: Mapping[str, Any], label: str) -> Iterator[SeatedCandidate]:
        from optuna_clank.arena.http.player import HttpSnake  # noqa: PLC0415 - deferred: loads torch
        from optuna_clank.trial.candidate import SeatedCandidate  # noqa: PLC0415 - deferred: loads torch

        snake = self.snake
        with SnakeServer(snake, values, base=base, label=label) as server:
            player = HttpSnake(
                server.url, name="candidate", timeout_ms=snake.move_timeout_ms, max_connections=snake.max_in_flight
            )
            try:
                yield SeatedCandidate(player=player, server=server)
            finally:
                player.close()


def snake_kind(snake: SnakeSpec, *, heuristic_base: Path | None = None) -> SnakeKind:
    """The kind of ``snake``. ``heuristic_base`` is the built-in heuristic's base config file, which a
    study names in ``[benchmark] base_config``."""
    if snake.is_server:
        return ServedKind(snake, snake.base_config)
    if snake.builtin == "gbc":
        return GbcKind(snake, snake.base_config)
    if snake.builtin == "heuristic":
        return HeuristicKind(snake, heuristic_base)
    raise ValueError(f"no tunable built-in snake {snake.builtin!r}")


def kind_of(spec: StudySpec) -> SnakeKind:
    """The kind of snake a study tunes, with the base config its spec names."""
    return snake_kind(spec.snake, heuristic_base=spec.benchmark.base_config)


def base_values(spec: StudySpec) -> dict[str, float]:
    """The base config's value of each search-space key (0 where a server's YAML lacks it, as bots read it)."""
    base = kind_of(spec).base_config()
    values = {}
    for param in spec.search_space:
        value = dotted_value(base, param.name)
        values[param.name] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    return values


def seat_candidate(
    snake: SnakeSpec, values: Mapping[str, Any], *, base: Mapping[str, Any], label: str = "candidate"
) -> contextlib.AbstractContextManager[SeatedCandidate]:
    """The snake with ``values`` set on ``base``, seated by its kind; a server is stopped on leaving, always."""
    return snake_kind(snake).seat(values, base=base, label=label)
