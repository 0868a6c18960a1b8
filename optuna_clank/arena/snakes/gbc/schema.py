"""go-battleclank's full config schema, and how the bot reads a YAML into it.

The bot (ErwinsExpertise/go-battleclank at commit 9c3d0b4) keeps its config in one Go struct of 82
fields; its shipped ``config.yaml`` names only 77 of them. It decodes the YAML with ``gopkg.in/yaml.v2``
into a zeroed struct, so a key the YAML leaves out reads as 0 / false / "" — *not* as the built-in
default. The built-in defaults (its ``GetDefaultConfig``) apply only when no YAML can be loaded at
all: no file, or a file yaml.v2 refuses (a value of the wrong type anywhere makes the whole decode
fail, and the bot then falls back to every default). This module reproduces exactly that, keyed by
dotted names such as ``weights.space`` (``read_gbc_config`` for a parsed mapping, ``load_gbc_yaml`` for a
file's text, with yaml.v2's own scalar rules), and writes YAML naming every key (``dump_gbc_yaml``), so
the Go bot reads the same values the stand-in played with.

``read_by_greedy`` on each key records whether the greedy search (the only path the bot's /move runs)
reads that key at all, from the source; ``GREEDY_INERT_KEYS`` are read but cannot change a move on a
standard board (see its docstring).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import yaml

from optuna_clank.core.userfiles import BoundedYamlLoader, short_repr

Value = float | int | bool | str

_INT64_MIN = -(2**63)
_INT64_LIMIT = 2**63  # yaml.v2 refuses a float for an int field unless it is <= MaxInt64 (2^63 as a float)


@dataclass(frozen=True)
class GbcKey:
    """One field of the bot's config struct."""

    name: str  # dotted: "<yaml section>.<yaml key>"
    kind: type  # float, int, bool or str: the Go field's type
    default: Value  # the bot's GetDefaultConfig value
    read_by_greedy: bool  # whether the greedy move choice reads it at all

    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def zero(self) -> Value:
        """The value a YAML that leaves this key out gives it."""
        return self.kind()


def _k(name: str, kind: type, default: Value, read: bool = False) -> GbcKey:
    return GbcKey(name, kind, kind(default), read)


# In the struct's field order (the order Go's yaml.Marshal writes them in).
GBC_KEYS: tuple[GbcKey, ...] = (
    _k("search.algorithm", str, "hybrid"),
    _k("search.max_depth", int, 121, read=True),
    _k("search.use_astar", bool, True, read=True),
    _k("search.max_astar_nodes", int, 400, read=True),
    _k("weights.space", float, 5.0, read=True),
    _k("weights.head_collision", float, 500.0, read=True),
    _k("weights.center_control", float, 2.0, read=True),
    _k("weights.wall_penalty", float, 5.0, read=True),
    _k("weights.cutoff", float, 200.0, read=True),
    _k("weights.food", float, 1.0),
    _k("weights.straight_movement", float, 25.0, read=True),
    _k("weights.space_base_multiplier", float, 1.5, read=True),
    _k("weights.space_enemy_multiplier", float, 2.5, read=True),
    _k("weights.space_healthy_multiplier", float, 1.2, read=True),
    _k("traps.moderate", float, 250.0),
    _k("traps.severe", float, 450.0),
    _k("traps.critical", float, 600.0),
    _k("traps.food_trap", float, 1200.0, read=True),
    _k("traps.food_trap_threshold", float, 0.7),
    _k("traps.food_trap_critical", float, 500.0, read=True),
    _k("traps.food_trap_low", float, 800.0, read=True),
    _k("traps.space_reduction_60", float, 1500.0, read=True),
    _k("traps.space_reduction_50", float, 800.0, read=True),
    _k("traps.space_reduction_ratio_60", float, 0.4, read=True),
    _k("traps.space_reduction_ratio_50", float, 0.5, read=True),
    _k("traps.space_reduction_min_base", float, 0.2, read=True),
    _k("pursuit.distance_2", float, 100.0),
    _k("pursuit.distance_3", float, 50.0),
    _k("pursuit.distance_4", float, 25.0),
    _k("pursuit.distance_5", float, 10.0),
    _k("trapping.weight", float, 400.0),
    _k("trapping.space_cutoff_threshold", float, 0.2),
    _k("trapping.trapped_ratio", float, 0.6),
    _k("food_urgency.critical", float, 1.8),
    _k("food_urgency.low", float, 1.4),
    _k("food_urgency.normal", float, 1.0),
    _k("food_weights.critical_health", float, 500.0, read=True),
    _k("food_weights.critical_health_outmatched", float, 400.0, read=True),
    _k("food_weights.low_health", float, 220.0, read=True),
    _k("food_weights.low_health_outmatched", float, 180.0, read=True),
    _k("food_weights.medium_health", float, 120.0, read=True),
    _k("food_weights.medium_health_outmatched", float, 0.6, read=True),
    _k("food_weights.healthy_base", float, 80.0, read=True),
    _k("food_weights.healthy_early_game", float, 100.0, read=True),
    _k("food_weights.healthy_outmatched", float, 0.5, read=True),
    _k("food_weights.healthy_ceiling", int, 80, read=True),
    _k("food_weights.healthy_ceiling_weight", float, 10.0, read=True),
    _k("food_weights.healthy_multiplier", float, 0.5, read=True),
    _k("food_weights.healthy_early_multiplier", float, 0.6, read=True),
    _k("late_game.turn_threshold", int, 150),
    _k("late_game.caution_multiplier", float, 1.1),
    _k("hybrid.use_lookahead_on_critical", bool, True),
    _k("hybrid.lookahead_depth", int, 3),
    _k("hybrid.use_mcts_in_endgame", bool, True),
    _k("hybrid.mcts_iterations", int, 100),
    _k("hybrid.mcts_timeout_ms", int, 200),
    _k("hybrid.critical_health", int, 30),
    _k("hybrid.critical_space_ratio", float, 3.0),
    _k("hybrid.critical_nearby_enemies", int, 2),
    _k("optimization.enabled", bool, False),
    _k("optimization.learning_rate", float, 0.001),
    _k("optimization.batch_size", int, 32),
    _k("optimization.episodes", int, 1000),
    _k("optimization.exploration_rate", float, 0.1),
    _k("optimization.discount_factor", float, 0.95),
    _k("emergency_wall_escape.min_distance", int, 2),
    _k("emergency_wall_escape.max_distance", int, 4),
    _k("emergency_wall_escape.turn_bonus", float, 150.0),
    _k("emergency_wall_escape.close_bonus", float, 200.0),
    _k("emergency_wall_escape.away_penalty", float, 100.0),
    _k("emergency_wall_escape.close_threshold", int, 2),
    _k("emergency_wall_escape.coord_tolerance", int, 3),
    _k("tactics.inward_trap_weight", float, 50.0),
    _k("tactics.inward_trap_min_enemy_length", int, 5),
    _k("tactics.aggressive_space_control_weight", float, 30.0),
    _k("tactics.aggressive_space_turn_threshold", int, 50),
    _k("tactics.predictive_avoidance_weight", float, 100.0),
    _k("tactics.energy_conservation_weight", float, 15.0),
    _k("tactics.adaptive_wall_hugging_weight", float, 25.0),
    _k("tactics.parallel_edge_base_penalty", float, 300.0, read=True),
    _k("tactics.parallel_edge_close_penalty", float, 450.0, read=True),
    _k("tactics.parallel_edge_larger_multiplier", float, 1.5, read=True),
)

GBC_KEY_BY_NAME: Mapping[str, GbcKey] = MappingProxyType({k.name: k for k in GBC_KEYS})
GBC_SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(k.section for k in GBC_KEYS))
GBC_DEFAULTS: Mapping[str, Value] = MappingProxyType({k.name: k.default for k in GBC_KEYS})

GREEDY_READ_KEYS: frozenset[str] = frozenset(k.name for k in GBC_KEYS if k.read_by_greedy)
"""Keys the greedy search reads (the rest are dead on the bot's /move path)."""

GREEDY_DEAD_KEYS: tuple[str, ...] = tuple(k.name for k in GBC_KEYS if not k.read_by_greedy)

GREEDY_INERT_KEYS: frozenset[str] = frozenset(
    {
        "traps.space_reduction_60",
        "traps.space_reduction_50",
        "traps.space_reduction_ratio_60",
        "traps.space_reduction_ratio_50",
        "traps.space_reduction_min_base",
    }
)
"""Read, yet unable to change a move: the bot compares the next cell's space with the space from its own
head, and its flood fill returns 0 from an occupied start — its head always is (any body of two or more
cells) — so ``next_space < 0 * ratio`` never holds."""


@dataclass(frozen=True)
class GbcConfig(Mapping[str, Value]):
    """Every key of the bot's config (dotted name -> value), as the bot would hold it.

    ``unknown_keys`` are names in the source mapping the bot ignores; ``type_errors`` describe values
    yaml.v2 refuses — when there are any, the bot (and so ``values``) falls back to every built-in
    default, and ``used_defaults`` is true.
    """

    by_name: Mapping[str, Value]
    unknown_keys: tuple[str, ...] = ()
    type_errors: tuple[str, ...] = ()
    used_defaults: bool = False

    def __post_init__(self) -> None:
        missing = [k.name for k in GBC_KEYS if k.name not in self.by_name]
        extra = [name for name in self.by_name if name not in GBC_KEY_BY_NAME]
        if missing or extra:
            raise ValueError(f"a GbcConfig needs exactly the bot's keys (missing {missing}, unknown {extra})")
        ordered = {k.name: self.by_name[k.name] for k in GBC_KEYS}
        object.__setattr__(self, "by_name", MappingProxyType(ordered))

    def __hash__(self) -> int:  # usable as a cache key although ``values`` is a mapping
        return hash((tuple(self.by_name.items()), self.unknown_keys, self.type_errors, self.used_defaults))

    def __getitem__(self, name: str) -> Value:
        return self.by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_name)

    def __len__(self) -> int:
        return len(self.by_name)

    def number(self, name: str) -> float:
        """A numeric key's value as the bot holds it (an int key stays an int), for arithmetic."""
        value = self[name]  # through __getitem__, so a subclass that records reads sees this one too
        if isinstance(value, str):
            raise TypeError(f"go-battleclank's {name!r} is text, not a number")
        return value

    def with_values(self, changes: Mapping[str, Value]) -> GbcConfig:
        """A copy with the given dotted keys changed (coerced the way the bot would read them)."""
        values = dict(self.by_name)
        for name, value in changes.items():
            spec = GBC_KEY_BY_NAME.get(name)
            if spec is None:
                raise KeyError(f"go-battleclank has no config key {name!r}")
            values[name] = _coerce(spec, value)
        return GbcConfig(values)


def default_gbc_config() -> GbcConfig:
    """What the bot plays with when it has no YAML at all (its GetDefaultConfig)."""
    return GbcConfig(dict(GBC_DEFAULTS), used_defaults=True)


def read_gbc_config(source: Mapping[str, Any] | None) -> GbcConfig:
    """Read a parsed YAML mapping the way the bot's yaml.v2 decode does.

    ``None`` means no YAML: the built-in defaults. Otherwise every key starts at its zero value and
    the mapping overwrites the ones it names; ints given as floats truncate toward zero (yaml.v2's
    ``int64(f)``), floats accept ints, a null reads as zero, and any other mismatch is a type error,
    which makes the bot — and this reader — fall back to all the defaults.
    """
    if source is None:
        return default_gbc_config()
    values: dict[str, Value] = {k.name: k.zero for k in GBC_KEYS}
    unknown: list[str] = []
    errors: list[str] = []
    if not isinstance(source, Mapping):
        errors.append(f"the config is a {type(source).__name__}, not a mapping")
        source = {}
    for section, body in source.items():
        if section not in GBC_SECTIONS:
            unknown.append(str(section))
            continue
        if body is None:
            continue
        if not isinstance(body, Mapping):
            errors.append(f"{section}: a {type(body).__name__}, not a mapping")
            continue
        for key, value in body.items():
            name = f"{section}.{key}"
            spec = GBC_KEY_BY_NAME.get(name)
            if spec is None:
                unknown.append(name)
                continue
            try:
                values[name] = _coerce(spec, value)
            except (TypeError, ValueError) as err:
                errors.append(f"{name}: {err}")
    if errors:
        return GbcConfig(dict(GBC_DEFAULTS), tuple(unknown), tuple(errors), used_defaults=True)
    return GbcConfig(values, tuple(unknown))


def load_gbc_yaml(text: str) -> GbcConfig:
    """Read a YAML file's text as the bot would: yaml.v2's scalars, then ``read_gbc_config``.

    PyYAML and yaml.v2 disagree on some plain scalars the bot's users write or its own ``Save`` emits:
    yaml.v2 reads ``1e+06``, ``1e3`` and ``2.5e3`` as floats (PyYAML: strings) and ``y``/``n`` as booleans.
    An empty file is an empty mapping (every key 0), unlike a missing file (every default).
    """
    loaded = yaml.load(text, Loader=_GoYamlLoader)  # a SafeLoader subclass that refuses alias bombs
    return read_gbc_config({} if loaded is None else loaded)


def dump_gbc_yaml(config: Mapping[str, Value]) -> str:
    """YAML text naming every key; yaml.v2 reads it back to exactly ``config``."""
    return yaml.safe_dump(gbc_yaml_mapping(config), sort_keys=False)


class _GoYamlLoader(BoundedYamlLoader):
    """PyYAML's safe loader (aliases bounded) plus the plain scalars yaml.v2 resolves differently."""

    def _construct_go_bool(self, node: yaml.ScalarNode) -> bool:
        return self.construct_scalar(node) in ("y", "Y")


_GO_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)$")  # exponent forms PyYAML misses
_GO_YES_NO = re.compile(r"^(?:y|Y|n|N)$")
_GoYamlLoader.add_implicit_resolver("tag:yaml.org,2002:float", _GO_FLOAT, list("-+.0123456789"))
_GoYamlLoader.add_implicit_resolver("tag:go.yaml,bool", _GO_YES_NO, list("yYnN"))
_GoYamlLoader.add_constructor("tag:go.yaml,bool", _GoYamlLoader._construct_go_bool)


def gbc_yaml_mapping(config: Mapping[str, Value]) -> dict[str, dict[str, Value]]:
    """A nested ``section -> key -> value`` mapping naming every key, ready for ``yaml.safe_dump``.

    The Go bot reads it back to exactly ``config`` (floats stay floats, ints ints), including the keys
    its own YAML leaves out — which it would otherwise read as 0.
    """
    nested: dict[str, dict[str, Value]] = {section: {} for section in GBC_SECTIONS}
    for spec in GBC_KEYS:
        nested[spec.section][spec.key] = _coerce(spec, config[spec.name])
    return nested


def _coerce(spec: GbcKey, value: Any) -> Value:
    """One YAML scalar into the Go field's type, as yaml.v2 does (raises on what it refuses)."""
    if value is None:
        return spec.zero
    if spec.kind is bool:
        if isinstance(value, bool):
            return value
        raise TypeError(f"cannot read {short_repr(value)} into a bool")
    if spec.kind is str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)  # yaml.v2 keeps a non-string scalar's text
        raise TypeError(f"cannot read {short_repr(value)} into a string")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"cannot read {short_repr(value)} into {spec.kind.__name__}")
    if spec.kind is float:
        return float(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not _INT64_MIN <= value <= _INT64_LIMIT or value == _INT64_LIMIT:
            raise ValueError(f"{value!r} does not fit an int")
        return int(value)  # truncates toward zero, like Go's int64(f)
    if not _INT64_MIN <= value < _INT64_LIMIT:
        raise ValueError(f"{value!r} does not fit an int")
    return value


MAX_HEALTH = 100
"""A snake's health never exceeds 100 (and a living snake's is at least 1)."""


def inert_keys(config: Mapping[str, Value]) -> frozenset[str]:
    """Keys the greedy search reads that cannot change a move *under this config*, from the source's products.

    Beyond ``GREEDY_INERT_KEYS`` (inert under any config): ``weights.space`` and the three
    ``space_*_multiplier`` keys multiply each other (the space weight is ``weights.space`` times the
    base or enemy multiplier, times the healthy one when thriving), so a zero factor silences the
    others; the food weights' ``healthy_*`` pairs multiply likewise, ``medium_health_outmatched``
    scales ``medium_health``; ``healthy_ceiling`` above 100 is never reached, which silences
    ``healthy_ceiling_weight``, and a ceiling of 1 or less is always reached, which silences every
    other food weight. The bot's own YAML lacks the three multipliers, so under it ``weights.space``
    is inert (the multipliers read 0) while each multiplier is live once set.
    """
    inert = set(GREEDY_INERT_KEYS)

    def zero(name: str) -> bool:
        return float(config[name]) == 0.0

    if zero("weights.space_base_multiplier") and zero("weights.space_enemy_multiplier"):
        inert |= {"weights.space", "weights.space_healthy_multiplier"}
    if zero("weights.space"):
        inert |= {f"weights.space_{part}_multiplier" for part in ("base", "enemy", "healthy")}
    food = "food_weights."
    for first, second in (("healthy_early_game", "healthy_early_multiplier"), ("healthy_base", "healthy_multiplier")):
        if zero(food + first):
            inert.add(food + second)
        if zero(food + second):
            inert.add(food + first)
    early_zero = zero(food + "healthy_early_game") or zero(food + "healthy_early_multiplier")
    if early_zero and (zero(food + "healthy_base") or zero(food + "healthy_multiplier")):
        inert.add(food + "healthy_outmatched")
    if zero(food + "medium_health"):
        inert.add(food + "medium_health_outmatched")
    ceiling = int(config[food + "healthy_ceiling"])
    if ceiling > MAX_HEALTH:
        inert.add(food + "healthy_ceiling_weight")
    elif ceiling <= 1:
        inert |= {k.name for k in GBC_KEYS if k.section == "food_weights" and k.read_by_greedy} - {
            food + "healthy_ceiling",
            food + "healthy_ceiling_weight",
        }
    return frozenset(inert)
