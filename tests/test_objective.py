"""The objective's record of a pruned trial: its mean over the games it played, not its last game.

Real games on a tiny board, a real SQLite study and Optuna's own pruner and TPE sampler.
"""

from __future__ import annotations

from pathlib import Path

import optuna
from _optuna_private import pruned_trial_score
from _study import write_spec
from optuna.trial import TrialState

from optuna_clank.core.attributes import MEAN_SCORE_KEY
from optuna_clank.sampler._codec import ParamCodec
from optuna_clank.sampler._memory import read_history
from optuna_clank.spec import load_spec
from optuna_clank.study.results import status
from optuna_clank.trial.objective import ArenaObjective

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _pruned_study(tmp_path: Path, trials: int) -> tuple[optuna.Study, int]:
    """A study whose every trial is pruned at the first check (after one round of 4 games)."""
    spec = load_spec(write_spec(tmp_path, "pruned", games=12)).with_overrides(round_size=4)
    study = optuna.create_study(
        study_name="pruned",
        storage=f"sqlite:///{tmp_path / 'pruned.db'}",
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=1),
        pruner=optuna.pruners.ThresholdPruner(lower=1.5),  # every score is below 1.5: always prunes
    )
    study.optimize(ArenaObjective(spec), n_trials=trials)
    return study, spec.benchmark.games_per_trial


def test_a_pruned_trial_is_valued_by_its_mean_over_the_games_it_played(tmp_path: Path) -> None:
    study, games_per_trial = _pruned_study(tmp_path, trials=3)
    for trial in study.trials:
        assert trial.state == TrialState.PRUNED
        games = {step: v for step, v in trial.intermediate_values.items() if step < games_per_trial}
        assert len(games) == trial.user_attrs["games_played"] == 4
        mean = sum(games.values()) / len(games)
        assert trial.value == mean
        assert trial.user_attrs[MEAN_SCORE_KEY] == round(mean, 4)
        assert trial.intermediate_values[games_per_trial] == mean  # the "after its games" report


def test_tpe_and_clank_do_not_rank_pruned_trials_by_one_game(tmp_path: Path) -> None:
    study, _ = _pruned_study(tmp_path, trials=6)
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    # TPE (Optuna 5) orders pruned trials by (-last step, last value): the mean, best first.
    by_tpe = sorted(pruned, key=lambda t: pruned_trial_score(t, study))
    means = [t.user_attrs[MEAN_SCORE_KEY] for t in by_tpe]
    assert means == sorted(means, reverse=True)

    # ClankSampler ranks completed trials only: a pruned 1.0 never becomes its best.
    trial = pruned[0]
    codec = ParamCodec({name: d for name, d in trial.distributions.items()})
    complete = optuna.trial.create_trial(params=trial.params, distributions=trial.distributions, value=0.25)
    study.add_trial(complete)
    lucky = optuna.trial.create_trial(
        params=trial.params,
        distributions=trial.distributions,
        state=TrialState.PRUNED,
        value=1.0,
        intermediate_values={0: 1.0},
    )
    study.add_trial(lucky)
    history = read_history(study, codec)
    assert history.best is not None and history.best.value == 0.25


def test_status_shows_a_pruned_trials_mean(tmp_path: Path) -> None:
    study, _ = _pruned_study(tmp_path, trials=2)
    report = status(study)
    for entry, trial in zip(report.last_trials, study.trials, strict=True):
        assert entry.state == "pruned" and entry.values is not None
        assert entry.mean_score == trial.user_attrs[MEAN_SCORE_KEY] == round(entry.values[0], 4)
