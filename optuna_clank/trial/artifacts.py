"""Trial artifacts under readable names: ``storage/<study>/replays/trial-12-game-3-replay.json``.

Optuna's ``upload_artifact`` stores every file under a fresh UUID, without an extension (and
optuna-dashboard serves artifacts by such ids only), so ``storage/<study>/artifacts`` cannot be read
without Optuna's API. Each trial's replay and picture are therefore also kept under readable names with
their extensions in ``storage/<study>/replays`` (a hard link to the same file where the file system
allows, so nothing is stored twice). The trial note names that file, ``replay --study NAME --trial N``
finds it, and the dashboard serves the artifact as before. A name already taken (the same study name on
a second storage) gets ``-2``, ``-3``, ... before its extension, so no file is ever overwritten.

Studies written before this have only the UUID files; :func:`trial_replay` finds those through the
artifact's record on the trial.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from optuna_clank.core.errors import UserError
from optuna_clank.core.optuna_private import storage_of

if TYPE_CHECKING:
    import optuna
    from optuna.artifacts import ArtifactMeta
    from optuna.trial import FrozenTrial

__all__ = ["READABLE_DIR", "TrialReplay", "readable_dir", "replay_name", "save_trial_artifact", "trial_replay"]

REPLAY_SUFFIX = "-replay.json"
"""How a trial's replay artifact's name ends (its picture ends in ``.svg``)."""

READABLE_DIR = "replays"
"""The folder beside ``artifacts`` that holds the readable names."""

_MAX_TRIES = 1000


def readable_dir(artifacts: Path) -> Path:
    """``storage/<study>/replays`` for ``storage/<study>/artifacts``."""
    return artifacts.parent / READABLE_DIR


def replay_name(trial_number: int, game: int) -> str:
    """The replay's file name: ``trial-12-game-3-replay.json``."""
    return f"trial-{trial_number}-game-{game}{REPLAY_SUFFIX}"


def save_trial_artifact(
    artifacts: Path, trial: optuna.Trial, name: str, text: str, *, mimetype: str | None = None
) -> Path:
    """Write ``text`` as ``replays/<name>`` (made unique) and upload it as the trial's artifact; returns that file."""
    from optuna.artifacts import FileSystemArtifactStore, upload_artifact  # noqa: PLC0415 - deferred: loads optuna

    readable = _write_new(readable_dir(artifacts), name, text)
    artifacts.mkdir(parents=True, exist_ok=True)
    artifact_id = upload_artifact(
        artifact_store=FileSystemArtifactStore(artifacts),
        file_path=str(readable),
        study_or_trial=trial,
        mimetype=mimetype,
    )
    _share(readable, artifacts / artifact_id)
    return readable


def _write_new(folder: Path, name: str, text: str) -> Path:
    """``folder/name``, or ``name`` with ``-2``, ``-3``, ... where that is taken: never overwrites a file."""
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = _split(name)
    for attempt in range(1, _MAX_TRIES + 1):
        path = folder / (name if attempt == 1 else f"{stem}-{attempt}{suffix}")
        try:
            with path.open("x", encoding="utf-8") as stream:
                stream.write(text)
        except FileExistsError:
            continue
        return path
    raise OSError(f"no free name for {name} in {folder}")


def _share(readable: Path, stored: Path) -> None:
    """Make the artifact store's copy a hard link to the readable file (one file on disk), where possible."""
    temporary = stored.with_name(f".{stored.name}.link")
    try:
        os.link(readable, temporary)
        temporary.replace(stored)
    except OSError:  # no hard links here: the store keeps its own copy
        temporary.unlink(missing_ok=True)


def _split(name: str) -> tuple[str, str]:
    for suffix in (REPLAY_SUFFIX, ".svg", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)], suffix
    return name, ""


@dataclass(frozen=True)
class TrialReplay:
    """A trial's recorded game: where its replay (and picture) should lie, and whether it does."""

    trial: int
    state: str
    value: float | None
    replay: Path
    picture: Path | None

    @property
    def present(self) -> bool:
        return self.replay.is_file()


def trial_replays(study: optuna.Study, folder: Path) -> list[TrialReplay]:
    """Every trial with a replay artifact, by trial number."""
    found = []
    for trial in study.get_trials(deepcopy=False):
        replay = _replay_of(study, trial, folder)
        if replay is not None:
            found.append(replay)
    return found


def trial_replay(study: optuna.Study, number: int, folder: Path) -> TrialReplay:
    """Trial ``number``'s replay; a :class:`UserError` saying why when there is none to show."""
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    if number not in trials:
        last = max(trials) if trials else None
        which = f"its trials are 0..{last}" if last is not None else "it has no trials"
        raise UserError(f"study {study.study_name!r} has no trial {number} ({which})")
    replay = _replay_of(study, trials[number], folder)
    if replay is None:
        state = trials[number].state.name.lower()
        raise UserError(
            f"trial {number} ({state}) has no replay: only finished trials record one, and only with the "
            "dashboard extra installed (pip install 'optuna-clank[dashboard]'); --list shows the trials that have one"
        )
    if not replay.present:
        raise UserError(
            f"trial {number}'s replay {replay.replay.name} is not in {folder} (a worker on another machine keeps its "
            "trials' artifacts in its own storage/<study>/artifacts; pass --artifact-dir)"
        )
    return replay


def _replay_of(study: optuna.Study, trial: FrozenTrial, folder: Path) -> TrialReplay | None:
    metas = _metas(study, trial)
    replays = [m for m in metas if m.filename.endswith(REPLAY_SUFFIX)]
    if not replays:
        return None
    pictures = [m for m in metas if m.filename.endswith(".svg")]
    value = trial.values[0] if trial.values else None
    return TrialReplay(
        trial=trial.number,
        state=trial.state.name.lower(),
        value=value,
        replay=_file_of(replays[0], folder),
        picture=_file_of(pictures[0], folder) if pictures else None,
    )


def _file_of(meta: ArtifactMeta, artifacts: Path) -> Path:
    """The readable file where it exists, else the artifact store's (older studies have only that)."""
    readable = readable_dir(artifacts) / meta.filename
    return readable if readable.is_file() else artifacts / meta.artifact_id


def _metas(study: optuna.Study, trial: FrozenTrial) -> list[ArtifactMeta]:
    from optuna.artifacts import get_all_artifact_meta  # noqa: PLC0415 - deferred: loads optuna

    return get_all_artifact_meta(trial, storage=storage_of(study))
