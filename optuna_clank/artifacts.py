"""Trial artifacts under readable names: ``storage/<study>/artifacts/trial-12-game-3-replay.json``.

Optuna's ``upload_artifact`` names every file by a fresh UUID, without an extension, so a folder of
replays and pictures cannot be told apart without Optuna's API. Here the artifact's id *is* a readable
file name with its extension: the file lies in the artifact folder under that name, the trial note
names it, ``replay --study NAME --trial N`` finds it, and optuna-dashboard (which asks the folder for
the artifact's id) serves it as before. A name already taken in the folder (the same study name on a
second storage) gets ``-2``, ``-3``, ... before its extension, so no file is ever overwritten.

Studies written before this stored UUID-named artifacts; :func:`trial_replay` finds those too,
through the artifact's record on the trial.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from optuna_clank._optuna_private import link_artifact, storage_of, trial_id_of
from optuna_clank.errors import UserError

if TYPE_CHECKING:
    import optuna
    from optuna.artifacts import ArtifactMeta
    from optuna.trial import FrozenTrial

__all__ = ["TrialReplay", "replay_name", "save_trial_artifact", "trial_replay", "trial_replays"]

REPLAY_SUFFIX = "-replay.json"
"""How a trial's replay artifact's name ends (its picture ends in ``.svg``)."""

_MAX_TRIES = 1000


def replay_name(trial_number: int, game: int) -> str:
    """The replay's file name: ``trial-12-game-3-replay.json``."""
    return f"trial-{trial_number}-game-{game}{REPLAY_SUFFIX}"


def save_trial_artifact(folder: Path, trial: optuna.Trial, name: str, text: str, *, mimetype: str = "") -> str:
    """Write ``text`` as ``folder/name`` (made unique) and attach it to the live trial; returns the file's name."""
    from optuna.artifacts import ArtifactMeta

    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = _split(name)
    for attempt in range(1, _MAX_TRIES + 1):
        chosen = name if attempt == 1 else f"{stem}-{attempt}{suffix}"
        try:
            with (folder / chosen).open("x", encoding="utf-8") as stream:  # never overwrite another's artifact
                stream.write(text)
        except FileExistsError:
            continue
        guessed = mimetypes.guess_type(chosen)[0]
        meta = ArtifactMeta(chosen, chosen, mimetype or guessed or "application/octet-stream", None)
        link_artifact(trial.storage, trial_id_of(trial), meta)
        return chosen
    raise OSError(f"no free name for {name} in {folder}")


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
        replay=folder / replays[0].artifact_id,
        picture=folder / pictures[0].artifact_id if pictures else None,
    )


def _metas(study: optuna.Study, trial: FrozenTrial) -> list[ArtifactMeta]:
    from optuna.artifacts import get_all_artifact_meta

    return get_all_artifact_meta(trial, storage=storage_of(study))
