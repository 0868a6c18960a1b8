"""Config values per seat: one snake's scoring code for a batch whose seats play different configs.

A tensor snake scores every seat of a batch at once. When those seats belong to several configs
of the snake (the trials sharing a continuous batch), each config key is looked up per seat: a
Python number where every config agrees, which is the very code path of a single config (a batch
of one config plays bit for bit as before), else a tensor ``[n]`` gathered by each seat's config.

Values keep their kind: a float key gives float64 (a Python float is a double, so arithmetic on
the tensor rounds exactly as on the number), an int key int64, a bool key bool.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import torch

_V = TypeVar("_V", float, int, bool, torch.Tensor, float | torch.Tensor, int | torch.Tensor, bool | torch.Tensor)

_TABLES: OrderedDict[tuple[int, ...], tuple[tuple[Mapping[str, Any], ...], ConfigTable]] = OrderedDict()
_MAX_TABLES = 8  # one per set of configs in flight; a continuous batch changes its set now and then


class SeatValues:
    """Each seat's value of every config key: a Python value where all seats agree, else a tensor [n]."""

    def __init__(
        self,
        constants: Mapping[str, Any],
        varying: Mapping[str, torch.Tensor] | None = None,
        unreadable: frozenset[str] = frozenset(),
    ) -> None:
        self._constants = constants
        self._varying = dict(varying or {})
        self._unreadable = unreadable

    @classmethod
    def of(cls, config: Mapping[str, Any] | SeatValues) -> SeatValues:
        """The values of one config for every seat (``config`` itself when it already is seat values)."""
        return config if isinstance(config, SeatValues) else cls(config)

    @property
    def varies(self) -> bool:
        """Whether any key differs between seats."""
        return bool(self._varying)

    def raw(self, key: str) -> Any:
        """The value as the config holds it (Python), or the seats' tensor."""
        varying = self._varying.get(key)
        if varying is not None:
            return varying
        if key in self._unreadable:
            raise ValueError(f"config key {key!r} differs between the seats' configs and is not a number")
        return self._constants[key]

    def number(self, key: str) -> float | torch.Tensor:
        """``float(config[key])``, or float64 [n]."""
        value = self.raw(key)
        return value.to(torch.float64) if isinstance(value, torch.Tensor) else float(value)

    def integer(self, key: str) -> int | torch.Tensor:
        """``int(config[key])``, or int64 [n]."""
        value = self.raw(key)
        return value.to(torch.int64) if isinstance(value, torch.Tensor) else int(value)

    def flag(self, key: str) -> bool | torch.Tensor:
        """``bool(config[key])``, or bool [n]."""
        value = self.raw(key)
        return value != 0 if isinstance(value, torch.Tensor) else bool(value)


class ConfigTable:
    """Several configs of one snake (same keys), ready to be looked up per seat.

    Keys on which every config agrees stay Python values; the others go into one float64, one
    int64 and one bool table ``[keys, configs]`` per device, so that a turn's lookup is three gathers.
    """

    def __init__(self, configs: Sequence[Mapping[str, Any]]) -> None:
        if not configs:
            raise ValueError("a config table needs at least one config")
        first = configs[0]
        self.size = len(configs)
        self._constants: dict[str, Any] = {}
        kinds: dict[str, list[str]] = {"float": [], "int": [], "bool": []}
        columns: dict[str, list[list[Any]]] = {"float": [], "int": [], "bool": []}
        unreadable = set()
        for key in first:
            values = [config[key] for config in configs]
            if all(_same(value, values[0]) for value in values[1:]):
                self._constants[key] = values[0]
                continue
            kind = _kind(values)
            if kind is None:  # text that differs: no scorer reads it per seat
                unreadable.add(key)
                continue
            kinds[kind].append(key)
            columns[kind].append(values)
        self._keys = kinds
        self._columns = columns
        self._unreadable = frozenset(unreadable)
        self._tables: dict[torch.device, dict[str, torch.Tensor]] = {}

    def for_seats(self, which: torch.Tensor) -> SeatValues:
        """The values of seats whose configs are ``which`` (int64 [n], indices into the configs)."""
        tables = self._on(which.device)
        varying: dict[str, torch.Tensor] = {}
        for kind, keys in self._keys.items():
            if keys:
                gathered = tables[kind].index_select(1, which)
                varying.update(zip(keys, gathered.unbind(0), strict=True))
        return SeatValues(self._constants, varying, self._unreadable)

    def _on(self, device: torch.device) -> dict[str, torch.Tensor]:
        tables = self._tables.get(device)
        if tables is None:
            dtypes = {"float": torch.float64, "int": torch.int64, "bool": torch.bool}
            tables = {
                kind: torch.tensor(rows, dtype=dtypes[kind], device=device)
                for kind, rows in self._columns.items()
                if rows
            }
            self._tables[device] = tables
        return tables


def table_for(configs: Sequence[Mapping[str, Any]]) -> ConfigTable:
    """The table of these config objects, built once while they stay in use (a small LRU by identity)."""
    key = tuple(id(config) for config in configs)
    found = _TABLES.get(key)
    if found is not None:
        _TABLES.move_to_end(key)
        return found[1]
    table = ConfigTable(configs)
    _TABLES[key] = (tuple(configs), table)  # holding the configs keeps their ids from being reused
    while len(_TABLES) > _MAX_TABLES:
        _TABLES.popitem(last=False)
    return table


def column(value: _V) -> _V:
    """A per-seat value shaped to broadcast against per-move tensors [n, 4]: a tensor [n] becomes [n, 1]."""
    return value.unsqueeze(1) if isinstance(value, torch.Tensor) else value


def _same(a: Any, b: Any) -> bool:
    """Equal and of one type (and of one sign for zeros): a value that may stand for both."""
    if type(a) is not type(b) or a != b:
        return False
    return not isinstance(a, float) or math.copysign(1.0, a) == math.copysign(1.0, b)


def _kind(values: Sequence[Any]) -> str | None:
    """The table a key's values go in: ``bool``, ``int``, ``float``, or ``None`` for anything else."""
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if any(isinstance(v, bool) or not isinstance(v, int | float) for v in values):
        return None
    if all(isinstance(v, int) for v in values):
        return "int"
    return "float"
