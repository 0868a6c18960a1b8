"""Public names of a package that load on first use (PEP 562), so importing the package is free.

``arena``, ``sampler`` and the gbc snake package each map a public name to the module that
defines it; the module (and torch or optuna with it) is imported only when the name is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(
    namespace: dict[str, Any], homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package whose globals are ``namespace``.

    ``homes`` maps each lazy public name to the module that defines it. A name once loaded is
    stored in ``namespace``, so later look-ups never reach ``__getattr__`` again.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__
