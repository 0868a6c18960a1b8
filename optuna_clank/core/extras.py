"""Optional extras: the packages a feature needs, and one clear line when one is missing.

litellm, psycopg, optuna-dashboard, cmaes and dask are extras of the package
(``pip install 'optuna-clank[llm]'``, ...). A feature that needs one imports it through
:func:`require`, so a missing package is a :class:`~optuna_clank.core.errors.UserError`
(``error: ...`` and exit 2 on the command line) that names the extra to install, never a traceback.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from optuna_clank.core.errors import UserError

__all__ = ["EXTRAS", "Extra", "MissingExtraError", "is_missing", "missing_extra", "require"]


@dataclass(frozen=True)
class Extra:
    """One optional extra: the module a feature imports, the package that holds it, the extra's name."""

    module: str
    package: str
    extra: str

    @property
    def install(self) -> str:
        return f"pip install 'optuna-clank[{self.extra}]'"


EXTRAS: dict[str, Extra] = {
    extra.extra: extra
    for extra in (
        Extra("litellm", "litellm", "llm"),
        Extra("psycopg", "psycopg", "postgres"),
        Extra("optuna_dashboard", "optuna-dashboard", "dashboard"),
        Extra("cmaes", "cmaes", "cmaes"),
        Extra("distributed", "dask's distributed package", "dask"),
    )
}
"""Extra name -> what it provides; pyproject.toml's ``[project.optional-dependencies]`` lists the same."""


class MissingExtraError(UserError, ImportError):
    """A feature's optional package is not installed; ``str()`` says which extra to install."""


def is_missing(exc: ImportError, module: str) -> bool:
    """Whether ``exc`` says ``module`` itself (its top-level package) cannot be imported.

    An ImportError raised *inside* an installed package (a broken dependency of it) is not
    a missing extra and is left alone, so its traceback still shows what is broken.
    """
    top = module.split(".", 1)[0]
    return exc.name is not None and exc.name.split(".", 1)[0] == top


def require(extra: str, needed_by: str) -> ModuleType:
    """Import the module of ``extra`` for ``needed_by`` (``"the LLM sampler"``), or say how to install it."""
    wanted = EXTRAS[extra]
    try:
        return importlib.import_module(wanted.module)
    except ImportError as exc:
        if not is_missing(exc, wanted.module):
            raise
        raise missing_extra(extra, needed_by) from None


def missing_extra(extra: str, needed_by: str, otherwise: str = "") -> MissingExtraError:
    """The error for ``needed_by`` without the package of ``extra``: one line with the install command.

    ``otherwise`` names a way to do without it (``pass --no-llm``).
    """
    wanted = EXTRAS[extra]
    instead = f" (or {otherwise})" if otherwise else ""
    return MissingExtraError(f"{needed_by} needs {wanted.package}: {wanted.install}{instead}")
