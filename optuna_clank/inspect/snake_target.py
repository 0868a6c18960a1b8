"""Snakes named on the command line, asked for moves with or without changes to their config.

``--snake`` of ``probe`` and ``fidelity`` takes a built-in snake (``heuristic``, ``baseline``,
a config YAML), a server that is already running (``http://...`` or ``url:http://...``), or a
study spec (``my.toml``) whose ``[snake]`` and ``[search_space]`` say what to start and which
keys to vary. A spec's server snake is started per config variant with the per-trial server
machinery (:class:`~optuna_clank.arena.served.bot_process.SnakeServer`), so each variant has its own process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.config import ConfigError, default_config, flatten, with_values
from optuna_clank.arena.opponents import check_opponent, is_server_reference
from optuna_clank.arena.params import PARAMS_BY_NAME
from optuna_clank.arena.served.bot_process import SnakeServer
from optuna_clank.arena.served.bot_spec import SnakeSpec, dotted_value, load_base_config
from optuna_clank.core.errors import UserError
from optuna_clank.trial.snake_file import load_snake_file

if TYPE_CHECKING:
    from optuna_clank.arena.players import Player

Moves = list[str | None]

_MIN_DECISIONS_PER_PROCESS = 20_000
"""Moves (positions x variants) a worker process must have to decide before a probe splits: about
a second's work, against the few tens of milliseconds a forked worker costs."""


@dataclass(frozen=True)
class ProbeKey:
    """A config key and the two bounds a probe pushes it to; ``source`` says where they came from."""

    name: str
    low: float
    high: float
    is_int: bool = False
    log: bool = False
    source: str = ""


class SnakeTarget:
    """A snake that answers ``/move`` requests; ``can_vary`` snakes also take config changes."""

    label: str = "snake"
    can_vary: bool = False
    free_keys: bool = False
    """Whether a spec of this snake may tune any of its keys (a server's, gbc's), not only the heuristic's."""

    def answer(self, requests: Sequence[Mapping[str, Any]], values: Mapping[str, Any] | None = None) -> Moves:
        """The move for each request, with ``values`` (dotted keys) set on the base config."""
        raise NotImplementedError

    def answer_variants(
        self,
        requests: Sequence[Mapping[str, Any]],
        variants: Sequence[Mapping[str, Any]],
        *,
        jobs: int = 1,
        on_variant: Callable[[], object] | None = None,
    ) -> list[Moves]:
        """:meth:`answer` for each config variant, in order; ``jobs`` variants asked at once (threads)."""

        def run(values: Mapping[str, Any]) -> Moves:
            moves = self.answer(requests, values)
            if on_variant is not None:
                on_variant()
            return moves

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(run, variants))

    def base_value(self, name: str) -> Any:
        """The base config's value of a dotted key (``None`` where it has none)."""
        return None

    def numeric_keys(self) -> list[str]:
        """Every numeric key of the base config, dotted, in file order."""
        return []

    def spec_keys(self) -> list[ProbeKey]:
        """Keys (with bounds) a spec's ``[search_space]`` names; empty when no spec was given."""
        return []

    def known_bounds(self, name: str) -> ProbeKey | None:
        """Built-in bounds of a key (the built-in snake's ranges), if any."""
        return None


class BuiltinTarget(SnakeTarget):
    """A built-in snake; the heuristic snake and ``gbc`` (any config) can vary, other built-ins answer as they are."""

    def __init__(
        self,
        name: str | None,
        config: str | Path | dict[str, Any] | None,
        *,
        spec_keys: Sequence[ProbeKey] = (),
        label: str = "",
    ) -> None:
        from optuna_clank.arena.move_oracle import resolve_snake  # noqa: PLC0415 - deferred: loads torch
        from optuna_clank.arena.snakes.heuristic import HeuristicSnake  # noqa: PLC0415 - deferred: loads torch

        self._player = resolve_snake(name, config)
        self.label = label or (str(config) if isinstance(config, str | Path) else (name or "heuristic"))
        from optuna_clank.arena.snakes.gbc import GbcSnake  # noqa: PLC0415 - deferred: loads torch

        self._gbc = self._player.config if isinstance(self._player, GbcSnake) else None
        self.can_vary = isinstance(self._player, HeuristicSnake) or self._gbc is not None
        self.free_keys = self._gbc is not None
        self._config = self._player.config if isinstance(self._player, HeuristicSnake) else default_config()
        self._spec_keys = list(spec_keys)

    def answer(self, requests: Sequence[Mapping[str, Any]], values: Mapping[str, Any] | None = None) -> Moves:
        from optuna_clank.arena.move_oracle import answer_builtin  # noqa: PLC0415 - deferred: loads torch

        return answer_builtin(self._variant(values), requests)

    def answer_variants(
        self,
        requests: Sequence[Mapping[str, Any]],
        variants: Sequence[Mapping[str, Any]],
        *,
        jobs: int = 1,
        on_variant: Callable[[], object] | None = None,
    ) -> list[Moves]:
        """Every variant's moves with the requests read once, the variants' seats scored together
        (one vectorised call for many configs) and shared by processes on the idle CPU cores.

        ``jobs`` is for servers; a built-in snake uses every core it may (see
        :mod:`optuna_clank.arena.processes`).
        """
        from optuna_clank.arena.move_oracle import MIXED_SEATS, answer_mixed  # noqa: PLC0415 - deferred: loads torch
        from optuna_clank.arena.processes import fork_map, idle_cores  # noqa: PLC0415 - deferred: loads torch

        del jobs
        players = [self._variant(values) for values in variants]  # a bad value fails here, before any work
        per_chunk = max(1, min(len(players), MIXED_SEATS // max(1, len(requests))))
        chunks = [
            list(range(start, min(start + per_chunk, len(players)))) for start in range(0, len(players), per_chunk)
        ]
        decisions = len(players) * len(requests)
        workers = min(idle_cores(), len(chunks)) if decisions >= _MIN_DECISIONS_PER_PROCESS * 2 else 1

        def answer_chunk(chunk: list[int]) -> list[Moves]:
            return answer_mixed([players[i] for i in chunk], requests)

        def done(index: int, answers: list[Moves]) -> None:
            if on_variant is not None:
                for _ in answers:
                    on_variant()

        answered = fork_map(answer_chunk, chunks, workers=workers, on_result=done)
        return [moves for answers in answered for moves in answers]

    def _variant(self, values: Mapping[str, Any] | None) -> Player:
        """The player with ``values`` (dotted keys) set on the base config; a bad value is a user error."""
        from optuna_clank.arena.snakes.heuristic import HeuristicSnake  # noqa: PLC0415 - deferred: loads torch

        if values and self._gbc is not None:
            try:
                from optuna_clank.arena.snakes.gbc import GbcSnake  # noqa: PLC0415 - deferred: loads torch

                return GbcSnake(self._gbc.with_values(values), name=self.label)
            except (KeyError, TypeError, ValueError) as exc:
                raise UserError(f"{self.label}: {exc}") from None
        if values:
            if not self.can_vary:
                raise UserError(f"{self.label}: a built-in snake other than the heuristic one takes no config")
            try:
                return HeuristicSnake(with_values(self._config, values), name=self.label)
            except ConfigError as exc:
                raise UserError(f"{self.label}: {exc}") from None
        return self._player

    def base_value(self, name: str) -> Any:
        if self._gbc is not None:
            return self._gbc.get(name)
        return dotted_value(self._config, name)

    def numeric_keys(self) -> list[str]:

        if self._gbc is not None:  # every numeric key of the bot's schema, the ones its YAML lacks too
            return [name for name, value in self._gbc.items() if _is_number(value)]

        return [name for name, value in flatten(self._config).items() if _is_number(value)]

    def spec_keys(self) -> list[ProbeKey]:
        return list(self._spec_keys)

    def known_bounds(self, name: str) -> ProbeKey | None:

        if self._gbc is not None:
            return None  # the heuristic's ranges are not the bot's
        param = PARAMS_BY_NAME.get(name)
        if param is None:
            return None
        return ProbeKey(name, param.low, param.high, is_int=param.is_int, log=param.log, source="built-in range")


class RunningServerTarget(SnakeTarget):
    """A server that already runs: it answers, but its config cannot be changed from here."""

    def __init__(self, url: str, *, timeout_ms: int) -> None:
        from optuna_clank.arena.move_oracle import server_url  # noqa: PLC0415 - deferred: loads torch

        self.url = server_url(url)
        self.label = self.url
        self.timeout_ms = timeout_ms

    def answer(self, requests: Sequence[Mapping[str, Any]], values: Mapping[str, Any] | None = None) -> Moves:
        from optuna_clank.arena.move_oracle import ask_server  # noqa: PLC0415 - deferred: loads torch

        if values:
            raise UserError(f"{self.url}: a running server reads its own config; name a spec whose [snake] starts it")
        return ask_server(self.url, requests, timeout_ms=self.timeout_ms)


class StartedServerTarget(SnakeTarget):
    """A spec's ``[snake]`` server: a fresh process per config variant, stopped after it answered."""

    can_vary = True
    free_keys = True

    def __init__(
        self,
        snake: SnakeSpec,
        *,
        config: str | Path | None = None,
        spec_keys: Sequence[ProbeKey] = (),
        base: Mapping[str, Any] | None = None,
    ) -> None:
        self.snake = snake
        if base is not None and config is None:
            self.base = dict(base)
        else:
            self.base = load_base_config(Path(config) if config is not None else snake.base_config)
        self.label = snake.describe()
        self._spec_keys = list(spec_keys)

    def answer(self, requests: Sequence[Mapping[str, Any]], values: Mapping[str, Any] | None = None) -> Moves:
        from optuna_clank.arena.move_oracle import ask_server  # noqa: PLC0415 - deferred: loads torch

        with SnakeServer(self.snake, values or {}, base=self.base, label="probe") as server:
            return ask_server(
                server.url, requests, timeout_ms=self.snake.move_timeout_ms, concurrency=self.snake.max_in_flight
            )

    def base_value(self, name: str) -> Any:
        return dotted_value(self.base, name)

    def numeric_keys(self) -> list[str]:
        return [name for name, value in _leaves(self.base) if _is_number(value)]

    def spec_keys(self) -> list[ProbeKey]:
        return list(self._spec_keys)


def resolve_target(text: str, config: str | Path | None = None, *, timeout_ms: int = 500) -> SnakeTarget:
    """The snake behind a ``--snake`` argument (and its ``--config``), see the module docstring."""

    if text.endswith(".toml"):
        return _spec_target(Path(text), config)
    if is_server_reference(text):
        if config is not None:
            raise UserError(f"{text}: a running server reads its own config; --config does not apply")
        return RunningServerTarget(text, timeout_ms=timeout_ms)
    check_target_name(text, config)
    return BuiltinTarget(text, config)


def check_target_name(text: str, config: str | Path | None = None) -> None:
    """Raise the :class:`UserError` that :func:`resolve_target` would for an unknown snake name, without loading snakes.

    A mistake in a name is then reported before torch loads (before anything is built for the other snake).
    """

    if config is None and not text.endswith(".toml") and not is_server_reference(text):
        check_opponent(text)


FIXED_BUILTINS = frozenset({"baseline", "random-safe", "greedy-food"})
"""Built-in snakes without a config: they answer as they are, so nothing about them can be varied."""


def cannot_vary(text: str, config: str | Path | None = None) -> bool:
    """Whether ``--snake text`` names a snake whose config no probe can change, known from the name alone."""

    return config is None and (text in FIXED_BUILTINS or is_server_reference(text))


def _spec_target(path: Path, config: str | Path | None) -> SnakeTarget:
    """The snake of a snake file (only ``[snake]``) or of a study spec (its ``[search_space]`` gives the keys)."""

    read = load_snake_file(path)
    snake = read.snake
    keys = [ProbeKey(p.name, p.low, p.high, is_int=p.is_int, log=p.log, source="spec") for p in read.search_space]
    if snake.is_server:
        return StartedServerTarget(snake, config=config, spec_keys=keys, base=None if config else read.base)
    if snake.builtin == "gbc":  # the bot's YAML (its defaults without one), not the heuristic's config
        own = config if config is not None else snake.base_config
        return BuiltinTarget("gbc", own, spec_keys=keys, label=f"gbc ({path.name})")
    chosen: Any = config if config is not None else dict(read.base)
    return BuiltinTarget(snake.builtin, chosen, spec_keys=keys, label=f"{snake.builtin} ({path.name})")


def _leaves(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    leaves: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        leaves.extend(_leaves(value, f"{name}.") if isinstance(value, Mapping) else [(name, value)])
    return leaves


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
