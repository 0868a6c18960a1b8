"""What a study found: its best trial (validated first), its status, its best config as YAML.

A trial's value is a noisy estimate from a few dozen games; the best of many noisy estimates
is biased upward. So once ``validate`` has re-played the top trials on fresh games, the best
*validated* trial is the study's best, and every report says which kind of best it shows.
Validation results live in the study's user attributes (``validated:<trial number>``):
Optuna freezes a finished trial, so they cannot be added to the trial itself.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from optuna_clank.arena.config import Config, default_config, dump_config, load_config, with_values
from optuna_clank.errors import UserError
from optuna_clank.runner import count_trials

VALIDATION_PREFIX = "validated:"


@dataclass(frozen=True)
class Best:
    """The study's best trial and the evidence behind it."""

    trial: FrozenTrial
    validated: dict[str, Any] | None  # the validation record, when the trial was validated

    @property
    def kind(self) -> str:
        return "validated" if self.validated else "raw"

    def describe(self) -> str:
        """One line: trial, value and interval, and whether it was validated."""
        trial = self.trial
        if self.validated:
            v = self.validated
            low, high = v["ci"]
            return (
                f"trial {trial.number}: validated win rate {100 * v['win_rate']:.1f}% "
                f"[{100 * low:.1f}%, {100 * high:.1f}%] over {v['games']} fresh games "
                f"(score {v['score']:.3f}; study value {trial.value:.3f})"
            )
        ci = trial.user_attrs.get("win_rate_ci")
        interval = f", win rate CI [{100 * ci[0]:.1f}%, {100 * ci[1]:.1f}%]" if ci else ""
        games = trial.user_attrs.get("games_played", "?")
        return f"trial {trial.number}: value {_value_text(trial)} over {games} games{interval} (not validated)"


def _value_text(trial: FrozenTrial) -> str:
    if trial.values is None:
        return "-"
    return ", ".join(f"{v:.3f}" for v in trial.values)


def validations(study: optuna.Study) -> dict[int, dict[str, Any]]:
    """Validation records by trial number."""
    return {
        int(key[len(VALIDATION_PREFIX) :]): value
        for key, value in study.user_attrs.items()
        if key.startswith(VALIDATION_PREFIX)
    }


def top_trials(study: optuna.Study, count: int) -> list[FrozenTrial]:
    """The ``count`` best COMPLETE trials by their study value (first objective), ties to the earlier."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    sign = 1 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else -1
    return sorted(complete, key=lambda t: (sign * t.values[0], -t.number), reverse=True)[:count]


def best_raw(study: optuna.Study) -> FrozenTrial | None:
    """The best COMPLETE trial by its study value (first objective for multi-objective)."""
    top = top_trials(study, 1)
    return top[0] if top else None


def best_trial(study: optuna.Study) -> Best | None:
    """The best validated trial when any were validated, else the best raw trial."""
    records = validations(study)
    if records:
        trials = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
        ranked = sorted(
            ((n, r) for n, r in records.items() if n in trials),
            key=lambda item: (item[1]["score"], item[1]["win_rate"], -item[0]),
            reverse=True,
        )
        if ranked:
            number, record = ranked[0]
            return Best(trial=trials[number], validated=record)
    raw = best_raw(study)
    return Best(trial=raw, validated=None) if raw is not None else None


def base_for_export(base: str | Path | None, study: optuna.Study) -> Config:
    """The config tuned values are merged onto: ``--base`` file, else the spec's, else default."""
    if base:
        return load_config(base)
    spec_base = (study.user_attrs.get("optuna_clank:spec") or {}).get("base_config")
    return load_config(spec_base) if spec_base else default_config()


def trial_config(trial: FrozenTrial, base: Config) -> Config:
    """The full go-battleclank config a trial played (its params set on ``base``)."""
    return with_values(base, trial.params)


def write_config(config: Config, path: str | Path, *, header: str = "") -> Path:
    """Write a config atomically (a concurrent reader never sees half a file)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (f"# {header}\n" if header else "") + dump_config(config)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        Path(temporary).replace(target)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


def export_best(study: optuna.Study, path: str | Path, *, base: str | Path | None = None) -> tuple[Path, Best]:
    """Write the study's best config (validated first) to ``path``."""
    best = best_trial(study)
    if best is None:
        raise UserError(f"study {study.study_name!r} has no completed trial yet: nothing to export")
    config = trial_config(best.trial, base_for_export(base, study))
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    header = f"optuna-clank: study {study.study_name}, {best.describe()}, exported {stamp}"
    return write_config(config, path, header=header), best


def status(study: optuna.Study, *, last: int = 10) -> dict[str, Any]:
    """Trials by state, best validated and raw with intervals, speed, and the last trials."""
    counts = count_trials(study)
    trials = study.get_trials(deepcopy=False)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and t.datetime_complete]
    rate = None
    if len(finished) >= 2:
        first = min(t.datetime_start for t in finished if t.datetime_start)
        span = (max(t.datetime_complete for t in finished) - first).total_seconds()
        rate = len(finished) / span * 3600 if span > 0 else None
    best = best_trial(study)
    raw = best_raw(study)
    recent = sorted(trials, key=lambda t: t.number)[-last:]
    return {
        "study": study.study_name,
        "directions": [d.name.lower() for d in study.directions],
        "trials": {
            "complete": counts.complete,
            "pruned": counts.pruned,
            "running": counts.running,
            "waiting": counts.waiting,
            "failed": counts.failed,
            "skipped": counts.skipped,
            "total": len(trials),
        },
        "best": _trial_summary(best.trial, best.validated) if best else None,
        "best_kind": best.kind if best else None,
        "best_raw": _trial_summary(raw, validations(study).get(raw.number)) if raw else None,
        "validated_trials": sorted(validations(study)),
        "validated_base": study.user_attrs.get("validated_base"),
        "trials_per_hour": round(rate, 1) if rate else None,
        "last_trials": [_trial_summary(t, None) for t in recent],
    }


def _trial_summary(trial: FrozenTrial, validated: dict[str, Any] | None) -> dict[str, Any]:
    attrs = trial.user_attrs
    return {
        "number": trial.number,
        "state": trial.state.name.lower(),
        "values": list(trial.values) if trial.values is not None else None,
        "games_played": attrs.get("games_played"),
        "mean_score": attrs.get("mean_score"),
        "win_rate_ci": attrs.get("win_rate_ci"),
        "proposal_source": attrs.get("proposal_source"),
        "changed_params": attrs.get("changed_params"),
        "slot": attrs.get("slot"),
        "device": attrs.get("device"),
        "validated": validated,
    }
