"""The snake under tuning in its seat: one way in for built-in snakes and for snake servers.

:func:`seat_candidate` is the only place that turns a trial's values into a player. A built-in
snake plays in-process with the values merged into its config; a server snake gets its own
process per trial (:class:`~optuna_clank.snake_server.SnakeServer`), seated through the HTTP
player, and is stopped when the ``with`` block ends, however it ends.

Example::

    with seat_candidate(spec.snake, params, base=snake_base_of(spec), label="trial-3") as seated:
        result = play_match(seated.player, "baseline", games=10)
        seated.check_alive()  # a server that died mid-trial fails it, with its stderr tail
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.players import Faults, Player
from optuna_clank.snake import SnakeSpec, dotted_value, gbc_base_config, load_base_config
from optuna_clank.snake_server import SnakeServer, SnakeServerFailure

if TYPE_CHECKING:
    from optuna_clank.arena.match import GameOutcome
    from optuna_clank.spec import StudySpec


@dataclass
class SeatedCandidate:
    """A player ready for :func:`~optuna_clank.arena.match.play_match`, and its server if it has one."""

    player: Player
    server: SnakeServer | None = None

    def check_alive(self) -> None:
        """Raise :class:`~optuna_clank.snake_server.SnakeCrashedError` if the trial's server has exited."""
        if self.server is not None:
            self.server.check_alive()

    def check_faults(self, outcomes: Sequence[GameOutcome], max_faults: int) -> None:
        """Raise :class:`ServerFaultsError` if servers failed more answers than ``max_faults`` allows."""
        from optuna_clank.faults import count_faults, fault_problem

        problem = fault_problem(count_faults(outcomes), max_faults)
        if problem is not None:
            raise ServerFaultsError(problem, self.server.stderr_tail() if self.server is not None else "")


class ServerFaultsError(SnakeServerFailure):
    """A snake server (the tuned one, or an opponent) failed too many answers: the games measure no config."""


def snake_base_of(spec: StudySpec) -> Mapping[str, Any]:
    """The config a trial's values are written into: a server's own YAML, gbc's full config, or the built-in one."""
    if spec.snake.is_server:
        return load_base_config(spec.snake.base_config)
    if spec.snake.builtin == "gbc":
        return gbc_base_config(spec.snake.base_config)
    from optuna_clank.objective import base_config_of

    return base_config_of(spec)


def base_values(spec: StudySpec) -> dict[str, float]:
    """The base config's value of each search-space key (0 where a server's YAML lacks it, as bots read it)."""
    base = snake_base_of(spec)
    values = {}
    for param in spec.search_space:
        value = dotted_value(base, param.name)
        values[param.name] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    return values


@contextlib.contextmanager
def seat_candidate(
    snake: SnakeSpec, values: Mapping[str, Any], *, base: Mapping[str, Any], label: str = "candidate"
) -> Iterator[SeatedCandidate]:
    """The snake with ``values`` set on ``base``, seated; a server is stopped on leaving, always."""
    if not snake.is_server:
        yield SeatedCandidate(player=_builtin_player(snake.builtin, base, values))
        return
    from optuna_clank.arena.http_player import HttpSnake

    with SnakeServer(snake, values, base=base, label=label) as server:
        player = HttpSnake(
            server.url, name="candidate", timeout_ms=snake.move_timeout_ms, max_connections=snake.max_in_flight
        )
        try:
            yield SeatedCandidate(player=player, server=server)
        finally:
            player.close()


def _builtin_player(name: str, base: Mapping[str, Any], values: Mapping[str, Any]) -> Player:
    from optuna_clank.arena.config import with_values
    from optuna_clank.arena.snakes.heuristic import HeuristicSnake

    if name == "gbc":
        from optuna_clank.arena.snakes.gbc import GbcSnake
        from optuna_clank.snake import with_dotted_values

        return GbcSnake(with_dotted_values(base, values), name="candidate")
    if name != "heuristic":
        raise ValueError(f"no tunable built-in snake {name!r}")
    return HeuristicSnake(with_values(dict(base), values), name="candidate")


def fault_attrs(outcomes: Sequence[GameOutcome]) -> dict[str, int]:
    """The candidate server's faults over ``outcomes`` as trial user attributes (``http_timeouts``, ...)."""
    total = sum((o.candidate.faults for o in outcomes), Faults())
    return {f"http_{name}": int(count) for name, count in total._asdict().items()}


def export_server_config(
    spec: StudySpec, study: Any, path: Path | None, *, base: Path | None = None
) -> tuple[str, Any]:
    """A server's or gbc's best config: its YAML (``base`` or ``[snake] base_config``) with the best trial's values.

    Written atomically to ``path`` when given; returns the YAML text and the :class:`~optuna_clank.results.Best`.
    The built-in export merges onto the built-in schema; a server's keys are its own, so they go in as they are.
    A ``gbc`` study writes every key of go-battleclank's config (the base's value where untuned), so the Go bot
    reads exactly what the stand-in played, not 0 for the keys its own YAML lacks.
    """
    import yaml

    from optuna_clank.errors import UserError
    from optuna_clank.results import best_trial
    from optuna_clank.snake import with_dotted_values
    from optuna_clank.userfiles import write_text_atomically

    best = best_trial(study)
    if best is None:
        raise UserError(f"study {spec.name!r} has no completed trial yet: nothing to export")
    params = best.trial.params if best.trial is not None else {}  # None: no validated trial beats the base
    if spec.snake.builtin == "gbc":
        from optuna_clank.arena.snakes.gbc.schema import gbc_yaml_mapping, read_gbc_config

        base_config = gbc_base_config(base or spec.snake.base_config)
        played = with_dotted_values(base_config, _changed(params, base_config))
        config: dict[str, Any] = gbc_yaml_mapping(read_gbc_config(played))
    else:
        base_config = load_base_config(base or spec.snake.base_config)
        config = with_dotted_values(base_config, _changed(params, base_config))
    text = f"# optuna-clank: study {spec.name}, {best.describe()}\n" + yaml.safe_dump(config, sort_keys=False)
    if path is not None:
        write_text_atomically(path, text)
    return text, best


def _changed(params: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that differ from ``base``: where a trial holds the base's own value, the base's value
    (as written in its YAML) is kept, not a float's round trip of it."""
    from optuna_clank.base_trial import unchanged_names

    known = {name: dotted_value(base, name) for name in params}
    numbers = {n: v for n, v in known.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    same = unchanged_names(params, numbers)
    return {name: value for name, value in params.items() if name not in same}
