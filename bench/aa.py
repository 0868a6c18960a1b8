"""A/A benchmark: how often does ``validate`` claim an improvement when there is none?

Two nulls, each through the code the command line runs (``validate_study`` and the paired
verdict of ``optuna_clank.study.verdict``):

1. Studies that cannot improve: N small studies (each its own benchmark and validation seed)
   whose only parameter, ``weights.space``, may move by a millionth of the base value, so every
   trial plays like the base config. Each is optimized, its top K trials and the base are
   validated on the same fresh games, and the claim rate is the share of studies whose best is
   a trial rather than the base. Deterministic play on common games makes every paired
   difference exactly zero, so this checks the pipeline end to end; "trials that played
   differently" counts any game where a trial's result differed from the base's anyway.
2. Exchangeable pairs: a real study of configs that do play differently is validated once;
   then, R times, each game's trial-minus-base difference gets a random sign (under "no
   effect" trial and base are exchangeable game by game) and the Bonferroni paired bootstrap
   decides again over the K trials. The claim rate estimates the test's family-wise error on
   real per-game score distributions; it should be at most alpha (0.05).

Each rate comes with a 95% Wilson interval.

    python bench/aa.py --quick      # 3 studies, 60 validation games, 400 sign-flip rounds
    python bench/aa.py              # 20 studies, 500 validation games, 1000 sign-flip rounds
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from optuna_clank.core.stats import paired_bootstrap, wilson_interval
from optuna_clank.spec import load_spec
from optuna_clank.study.opening import open_study
from optuna_clank.study.results import best_trial
from optuna_clank.study.validate import validate_study
from optuna_clank.study.verdict import DEFAULT_ALPHA, scores_of
from optuna_clank.trial.objective import ArenaObjective

SPEC = """
[study]
name = "aa-{index}"
n_trials = {trials}

[benchmark]
opponents = ["baseline"]
games_per_trial = {games}
round_size = {games}
board_size = 11
seed = {seed}

[sampler]
name = "{sampler}"
seed = {index}
use_llm = false
use_neural_net = false
n_startup_trials = 3

[pruner]
name = "none"

[parallel]
n_jobs = 1

[checkpoint]
interval = 0

[validation]
alpha = {alpha}

[search_space]
{space}
"""

NULL_SPACE = '"weights.space" = { low = 400.0, high = 400.0004 }   # the base value, +- a millionth: no play change'
REAL_SPACE = '"weights.space" = {}\n"weights.food" = {}\n"traps.critical" = {}\n"weights.head_collision" = {}'


def _study(folder: Path, index: int, *, space: str, sampler: str, trials: int, games: int, alpha: float) -> Any:
    spec_path = folder / f"aa-{index}.toml"
    seed = 1_000 + 7 * index
    spec_path.write_text(
        SPEC.format(index=index, trials=trials, games=games, seed=seed, sampler=sampler, alpha=alpha, space=space)
    )
    spec = load_spec(spec_path)
    study = open_study(spec, storage_url=f"sqlite:///{folder / f'aa-{index}.db'}")
    study.optimize(ArenaObjective(spec), n_trials=trials)
    return spec, study


def null_studies(n: int, *, trials: int, games: int, top: int, validation_games: int, alpha: float) -> dict:
    """Null 1: studies whose search space cannot change play; how many claim a better trial?"""
    claims = differed = 0
    with tempfile.TemporaryDirectory(prefix="bench-aa-") as folder:
        for index in range(n):
            spec, study = _study(
                Path(folder), index, space=NULL_SPACE, sampler="random", trials=trials, games=games, alpha=alpha
            )
            records = validate_study(study, spec, top=top, games=validation_games)
            base = records["base config"]["results"]
            differed += sum(r["results"] != base for label, r in records.items() if label != "base config")
            best = best_trial(study)
            claims += best is not None and best.kind == "trial"
    low, high = wilson_interval(claims, n)
    return {
        "null": "studies that cannot change play",
        "studies": n,
        "claims": claims,
        "rate": claims / n,
        "ci": [round(low, 4), round(high, 4)],
        "trials_that_played_differently": differed,
    }


def exchangeable(rounds: int, *, trials: int, games: int, top: int, validation_games: int, alpha: float) -> dict:
    """Null 2: sign-flipped per-game differences of a real study's top trials vs the base."""
    with tempfile.TemporaryDirectory(prefix="bench-aa-") as folder:
        spec, study = _study(
            Path(folder), 99, space=REAL_SPACE, sampler="random", trials=trials, games=games, alpha=alpha
        )
        records = validate_study(study, spec, top=top, games=validation_games)
    base = np.array(scores_of(records.pop("base config")))
    differences = [np.array(scores_of(r)) - base for r in records.values()]
    k = len(differences)
    rng = np.random.default_rng(12345)
    claims = 0
    for round_index in range(rounds):
        claimed = False
        for trial_index, difference in enumerate(differences):
            flipped = difference * rng.choice((-1.0, 1.0), size=len(difference))
            verdict = paired_bootstrap(
                flipped, np.zeros_like(flipped), confidence=1 - alpha / k, seed=round_index * 1_000 + trial_index
            )
            claimed = claimed or verdict.better
        claims += claimed
    low, high = wilson_interval(claims, rounds)
    games_differing = [int(np.count_nonzero(d)) for d in differences]
    return {
        "null": "exchangeable (sign-flipped) real pairs",
        "rounds": rounds,
        "trials_compared": k,
        "games_where_trial_and_base_differ": games_differing,
        "claims": claims,
        "rate": claims / rounds,
        "ci": [round(low, 4), round(high, 4)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--validation-games", type=int, default=500)
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA)
    parser.add_argument("--quick", action="store_true", help="3 studies, 60 validation games, 400 rounds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    studies, rounds, validation = (3, 400, 60) if args.quick else (args.studies, args.rounds, args.validation_games)
    started = time.perf_counter()
    rows = [
        null_studies(studies, trials=4, games=10, top=args.top, validation_games=validation, alpha=args.alpha),
        exchangeable(rounds, trials=8, games=10, top=args.top, validation_games=validation, alpha=args.alpha),
    ]
    seconds = time.perf_counter() - started
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return
    print(f"# A/A: top {args.top} vs the base on {validation} validation games, alpha {args.alpha}; {seconds:.0f} s")
    for row in rows:
        runs = row.get("studies", row.get("rounds"))
        low, high = row["ci"]
        print(
            f"{row['null']:<40} improvement claimed in {row['claims']}/{runs} = {100 * row['rate']:.1f}% "
            f"[95% CI {100 * low:.1f}%, {100 * high:.1f}%]"
        )
    print(f"  (null 1: trials whose games differed from the base's: {rows[0]['trials_that_played_differently']})")
    print(f"  (null 2: games where each trial and the base differ: {rows[1]['games_where_trial_and_base_differ']})")


if __name__ == "__main__":
    main()
