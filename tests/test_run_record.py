"""Notes tell what ran: slots used, the LLM on or off and why, the snake, opponents and games per trial.

A spec may wish for an LLM and 8 slots; the note and ``status`` must say what the run did. The study
runs for real (in-process, SQLite); the note is read back as the dashboard reads it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _optuna_private import study_id_of
from _study import write_spec

from optuna_clank.core.optuna_private import storage_of
from optuna_clank.run.runner import run_study
from optuna_clank.spec import load_spec
from optuna_clank.study.note import study_note, write_study_note
from optuna_clank.study.results import status
from optuna_clank.study.run_record import llm_state
from optuna_clank.study.validate import validate_study


def _note(study) -> str:
    from optuna_dashboard._note import get_note_from_system_attrs

    attrs = storage_of(study).get_study_system_attrs(study_id_of(study))
    return get_note_from_system_attrs(attrs, None)["body"]


def _wanting_an_llm(tmp_path: Path) -> Path:
    """The tiny spec with ``use_llm = true`` (and the default model, openai/gpt-4o-mini)."""
    path = write_spec(tmp_path, "wished", n_trials=2, games=2, n_jobs=1)
    path.write_text(path.read_text().replace("use_llm = false", "use_llm = true"))
    return path


def test_the_llm_state_says_on_or_off_and_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    wished = load_spec(_wanting_an_llm(tmp_path))
    assert llm_state(wished, wished) == "off: openai/gpt-4o-mini: missing OPENAI_API_KEY"
    assert llm_state(wished.with_overrides(use_llm=False), wished) == (
        "off: openai/gpt-4o-mini: missing OPENAI_API_KEY"  # turned off because the key is missing
    )
    assert llm_state(wished.with_overrides(llm_api_base="http://127.0.0.1:9/v1"), wished) == (
        "on: openai/gpt-4o-mini at http://127.0.0.1:9/v1"
    )
    assert llm_state(wished.with_overrides(sampler_name="tpe"), wished) == "not used (sampler tpe)"
    plain = load_spec(write_spec(tmp_path, "plain"))
    assert llm_state(plain, plain) == "off: use_llm = false in the spec"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    assert llm_state(wished, wished) == "on: openai/gpt-4o-mini"
    assert llm_state(wished.with_overrides(use_llm=False), wished) == "off: --no-llm"


def test_the_note_and_status_tell_what_the_run_did_not_what_the_spec_wished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path = _wanting_an_llm(tmp_path)
    spec = load_spec(path)
    assert "LLM `openai/gpt-4o-mini`" in study_note(spec, {})  # the spec's wish, before any run
    run = run_study(spec, storage_url=f"sqlite:///{tmp_path / 'wished.db'}", overrides={"games_per_trial": 2})
    note = _note(run.study)
    assert "- **Last run**:" in note and "1 slot(s) (n_jobs = 1); ended: target reached after 2 trial(s)" in note
    assert "LLM off: openai/gpt-4o-mini: missing OPENAI_API_KEY" in note
    assert "LLM `openai/gpt-4o-mini`" not in note
    assert "snake built-in heuristic vs baseline (duel), 2 games per trial" in note

    validate_study(run.study, spec, top=1, games=4, seed=5)
    write_study_note(run.study, load_spec(path))  # what validate does: the note from the file's spec
    assert "LLM off: openai/gpt-4o-mini: missing OPENAI_API_KEY" in _note(run.study)

    shown = status(run.study)
    assert shown.last_run is not None and shown.last_run["slots"] == 1 and shown.last_run["trials"] == 2
    assert shown.to_json()["last_run"]["llm"] == "off: openai/gpt-4o-mini: missing OPENAI_API_KEY"
    assert shown.last_run["games_per_trial"] == 2 and shown.last_run["opponents"] == ["baseline"]


def test_the_games_per_trial_shown_are_the_runs_own(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, "games", n_trials=1, games=4))
    run = run_study(spec, storage_url=f"sqlite:///{tmp_path / 'games.db'}", overrides={"games_per_trial": 2})
    assert "2 games per trial" in _note(run.study).split("### Benchmark")[0]
    write_study_note(run.study, spec)  # validate's rewrite, from the file's spec (4 games)
    assert "**Games per trial**: 4, in rounds of 2, each trial in its own shuffled order (the last run played 2" in (
        _note(run.study)
    )
