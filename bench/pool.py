"""Pool throughput: trials/hour and games/s for --n-jobs 1, 2, 4 (and 8 where GPUs are).

Each measurement is a real ``python -m optuna_clank optimize`` run on a fresh SQLite study:
N trials of 30 games against ``baseline`` (pruning off, so every trial does the same work).
trials/hour is the steady rate, from the first trial's start to the last trial's end (what a
long study sees); the wall clock including the workers' start-up (a few seconds of importing
torch per worker) is printed beside it.

    python bench/pool.py                 # n_jobs 1 2 4, 24 trials each
    python bench/pool.py --jobs 1 8 --trials 64 --device-note "8x H100"
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

from optuna_clank.core.attributes import GAMES_PLAYED_KEY

SPEC = """
[study]
name = "bench-pool"
n_trials = {trials}

[benchmark]
opponents = ["baseline"]
games_per_trial = {games}
round_size = 10
seed = 11

[sampler]
name = "random"
seed = 0

[pruner]
name = "none"

[parallel]
n_jobs = {jobs}

[checkpoint]
interval = 0

[search_space]
"weights.space" = {{}}
"weights.food" = {{}}
"weights.head_collision" = {{}}
"traps.critical" = {{}}
"pursuit.distance_2" = {{}}
"""


def measure(jobs: int, trials: int, games: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-pool-") as folder:
        spec = Path(folder) / "bench.toml"
        spec.write_text(SPEC.format(trials=trials, games=games, jobs=jobs))
        url = f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "optuna_clank", "optimize", "--spec", str(spec), "--storage", url, "--quiet"],
            check=True,
            cwd=folder,
            capture_output=True,
        )
        seconds = time.perf_counter() - started
        study = optuna.load_study(study_name="bench-pool", storage=url)
        done = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
        played = sum(t.user_attrs[GAMES_PLAYED_KEY] for t in done)
        busy = sum(t.user_attrs["seconds"] for t in done)
        first_start = min(t.datetime_start for t in done)
        span = (max(t.datetime_complete for t in done) - first_start).total_seconds()
    return {
        "n_jobs": jobs,
        "trials": len(done),
        "wall_seconds": round(seconds, 1),
        "wall_trials_per_hour": round(len(done) / seconds * 3600),
        "trials_per_hour": round(len(done) / span * 3600),
        "games_per_second": round(played / span, 1),
        "mean_trial_seconds": round(busy / len(done), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2, 4])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--games", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="8 trials of 10 games")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    trials, games = (8, 10) if args.quick else (args.trials, args.games)
    print(f"# {os.cpu_count()} CPUs; {trials} trials x {games} games vs baseline per run, SQLite, pruning off")
    rows = []
    for jobs in args.jobs:
        row = measure(jobs, trials, games)
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            speedup = row["trials_per_hour"] / rows[0]["trials_per_hour"]
            print(
                f"n_jobs={jobs:<2} {row['trials_per_hour']:>6,} trials/hour "
                f"({speedup:.2f}x n_jobs={rows[0]['n_jobs']}), "
                f"{row['games_per_second']:>6.1f} games/s, {row['mean_trial_seconds']:.2f} s per trial; "
                f"wall clock with start-up {row['wall_seconds']:.1f} s = {row['wall_trials_per_hour']:,} trials/hour",
                flush=True,
            )


if __name__ == "__main__":
    main()
