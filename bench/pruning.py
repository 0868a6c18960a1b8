"""Pruning: games saved by WilcoxonPruner, and the validated best found with and without it.

Both runs use the random sampler with the same seed, so they evaluate the very same configs
in the same order; the only difference is that pruned trials stop early. Each run's best
trial is then validated on 1,000 fresh games (``validate --top 1``).

    python bench/pruning.py              # 40 trials x 30 games
    python bench/pruning.py --quick      # 12 trials x 20 games
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import optuna

from optuna_clank.core.attributes import GAMES_PLAYED_KEY

SPEC = """
[study]
name = "bench-pruning"
n_trials = {trials}

[benchmark]
opponents = ["baseline"]
games_per_trial = {games}
round_size = 5
seed = 5

[sampler]
name = "random"
seed = 3

[pruner]
name = "{pruner}"
p_threshold = 0.1
n_startup_steps = 5

[parallel]
n_jobs = 1

[checkpoint]
interval = 0

[search_space]
"weights.space" = {{}}
"weights.food" = {{}}
"weights.head_collision" = {{}}
"weights.cutoff" = {{}}
"traps.critical" = {{}}
"pursuit.distance_2" = {{}}
"""


def _cli(*args: str, cwd: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "optuna_clank", *args], check=True, cwd=cwd, capture_output=True, text=True
    )
    return done.stdout


def run(pruner: str, trials: int, games: int, validation_games: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-pruning-") as folder:
        spec = Path(folder) / "bench.toml"
        spec.write_text(SPEC.format(trials=trials, games=games, pruner=pruner))
        url = f"sqlite:///{folder}/bench.db"
        _cli("optimize", "--spec", str(spec), "--storage", url, "--quiet", cwd=folder)
        records = json.loads(
            _cli(
                "validate",
                "--spec",
                str(spec),
                "--storage",
                url,
                "--top",
                "1",
                "--games",
                str(validation_games),
                "--json",
                cwd=folder,
            )
        )["records"]
        study = optuna.load_study(study_name="bench-pruning", storage=url)
        finished = study.get_trials(states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED))
        played = sum(t.user_attrs[GAMES_PLAYED_KEY] for t in finished)
        seconds = sum(t.user_attrs["seconds"] for t in finished)
        pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in finished)
    ((label, record),) = [(label, r) for label, r in records.items() if label != "base config"]
    return {
        "pruner": pruner,
        "trials": len(finished),
        "pruned": pruned,
        "games": played,
        "trial_seconds": round(seconds, 1),
        "best": label,
        "validated_win_rate": record["win_rate"],
        "validated_ci": record["ci"],
        "validated_score": record["score"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--games", type=int, default=30)
    parser.add_argument("--validation-games", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    trials, games, validation = (12, 20, 300) if args.quick else (args.trials, args.games, args.validation_games)
    print(f"# {trials} trials x {games} games vs baseline, same configs in both runs; best validated on {validation}")
    rows = [run(name, trials, games, validation) for name in ("none", "wilcoxon")]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    full = rows[0]["games"]
    for row in rows:
        low, high = row["validated_ci"]
        print(
            f"pruner {row['pruner']:<9} {row['games']:>5} games played ({100 * row['games'] / full:5.1f}%), "
            f"{row['pruned']:>2} of {row['trials']} trials pruned, {row['trial_seconds']:>6.1f} s in trials; "
            f"best {row['best']}: validated win rate {100 * row['validated_win_rate']:.1f}% "
            f"[{100 * low:.1f}%, {100 * high:.1f}%]"
        )
    saved = 1 - rows[1]["games"] / full
    print(f"games saved by pruning: {100 * saved:.1f}%")


if __name__ == "__main__":
    main()
