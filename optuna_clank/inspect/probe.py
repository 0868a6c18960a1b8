"""Which config keys change a snake's moves (``probe``), and how often two snakes agree (``fidelity``).

A key is **live** when pushing it to its low or its high bound changes the snake's move on at
least one recorded position, **dead** when neither bound changes any: tuning a dead key only
spends trials. Bounds come from the spec's ``[search_space]`` where a spec is given, else from
the built-in snake's ranges (:mod:`optuna_clank.arena.params`), else from the base value: 0 and
twice the base value (0 and 1 for a base of 0; missing keys read as 0).

Agreement is counted on positions both snakes answered; positions either one left unanswered
(a late, failed or invalid answer of a server) are reported apart, never counted as a change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optuna_clank.arena.params import PARAMS_BY_NAME
from optuna_clank.core.stats import wilson_interval
from optuna_clank.inspect.positions import phases, safe_move_counts
from optuna_clank.inspect.snake_target import Moves, ProbeKey, SnakeTarget

PHASES = ("early", "mid", "late")


@dataclass(frozen=True)
class KeyResult:
    """What pushing one key to each bound did to the moves."""

    key: ProbeKey
    base: Any
    changed_low: int
    changed_high: int
    compared_low: int
    compared_high: int

    @property
    def share_low(self) -> float:
        return self.changed_low / self.compared_low if self.compared_low else 0.0

    @property
    def share_high(self) -> float:
        return self.changed_high / self.compared_high if self.compared_high else 0.0

    @property
    def live(self) -> bool:
        return self.changed_low + self.changed_high > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key.name,
            "low": self.key.low,
            "high": self.key.high,
            "int": self.key.is_int,
            "log": self.key.log,
            "bounds_from": self.key.source,
            "base": self.base,
            "changed_at_low": round(self.share_low, 4),
            "changed_at_high": round(self.share_high, 4),
            "positions": max(self.compared_low, self.compared_high),
            "live": self.live,
        }


def default_bounds(name: str, base: Any) -> ProbeKey:
    """0 and twice the base value (0 and 1 for a base of 0 or a missing key), as integers for integer bases."""
    value = float(base) if isinstance(base, int | float) and not isinstance(base, bool) else 0.0
    low, high = sorted((0.0, 2.0 * value))
    if low == high:
        low, high = 0.0, 1.0
    is_int = isinstance(base, int) and not isinstance(base, bool)
    return ProbeKey(name, low, high, is_int=is_int, source="0..2x base" if value else "0..1 (base 0)")


def probe_keys_of(target: SnakeTarget, names: Sequence[str] | None) -> list[ProbeKey]:
    """The keys to probe with their bounds: the spec's, else every numeric key; ``names`` picks some."""
    spec_keys = {key.name: key for key in target.spec_keys()}
    chosen = list(names) if names else (list(spec_keys) or target.numeric_keys())
    keys = []
    for name in chosen:
        known = spec_keys.get(name) or target.known_bounds(name)
        keys.append(known or default_bounds(name, target.base_value(name)))
    return keys


def probe(
    target: SnakeTarget,
    keys: Sequence[ProbeKey],
    requests: Sequence[Mapping[str, Any]],
    *,
    jobs: int = 1,
    on_variant: Callable[[], object] | None = None,
) -> tuple[list[KeyResult], Moves]:
    """Each key at its low and high bound against the base config's moves.

    A server snake is asked ``jobs`` variants at once; a built-in one scores all variants together
    on every usable CPU core (:meth:`SnakeTarget.answer_variants`).
    """
    variants: list[dict[str, Any]] = [{}]
    for key in keys:
        for bound in (key.low, key.high):
            variants.append({key.name: int(bound) if key.is_int else bound})

    answers = target.answer_variants(requests, variants, jobs=jobs, on_variant=on_variant)
    base = answers[0]
    results = []
    for index, key in enumerate(keys):
        low, high = answers[1 + 2 * index], answers[2 + 2 * index]
        changed_low, compared_low = _changes(base, low)
        changed_high, compared_high = _changes(base, high)
        results.append(
            KeyResult(key, target.base_value(key.name), changed_low, changed_high, compared_low, compared_high)
        )
    return results, base


def _changes(base: Moves, other: Moves) -> tuple[int, int]:
    """(positions whose move changed, positions both answered)."""
    pairs = [(a, b) for a, b in zip(base, other, strict=True) if a is not None and b is not None]
    return sum(a != b for a, b in pairs), len(pairs)


def search_space_toml(results: Sequence[KeyResult], *, any_key: bool) -> str:
    """A ``[search_space]`` block of the live keys, to paste into a spec.

    ``any_key`` is for server snakes; a built-in snake's spec may only tune its tunable
    parameters, so its other live keys are listed as comments.
    """

    lines = ["[search_space]"]
    skipped = []
    for result in results:
        if not result.live:
            continue
        key = result.key
        if not any_key and key.name not in PARAMS_BY_NAME:
            skipped.append(key.name)
            continue
        parts = [f"low = {_number(key.low, key.is_int)}", f"high = {_number(key.high, key.is_int)}"]
        if key.log:
            parts.append("log = true")
        if key.is_int:
            parts.append("int = true")
        lines.append(f'"{key.name}" = {{ {", ".join(parts)} }}')
    if len(lines) == 1:
        lines.append("# no live key")
    for name in skipped:
        lines.append(f"# live, but not a tunable parameter of the built-in snake: {name}")
    return "\n".join(lines) + "\n"


def _number(value: float, is_int: bool) -> str:
    return str(int(value)) if is_int else repr(float(value))


# --------------------------------------------------------------------------- fidelity


@dataclass(frozen=True)
class Agreement:
    """Agreement on one group of positions, with its Wilson 95% interval."""

    label: str
    agree: int
    total: int

    @property
    def share(self) -> float:
        return self.agree / self.total if self.total else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.agree, self.total)

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "positions": self.total,
            "agree": self.agree,
            "share": round(self.share, 4),
            "ci": [round(low, 4), round(high, 4)],
        }


def agreement(moves_a: Moves, moves_b: Moves, requests: Sequence[Mapping[str, Any]]) -> tuple[list[Agreement], int]:
    """Agreement overall, by game phase and on real choices (more than one safe move); and the unanswered count."""
    by_phase = phases(requests)
    safe = safe_move_counts(requests)
    groups: dict[str, list[int]] = {"all": [], **{phase: [] for phase in PHASES}, "real choice": []}
    unanswered = 0
    for index, (a, b) in enumerate(zip(moves_a, moves_b, strict=True)):
        if a is None or b is None:
            unanswered += 1
            continue
        same = int(a == b)
        groups["all"].append(same)
        groups[by_phase[index]].append(same)
        if safe[index] > 1:
            groups["real choice"].append(same)
    return [Agreement(label, sum(values), len(values)) for label, values in groups.items()], unanswered
