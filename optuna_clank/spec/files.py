"""Spec files: finding ``studies/<name>.toml`` (the user's, else a shipped one) and loading it.

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

from importlib import resources
from pathlib import Path
from typing import Any

from optuna_clank.core.userfiles import UserFileError, load_toml
from optuna_clank.spec.assembly import StudySpec, build_spec
from optuna_clank.spec.model import SpecError, SpecProblem
from optuna_clank.spec.values import did_you_mean

__all__ = ["find_spec", "load_spec", "shipped_spec_names", "shipped_spec_path"]


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
    repository = Path(__file__).resolve().parents[2]  # optuna_clank/spec/files.py -> the repository
    if (repository / "pyproject.toml").is_file() and (repository / "studies").is_dir():
        return repository / "studies"
    return None


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a spec file; any problem raises :class:`~optuna_clank.spec.model.SpecError`."""
    path = Path(path)
    label = str(path)
    data = _read_toml(path)
    try:
        return build_spec(data, path)
    except SpecProblem as exc:
        raise SpecError(f"{label}: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return load_toml(path, what="spec file")
    except UserFileError as exc:
        raise SpecError(str(exc)) from None
