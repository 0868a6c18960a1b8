"""Exporting a study's best config: the YAML its snake reads, written atomically, and the one place that
decides its shape (the built-in schema, or a server's or go-battleclank's own YAML)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
import yaml
from optuna.trial import FrozenTrial

from optuna_clank.arena.config import Config, default_config, dump_config, load_config
from optuna_clank.arena.served.bot_spec import SnakeSpec
from optuna_clank.core.attributes import SPEC_ATTR
from optuna_clank.core.errors import UserError
from optuna_clank.core.paths import DEFAULT_STORAGE_DIR
from optuna_clank.core.redact import redact_url
from optuna_clank.core.userfiles import write_text_atomically
from optuna_clank.study.results import Best, best_trial
from optuna_clank.trial.snake_kind import HeuristicKind, kind_of

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec


def export_server_config(
    spec: StudySpec, study: Any, path: Path | None, *, base: Path | None = None
) -> tuple[str, Any]:
    """A server's or gbc's best config: its YAML (``base`` or ``[snake] base_config``) with the best trial's values.

    Written atomically to ``path`` when given; returns the YAML text and the :class:`~optuna_clank.study.results.Best`.
    The built-in export merges onto the built-in schema; a server's keys are its own, so they go in as they are.
    A ``gbc`` study writes every key of go-battleclank's config (the base's value where untuned), so the Go bot
    reads exactly what the stand-in played, not 0 for the keys its own YAML lacks.
    """

    best = _exportable_best(study, spec.name)
    params = best.trial.params if best.trial is not None else {}  # None: no validated trial beats the base
    kind = kind_of(spec)
    config = kind.exported_config(kind.base_config(base), params)
    text = f"# optuna-clank: study {spec.name}, {best.describe()}\n" + yaml.safe_dump(config, sort_keys=False)
    if path is not None:
        write_text_atomically(path, text)
    return text, best


def base_for_export(base: str | Path | None, study: optuna.Study) -> Config:
    """The config tuned values are merged onto: ``--base`` file, else the spec's, else default."""
    if base:
        return load_config(base)
    spec_base = (study.user_attrs.get(SPEC_ATTR) or {}).get("base_config")
    return load_config(spec_base) if spec_base else default_config()


def trial_config(trial: FrozenTrial, base: Config) -> Config:
    """The full go-battleclank config a trial played (its params set on ``base``).

    A parameter that holds the base's own value keeps the base's value as written (an older study's
    base trial stored ``999.9999999999998`` for 1000: the base's 1000 is written).
    """

    return HeuristicKind(SnakeSpec(), None).exported_config(base, trial.params)


def write_builtin_config(path: str | Path, config: Config, *, header: str = "") -> Path:
    """Write a config atomically (a concurrent reader never sees half a file)."""
    return write_text_atomically(path, _builtin_text(config, header))


def _builtin_text(config: Config, header: str) -> str:
    return "".join(f"# {line}\n" for line in header.splitlines()) + dump_config(config)


def checkpoint_path(study_name: str, storage_url: str, *, root: Path | None = None) -> Path:
    """``storage/<study>/best-<storage hash>.yaml``: one checkpoint per study AND storage.

    The same study name on two databases (a SQLite file and a PostgreSQL server, say) are two
    studies; the hash of the password-masked URL keeps their checkpoints apart, so one never
    overwrites the other's. The file's header names both in words.
    """

    digest = hashlib.blake2b(redact_url(storage_url).encode(), digest_size=4).hexdigest()
    folder = (root if root is not None else Path.cwd()) / DEFAULT_STORAGE_DIR / study_name
    return folder / f"best-{digest}.yaml"


def best_config(study: optuna.Study, best: Best, *, base: str | Path | None = None) -> Config:
    """The config ``best`` stands for: the trial's params on the base, or the base itself."""
    base_config = base_for_export(base, study)
    return base_config if best.trial is None else trial_config(best.trial, base_config)


def export_best(
    study: optuna.Study, path: str | Path, *, base: str | Path | None = None, storage: str = ""
) -> tuple[Path, Best]:
    """Write the study's best config (the validated verdict first) to ``path``.

    The header names the study, the storage (``storage``, already masked) and what the file
    holds: a trial with its paired difference from the base, or the base config itself.
    """
    best = _exportable_best(study, study.study_name)
    config = best_config(study, best, base=base)
    return write_builtin_config(path, config, header=_export_header(study, best, storage)), best


def _exportable_best(study: optuna.Study, name: str) -> Best:
    best = best_trial(study)
    if best is None:
        raise UserError(f"study {name!r} has no completed trial yet: nothing to export")
    return best


def _export_header(study: optuna.Study, best: Best, storage: str) -> str:
    """The study, the storage (already masked) and what the file holds, and when it was exported."""
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    where = f" on {storage}" if storage else ""
    return f"optuna-clank: study {study.study_name}{where}\nholds {best.describe()}\nexported {stamp}"


def export_study(
    spec: StudySpec, study: optuna.Study, path: str | Path | None, *, base: str | Path | None = None, storage: str = ""
) -> tuple[str, Best]:
    """The study's best config as the YAML its snake reads, written atomically to ``path`` when given.

    ``export`` and the run's checkpoints both come here, so the two never disagree on the shape: a snake
    that reads its own YAML (a server, gbc) gets its own keys (:func:`export_server_config`), the built-in
    heuristic its schema with a header naming the study and ``storage``. Returns the text (the bare config
    for the built-in snake when not written) and the :class:`~optuna_clank.study.results.Best`.
    """
    if spec.snake.reads_own_yaml:
        return export_server_config(
            spec, study, None if path is None else Path(path), base=None if base is None else Path(base)
        )
    best = _exportable_best(study, spec.name)
    config = best_config(study, best, base=base)
    if path is None:
        return dump_config(config), best
    text = _builtin_text(config, _export_header(study, best, storage))
    write_text_atomically(path, text)
    return text, best
