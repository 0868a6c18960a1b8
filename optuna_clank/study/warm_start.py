"""Warm start: seed a new study with the best configs of another study (``optimize --warm-start-from``).

The typical use is transfer: a study tuned on a 7x7 board or against one opponent starts
another on 11x11 or against a tournament. Their values are not comparable, so the configs are
re-played, not copied as finished trials: they are written to the study's ``warm_start``
user attribute and ClankSampler proposes them first (other samplers get them enqueued), so the
sampler's memory and pattern network start from their results in *this* study's games.

Which configs: the source's validated trials (best paired difference from the base first, then
by validated score); when nothing was validated, its best completed trials by study value, and
the record says so. Parameters are mapped by name; one the source lacks takes this study's base
config value, a value out of this study's range is clipped, and each such change is a note.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

from optuna_clank.core.attributes import PROPOSAL_SOURCE_KEY, WARM_START_KEY, WARM_START_TRIAL_KEY, ProposalSource
from optuna_clank.core.errors import UserError
from optuna_clank.core.redact import redact_url
from optuna_clank.study.results import top_trials, validations, verdict_of
from optuna_clank.study.storage import describe_storage, open_storage, resolve_storage_url
from optuna_clank.trial.base_trial import base_trial_params

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from optuna_clank.spec import StudySpec

__all__ = ["DEFAULT_WARM_START_TRIALS", "WarmStart", "load_source", "source_storage_url", "warm_start"]

_LOG = logging.getLogger("optuna_clank")

DEFAULT_WARM_START_TRIALS = 5

PICKED_VALIDATED = "validated"
PICKED_RAW = "best completed (none validated)"


@dataclass(frozen=True)
class WarmStart:
    """What a warm start did: the record in the study's attributes and whether it was new."""

    record: dict[str, Any]
    seeded_now: bool

    def describe(self) -> str:
        r = self.record
        trials = ", ".join(str(s["trial"]) for s in r["seeds"])
        return (
            f"warm start from study {r['source_study']} ({r['source_where']}): "
            f"{len(r['seeds'])} {r['picked_by']} trial(s) [{trials}]"
        )


def source_storage_url(spec: StudySpec, source: str, given: str | None) -> str:
    """Where the source study lives: ``given``; else this study's storage when the spec or
    ``--storage`` names one (a shared database holds many studies); else the source's default file."""
    if given:
        return resolve_storage_url(given, source)
    if spec.storage.url:
        return resolve_storage_url(spec.storage.url, spec.name)
    return resolve_storage_url(None, source)


def warm_start(
    study: optuna.Study, spec: StudySpec, *, source: str, source_url: str, count: int = DEFAULT_WARM_START_TRIALS
) -> WarmStart:
    """Seed ``study`` from study ``source`` once; a study already seeded is left as it is."""
    existing = study.user_attrs.get(WARM_START_KEY)
    if isinstance(existing, dict):
        if existing.get("source_study") != source:
            _LOG.warning(
                "study %s was warm-started from %s already; --warm-start-from %s is ignored",
                spec.name,
                existing.get("source_study"),
                source,
            )
        return WarmStart(existing, seeded_now=False)
    source_study = load_source(source, source_url)
    picked, picked_by = _pick(source_study, count)
    if not picked:
        raise UserError(f"study {source!r} ({describe_storage(source_url)}) has no completed trial to start from")
    notes: list[str] = []
    seeds = [{"trial": t.number, "params": _mapped(t, spec, notes)} for t in picked]
    record = {
        "source_study": source,
        "source_storage": redact_url(source_url),
        "source_where": describe_storage(source_url),
        "picked_by": picked_by,
        "seeds": seeds,
        "notes": notes,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if picked_by == PICKED_RAW:
        _LOG.warning("warm start: study %s has no validated trial; taking its best completed trials", source)
    for note in notes:
        _LOG.warning("warm start: %s", note)
    study.set_user_attr(WARM_START_KEY, record)
    if spec.sampler.name != "clank":
        _enqueue(study, seeds)  # ClankSampler proposes the seeds itself, safely across workers
    return WarmStart(record, seeded_now=True)


def load_source(source: str, url: str) -> optuna.Study:
    """The source study; a missing file, database or study is a one-line :class:`UserError`."""

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise UserError(f"no study {source!r} to warm-start from: {describe_storage(url)} does not exist")
    try:
        return optuna.load_study(study_name=source, storage=open_storage(url, heartbeat=None))
    except KeyError:
        raise UserError(f"no study {source!r} to warm-start from in {describe_storage(url)}") from None


def _pick(source: optuna.Study, count: int) -> tuple[list[FrozenTrial], str]:
    """The validated trials, best first; else the best completed ones."""
    complete = {t.number: t for t in source.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    records = {n: r for n, r in validations(source).items() if n in complete}
    if records:
        verdict = verdict_of(source)
        ranked = [c.trial for c in verdict.comparisons if c.trial in records] if verdict else []
        rest = sorted(set(records) - set(ranked), key=lambda n: (-float(records[n].get("score", -math.inf)), n))
        return [complete[n] for n in [*ranked, *rest][:count]], PICKED_VALIDATED
    return top_trials(source, count), PICKED_RAW


def _mapped(trial: FrozenTrial, spec: StudySpec, notes: list[str]) -> dict[str, Any]:
    """The trial's values for this study's parameters (by name), clipped; base values where missing."""
    base = base_trial_params(spec)
    params: dict[str, Any] = {}
    for param in spec.search_space:
        value = trial.params.get(param.name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            value = base[param.name]  # clipped below like any value: only the base trial leaves the range
            notes.append(f"trial {trial.number}: {param.name} not in the source, base value {value:g}")
        clipped = min(max(float(value), param.low), param.high)
        if clipped != float(value):
            notes.append(f"trial {trial.number}: {param.name} {value:g} clipped to {clipped:g}")
        if param.step:
            clipped = min(param.low + round((clipped - param.low) / param.step) * param.step, param.high)
        params[param.name] = round(clipped) if param.is_int else clipped
    dropped = sorted(set(trial.params) - {p.name for p in spec.search_space})
    if dropped:
        notes.append(f"trial {trial.number}: not tuned here, dropped: {', '.join(dropped)}")
    return params


def _enqueue(study: optuna.Study, seeds: list[dict[str, Any]]) -> None:
    for seed in seeds:
        study.enqueue_trial(
            seed["params"],
            user_attrs={PROPOSAL_SOURCE_KEY: ProposalSource.WARM_START.value, WARM_START_TRIAL_KEY: seed["trial"]},
        )
