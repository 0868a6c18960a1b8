"""The tuning race: which sampler finds the best snake config at an equal budget?

Every method tunes the v2 search space (31 parameters) against ``baseline`` with the same
budget (60 trials x 64 games by default, the same 64 games for every trial of a run, no
pruning), repeated with different seeds. The config each method picks (its best trial) is
then re-played on 1,000 fresh games it never saw: that held-out win rate is its score.

Methods: ClankSampler without an LLM (``clank-crossover``: with 30% of its later trials from
crossover of two of the best trials), TPE, CMA-ES, random search, and the old loop's
hill-climb (from the default config, perturb 3-7 parameters by up to 15%, keep the best).
Every method starts from the same base config, its first trial (ClankSampler through
``base_params``, the Optuna samplers through an enqueued trial): by default the real
go-battleclank bot's config (``../shared/data/go-battleclank-config.yaml``, read in place),
which the built-in snake plays far below its tuned default, so there is room to improve;
``--base default`` starts from the built-in default config instead.

    python bench/race.py                       # 5 repetitions (about an hour on 2 cores)
    python bench/race.py --quick               # 2 repetitions of 20 trials x 32 games
    python bench/race.py --methods clank tpe --reps 3 --out race.json
    python bench/race.py --base default        # start from the (already tuned) default
    python bench/race.py --crossover --quick   # ClankSampler with and without crossover, same seeds
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler

from optuna_clank.arena.config import Config, default_config, flatten, load_config, with_values
from optuna_clank.arena.match import play_match
from optuna_clank.arena.params import TUNABLE_PARAMS
from optuna_clank.core.attributes import PROPOSAL_SOURCE_KEY, ProposalSource
from optuna_clank.core.stats import wilson_interval
from optuna_clank.core.threads import configure_torch_threads

METHODS = ("clank", "clank-crossover", "tpe", "cmaes", "random", "hill-climb")
CROSSOVER_SHARE = 0.3
"""Share of the post-startup trials ``clank-crossover`` proposes by crossover (``clank``: none)."""
GO_CONFIG = (
    Path(os.environ.get("OPTUNA_CLANK_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
    / "go-battleclank-config.yaml"
)


def base_config(name: str) -> Config:
    """The config every method starts from: ``go`` (the Go bot's real config), ``default`` or a path."""
    if name == "default":
        return default_config()
    return load_config(GO_CONFIG if name == "go" else name)


class HillClimbSampler(BaseSampler):
    """The old loop: perturb 3-7 parameters of the best config so far by up to 15%."""

    def __init__(self, start: dict[str, float], *, seed: int) -> None:
        self._start = start
        self._rng = random.Random(seed)

    def infer_relative_search_space(self, study: optuna.Study, trial: Any) -> dict[str, BaseDistribution]:
        del study, trial
        return _space()

    def sample_relative(self, study: optuna.Study, trial: Any, search_space: dict[str, BaseDistribution]) -> dict:
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not complete:
            return dict(self._start)
        current = max(complete, key=lambda t: t.value).params
        proposal = dict(current)
        for name in self._rng.sample(sorted(search_space), self._rng.randint(3, 7)):
            dist = search_space[name]
            value = current[name] * (1 + self._rng.uniform(-0.15, 0.15))
            if current[name] == 0:
                value = self._rng.uniform(0, 0.15) * (dist.high - dist.low)
            value = min(max(value, dist.low), dist.high)
            proposal[name] = round(value) if isinstance(dist, IntDistribution) else value
        return proposal

    def sample_independent(self, study: optuna.Study, trial: Any, name: str, dist: BaseDistribution) -> Any:
        raise RuntimeError("the hill-climb proposes every parameter relatively")


def _space() -> dict[str, BaseDistribution]:
    space: dict[str, BaseDistribution] = {}
    for p in TUNABLE_PARAMS:
        if p.is_int:
            space[p.name] = IntDistribution(int(p.low), int(p.high), log=p.log)
        else:
            space[p.name] = FloatDistribution(p.low, p.high, log=p.log)
    return space


def _suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> float:
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log)
    assert isinstance(dist, FloatDistribution)
    return trial.suggest_float(name, dist.low, dist.high, log=dist.log)


def _sampler(method: str, seed: int, start: dict[str, float]) -> BaseSampler:
    if method in ("clank", "clank-crossover"):
        from optuna_clank.sampler import ClankSampler

        return ClankSampler(
            search_space=_space(),
            use_neural_net=True,
            n_startup_trials=10,
            base_params=start,
            seed=seed,
            crossover_share=CROSSOVER_SHARE if method == "clank-crossover" else 0.0,
        )
    if method == "tpe":
        return optuna.samplers.TPESampler(multivariate=True, constant_liar=True, n_startup_trials=10, seed=seed)
    if method == "cmaes":
        return optuna.samplers.CmaEsSampler(n_startup_trials=10, seed=seed)
    if method == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if method == "hill-climb":
        return HillClimbSampler(start, seed=seed)
    raise ValueError(method)


def _start_params(base: Config) -> dict[str, float]:
    """The base config's values of the tunable parameters, clipped into their bounds."""
    values = flatten(base)
    return {p.name: p.clip(values[p.name]) for p in TUNABLE_PARAMS}


def race_run(
    method: str, rep: int, *, trials: int, games: int, validation_games: int, base_name: str
) -> dict[str, Any]:
    """One method, one repetition: tune, pick the best trial, validate it on fresh games."""
    configure_torch_threads()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    seed = 1000 + rep
    space = _space()
    base = base_config(base_name)
    start = _start_params(base)
    study = optuna.create_study(direction="maximize", sampler=_sampler(method, seed, start))
    if method in ("tpe", "cmaes", "random"):
        study.enqueue_trial(start)  # every method starts from the base config
    started = time.perf_counter()

    def objective(trial: optuna.Trial) -> float:
        params = {name: _suggest(trial, name, dist) for name, dist in space.items()}
        result = play_match(with_values(base, params), "baseline", games=games, seed=seed, batch_size=games)
        return result.mean_score

    study.optimize(objective, n_trials=trials)
    tuning_seconds = time.perf_counter() - started
    best = study.best_trial
    held_out = play_match(
        with_values(base, best.params), "baseline", games=validation_games, seed=90_000 + rep, batch_size=1000
    )
    return {
        "method": method,
        "rep": rep,
        "best_trial": best.number,
        "study_value": best.value,
        "held_out_win_rate": held_out.win_rate,
        "held_out_ci": list(held_out.win_rate_ci),
        "held_out_score": held_out.mean_score,
        "tuning_seconds": round(tuning_seconds, 1),
        "crossover_trials": sum(
            1 for t in study.trials if t.user_attrs.get(PROPOSAL_SOURCE_KEY) == ProposalSource.CROSSOVER
        ),
    }


def _table(rows: list[dict[str, Any]], validation_games: int) -> str:
    lines = [
        f"{'method':<15} {'runs':>4} {'median held-out win':>19} {'min..max':>13} {'mean [95% CI]':>22} "
        f"{'median study value':>18}"
    ]
    by_method: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_method.setdefault(row["method"], []).append(row)
    for method in METHODS:
        runs = by_method.get(method)
        if not runs:
            continue
        rates = [r["held_out_win_rate"] for r in runs]
        mean = statistics.fmean(rates)
        half = 1.96 * statistics.stdev(rates) / math.sqrt(len(rates)) if len(rates) > 1 else 0.0
        lines.append(
            f"{method:<15} {len(runs):>4} {100 * statistics.median(rates):>18.1f}% "
            f"{100 * min(rates):>5.1f}..{100 * max(rates):<5.1f}% "
            f"{100 * mean:>8.1f}% [{100 * (mean - half):.1f}, {100 * (mean + half):.1f}]"
            f" {statistics.median(r['study_value'] for r in runs):>18.3f}"
        )
    pooled = {m: sum(r["held_out_win_rate"] * validation_games for r in v) for m, v in by_method.items()}
    lines.append("pooled held-out win rate with Wilson 95% interval over all validation games:")
    for method in METHODS:
        if method in by_method:
            n = validation_games * len(by_method[method])
            low, high = wilson_interval(pooled[method], n)
            lines.append(f"  {method:<15} {100 * pooled[method] / n:5.1f}% [{100 * low:.1f}, {100 * high:.1f}] (n={n})")
    lines.extend(_paired_lines(by_method))
    return "\n".join(lines)


def _paired_lines(by_method: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Crossover on minus off, repetition by repetition (same seed, same games): the fair comparison."""
    on = {r["rep"]: r for r in by_method.get("clank-crossover", [])}
    off = {r["rep"]: r for r in by_method.get("clank", [])}
    reps = sorted(on.keys() & off.keys())
    if not reps:
        return []
    from scipy.stats import t as student_t

    diffs = [on[r]["held_out_win_rate"] - off[r]["held_out_win_rate"] for r in reps]
    mean = statistics.fmean(diffs)
    n = len(diffs)
    half = student_t.ppf(0.975, n - 1) * statistics.stdev(diffs) / math.sqrt(n) if n > 1 else math.nan
    shown = ", ".join(f"{100 * d:+.1f}" for d in diffs)
    return [
        f"crossover on - off, paired by repetition: {shown} points; mean {100 * mean:+.1f} "
        f"[{100 * (mean - half):+.1f}, {100 * (mean + half):+.1f}] (Student t 95% over {n} repetitions)"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="*", choices=METHODS, default=list(METHODS))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--games", type=int, default=64)
    parser.add_argument("--validation-games", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (processes)")
    parser.add_argument("--quick", action="store_true", help="2 repetitions of 20 trials x 32 games, 300 held out")
    parser.add_argument(
        "--crossover",
        action="store_true",
        help="compare ClankSampler with and without crossover only (same seeds and budget); overrides --methods",
    )
    parser.add_argument("--out", help="also write every run as JSON here")
    parser.add_argument("--base", default="go", help="go (default: the Go bot's config), default, or a YAML path")
    args = parser.parse_args()
    if args.quick:
        args.reps, args.trials, args.games, args.validation_games = 2, 20, 32, 300
    if args.crossover:
        args.methods = ["clank", "clank-crossover"]
    from joblib import Parallel, delayed

    if args.base == "go" and not GO_CONFIG.exists():
        print(f"# {GO_CONFIG} not found: starting from the built-in default config")
        args.base = "default"
    base_config(args.base)  # fail early on a bad path

    print(
        f"# race: {args.trials} trials x {args.games} games vs baseline, {args.reps} repetitions, "
        f"held-out validation on {args.validation_games} fresh games, base config: {args.base}",
        flush=True,
    )
    jobs = [(m, r) for r in range(args.reps) for m in args.methods]
    rows = Parallel(n_jobs=args.jobs, verbose=0)(
        delayed(race_run)(
            m, r, trials=args.trials, games=args.games, validation_games=args.validation_games, base_name=args.base
        )
        for m, r in jobs
    )
    for row in rows:
        print(json.dumps(row), flush=True)
    print(_table(rows, args.validation_games))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
