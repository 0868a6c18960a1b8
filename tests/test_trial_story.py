"""Trial notes and artifacts written by the objective, and the study note's validated comparison."""

from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
import pytest
from _optuna_private import study_id_of
from _study import write_spec
from optuna.artifacts import FileSystemArtifactStore, download_artifact, get_all_artifact_meta

from optuna_clank.core.optuna_private import storage_of, trial_id_of
from optuna_clank.spec import load_spec
from optuna_clank.study.note import newcombe_difference, study_note, validation_markdown
from optuna_clank.study.opening import open_study
from optuna_clank.trial.objective import ArenaObjective
from optuna_clank.trial.story import StoryTeller, trial_note


class _PruneAtOnce(optuna.pruners.BasePruner):
    """Prunes at the first check, so that the objective's pruned path runs."""

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        del study, trial
        return True


def _note_of(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> str:
    """A finished trial's note as the dashboard reads it (``get_note`` wants a live Trial)."""
    from optuna_dashboard._note import get_note_from_system_attrs

    attrs = storage_of(study).get_study_system_attrs(study_id_of(study))
    return get_note_from_system_attrs(attrs, trial_id_of(trial))["body"]


def _run_one_trial(tmp_path: Path, artifacts: Path, *, pruned: bool) -> tuple[optuna.Study, optuna.trial.FrozenTrial]:
    spec = load_spec(write_spec(tmp_path, "story", games=4))
    study = open_study(spec, storage_url=f"sqlite:///{tmp_path / 'story.db'}")
    if pruned:
        study.pruner = _PruneAtOnce()
    objective = ArenaObjective(spec, story=StoryTeller.for_spec(spec, artifacts=artifacts))
    study.optimize(objective, n_trials=1)
    return study, study.trials[-1]


def test_a_pruned_trial_gets_its_note_replay_and_picture(tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    study, trial = _run_one_trial(tmp_path, artifacts, pruned=True)
    assert trial.state == optuna.trial.TrialState.PRUNED
    note = _note_of(study, trial)
    played = trial.user_attrs["games_played"]
    assert f"Pruned after {played} of 4 games." in note
    assert f"## Trial {trial.number}: proposed by {trial.user_attrs['proposal_source']}" in note
    metas = get_all_artifact_meta(trial, storage=storage_of(study))
    names = sorted(meta.filename for meta in metas)
    assert len(names) == 2 and names[0].endswith("-replay.json") and names[1].endswith(".svg")
    replay_meta = next(m for m in metas if m.filename.endswith(".json"))
    copy = tmp_path / "replay.json"
    download_artifact(
        artifact_store=FileSystemArtifactStore(artifacts), file_path=str(copy), artifact_id=replay_meta.artifact_id
    )
    frames = json.loads(copy.read_text())
    game = int(names[0].split("-game-")[1].split("-")[0])
    assert game in range(4)
    assert frames[0]["turn"] == 0 and frames[-1]["turn"] >= 1


def test_an_unwritable_artifact_folder_costs_the_replay_not_the_trial_or_its_note(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the artifact folder should be")
    study, trial = _run_one_trial(tmp_path, blocker / "artifacts", pruned=False)
    assert trial.state == optuna.trial.TrialState.COMPLETE
    assert get_all_artifact_meta(trial, storage=storage_of(study)) == []
    note = _note_of(study, trial)
    assert "its replay could not be saved" in note
    assert "**Win rate" in note


def test_trial_note_tells_the_proposal_rationale_patterns_and_changes() -> None:
    note = trial_note(
        7,
        params={"a": 2.0, "b": 5, "c": 1.0},
        base_params={"a": 1.0, "b": 5, "c": 1.0},
        attrs={
            "proposal_source": "patterns+llm",
            "base_trial": 3,
            "llm_models": ["openai/gpt-4o-mini"],
            "llm_rationale": "Raise a: the snake starves late.\nKeep b.",
            "nn_patterns": "winners have a high",
        },
        outcomes=[],
        planned=10,
    )
    assert note.startswith("## Trial 7: proposed by patterns+llm\n")
    assert "built from trial 3; LLM: openai/gpt-4o-mini" in note
    assert "| `a` | 1 | 2 | +100% |" in note
    assert "`b`" not in note and "`c`" not in note  # unchanged parameters are not listed
    assert "> Raise a: the snake starves late.\n> Keep b." in note
    assert "```\nwinners have a high\n```" in note
    assert "No game played." in note


def test_newcombe_difference_matches_the_published_example() -> None:
    # Newcombe (1998), example (e): 56/70 vs 48/80 -> difference 0.2000, 95% CI 0.0524 to 0.3339.
    from optuna_clank.core.stats import wilson_interval

    p1, p2 = 56 / 70, 48 / 80
    difference, low, high = newcombe_difference(p1, wilson_interval(56, 70), p2, wilson_interval(48, 80))
    assert math.isclose(difference, 0.2)
    assert low == pytest.approx(0.0524, abs=5e-4)
    assert high == pytest.approx(0.3339, abs=5e-4)


def test_validation_markdown_renders_a_stored_difference_or_derives_one() -> None:
    assert "Not validated yet" in validation_markdown({})[0]
    base = {"win_rate": 0.5, "ci": [0.4, 0.6], "score": 0.5, "games": 100, "seed": 9}
    derived = {"win_rate": 0.7, "ci": [0.6, 0.78], "score": 0.7, "games": 100, "seed": 9}
    paired = {**derived, "difference": 0.2, "difference_ci": [0.1, 0.3], "test": "paired"}
    text = "\n".join(validation_markdown({"validated:4": derived, "validated:6": paired, "validated_base": base}))
    assert "| base config | 100 (9) | 50.0% (40.0–60.0%) | 0.500 | |" in text
    assert (
        "| trial 6 | 100 (9) | 70.0% (60.0–78.0%) | 0.700 | +20.0 pp (+10.0 pp to +30.0 pp), paired, better |" in text
    )
    difference, low, high = newcombe_difference(0.7, [0.6, 0.78], 0.5, [0.4, 0.6])
    shown = f"{100 * difference:+.1f} pp ({100 * low:+.1f} pp to {100 * high:+.1f} pp) win rate, unpaired, better"
    assert f"| trial 4 | 100 (9) | 70.0% (60.0–78.0%) | 0.700 | {shown} |" in text
    elsewhere = {**derived, "seed": 10}
    other_games = "\n".join(validation_markdown({"validated:4": elsewhere, "validated_base": base}))
    assert (
        "| trial 4 | 100 (10) | 70.0% (60.0–78.0%) | 0.700 | - (the base was replayed on other games) |" in other_games
    )
    without_base = "\n".join(validation_markdown({"validated:4": derived}))
    assert "no comparison" in without_base


def test_study_note_states_the_benchmark_and_sampler(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, "noted", games=6))
    note = study_note(spec, {})
    assert note.startswith("## noted\n")
    assert "**Games per trial**: 6" in note
    assert "7x7, turn cap 200" in note
    assert "seed 7" in note
    assert "`weights.space`" in note and "4 parameters" in note
    assert "Wilcoxon" in note


def test_a_trial_note_counts_the_servers_faults_and_says_why_a_trial_failed() -> None:
    from optuna_clank.arena.match import GameOutcome, SnakeResult
    from optuna_clank.arena.players import Faults

    def outcome(game: int, faults: Faults) -> GameOutcome:
        snakes = (
            SnakeResult(0, "candidate", "wall-collision", 30, "", 3, faults),
            SnakeResult(1, "bot", "", 0, "", 5, Faults(invalid=1)),
        )
        return GameOutcome(game, "loss", 30, 0, ("bot",), snakes, False)

    outcomes = [outcome(0, Faults(timeouts=2)), outcome(1, Faults(errors=1))]
    why = "the tuned snake's server failed 3 of its 60 answers (2 timeouts, 1 errors)"
    note = trial_note(
        4,
        params={},
        base_params={},
        attrs={},
        outcomes=outcomes,
        planned=2,
        servers=True,
        server_snake=True,
        failure=why,
    )
    assert f"**Failed, not a measurement of its config:** {why}" in note
    assert "### Server faults" in note
    assert "- The tuned snake's server: 3 of 60 answers failed (2 timeouts, 1 errors)." in note
    assert "- Opponent `bot`: 2 answers failed (2 invalid answers)." in note
    plain = trial_note(4, params={}, base_params={}, attrs={}, outcomes=outcomes, planned=2)
    assert "Server faults" not in plain and "Failed" not in plain  # built-in snakes only: nothing to tell


def test_validation_markdown_marks_refused_records_with_their_reason() -> None:
    from _records import validation_record

    base = validation_record("WLWL")
    refused = dict(validation_record("WWWW"), faults={"timeouts": 5}, opponent_faults={})
    refused["refused"] = "the tuned snake's server failed 5 of its 90 answers (5 timeouts)"
    text = "\n".join(validation_markdown({"validated:3": refused, "validated_base": base}))
    assert "| trial 3 |" in text and "refused: server faults (5 timeouts) |" in text
    assert "- trial 3: the tuned snake's server failed 5 of its 90 answers (5 timeouts)" in text
