"""Throughput: games/s of ``play`` and of many configs sharing one continuous batch, in one run.

    python bench/throughput.py             # a few minutes on a 2-core machine
    python bench/throughput.py --quick     # fewer games: a check that it runs
    python bench/throughput.py --json      # one JSON object per figure

1. ``play``: the default heuristic config vs ``baseline``, ``--games`` games (2048), at each of
   ``--batch-sizes`` as ``play`` runs it (its games split over one process per usable core); the best
   is ``play``'s figure. Then the same games in one process at that batch size: the ratio is what
   the split buys on this machine as it is.
2. many configs: ``--configs`` go-battleclank configs (16) x ``--config-games`` games (100) each vs
   ``baseline``, (a) the way a trial plays them today: one config at a time, a round of
   ``--round-size`` games (20) per batch; (b) all of them queued in one continuous batch
   (:class:`~optuna_clank.arena.scheduler.GameScheduler`) of the best batch size, each row scored
   with its own config. Both must give the same outcomes (checked), and the ratio is printed.

Each figure is printed with the load average: the machine may be shared, so compare the figures
of one run only, and ``--repeat`` the paired measurement (2) to see how much they move.

3. ``play`` beside a busy process: the best batch size again, while a process of ours keeps one core
   busy; compared with the one-process idle figure (target: at least 0.8x).
4. the study: ``play`` of the main study's own snakes (``gbc`` from the shipped config vs
   ``baseline``) at the best batch size, then a short ``optimize --study v2`` (pruning on, no LLM,
   ``n_jobs`` auto, ``--study-trials`` trials) in a temporary folder. Its games/s are the games its
   trials played (pruned ones count what they played) over the time from its first trial's start
   to its last trial's end (the process start, torch and sampler loading, is printed apart).
   The ratio study / play is the issue's target (at least 70%, idle, ``n_jobs`` auto).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from optuna_clank.arena.match import GameOutcome, play_match
from optuna_clank.arena.processes import usable_cores
from optuna_clank.arena.scheduler import GameScheduler
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.gbc.schema import GBC_DEFAULTS, GBC_KEYS, GbcConfig, default_gbc_config
from optuna_clank.core.threads import configure_torch_threads


@dataclass(frozen=True)
class Figure:
    """One measurement: games played in so many seconds, and how."""

    name: str
    games: int
    seconds: float
    detail: str

    @property
    def games_per_second(self) -> float:
        return self.games / self.seconds

    def line(self) -> str:
        load = os.getloadavg()[0]
        rate = f"{self.games_per_second:>9,.1f} games/s"
        return f"{self.name:<22} {rate}  ({self.games} games, {self.seconds:.1f} s; {self.detail}; load {load:.1f})"


def play_figures(games: int, batch_sizes: Sequence[int]) -> tuple[list[Figure], Figure, int]:
    """``play`` at each batch size (split as ``play`` splits), and one process at the best one."""
    figures = []
    for batch_size in batch_sizes:
        started = time.perf_counter()
        result = play_match(None, "baseline", games=games, seed=1, batch_size=batch_size, processes="auto")
        seconds = time.perf_counter() - started
        figures.append(Figure("play", games, seconds, f"batch {batch_size}, {result.processes} process(es)"))
        print(figures[-1].line(), flush=True)
    best = max(range(len(figures)), key=lambda i: figures[i].games_per_second)
    started = time.perf_counter()
    play_match(None, "baseline", games=games, seed=1, batch_size=batch_sizes[best], processes=1)
    one = Figure("play, one process", games, time.perf_counter() - started, f"batch {batch_sizes[best]}")
    print(one.line(), flush=True)
    return figures, one, batch_sizes[best]


def gbc_configs(count: int) -> list[GbcConfig]:
    """``count`` configs a tuner might try: the bot's defaults with about half its weights scaled."""
    configs = []
    for seed in range(count):
        rng = random.Random(seed)
        changes: dict[str, float | int] = {}
        for key in GBC_KEYS:
            if key.kind in (int, float) and not key.name.startswith("search.") and rng.random() < 0.5:
                value = GBC_DEFAULTS[key.name] * rng.uniform(0.3, 3.0)
                changes[key.name] = round(value) if key.kind is int else float(value)
        configs.append(default_gbc_config().with_values(changes))
    return configs


def in_rounds(configs: Sequence[GbcConfig], games: int, round_size: int) -> tuple[Figure, list[list[GameOutcome]]]:
    """Today's trials: each config alone, a round of ``round_size`` games per batch."""
    outcomes: list[list[GameOutcome]] = []
    started = time.perf_counter()
    for config in configs:
        mine: list[GameOutcome] = []
        for start in range(0, games, round_size):
            rounds = range(start, min(start + round_size, games))
            mine.extend(play_match(GbcSnake(config), "baseline", games=rounds, seed=3, batch_size=round_size).outcomes)
        outcomes.append(mine)
    seconds = time.perf_counter() - started
    detail = f"{len(configs)} configs one at a time, rounds of {round_size}"
    return Figure("configs in rounds", games * len(configs), seconds, detail), outcomes


def in_one_batch(configs: Sequence[GbcConfig], games: int, batch_size: int) -> tuple[Figure, list[list[GameOutcome]]]:
    """All configs' games in one continuous batch, each row with its own config."""
    started = time.perf_counter()
    with GameScheduler(batch_size=batch_size) as batch:
        ids = [batch.add(GbcSnake(config), "baseline", seed=3, games=range(games)) for config in configs]
        batch.run()
        outcomes = [list(batch.result(cid).outcomes) for cid in ids]
    seconds = time.perf_counter() - started
    detail = f"{len(configs)} configs in one continuous batch of {batch_size} rows"
    return Figure("configs in one batch", games * len(configs), seconds, detail), outcomes


def many_configs(count: int, games: int, round_size: int, batch_size: int, repeat: int) -> list[tuple[Figure, Figure]]:
    """(rounds, one batch) pairs, alternating; the outcomes of the two ways must be the same."""
    configs = gbc_configs(count)
    pairs = []
    for _ in range(repeat):
        rounds, by_rounds = in_rounds(configs, games, round_size)
        print(rounds.line(), flush=True)
        together, by_batch = in_one_batch(configs, games, batch_size)
        print(together.line(), flush=True)
        if by_rounds != by_batch:
            raise SystemExit("error: a config's outcomes differ between the two ways: common random numbers broken")
        print(f"  ratio one batch / rounds: {together.games_per_second / rounds.games_per_second:.2f}x", flush=True)
        pairs.append((rounds, together))
    return pairs


def gbc_play(games: int, batch_size: int) -> Figure:
    """``play`` of the main study's snakes: the shipped go-battleclank config vs ``baseline``."""
    from optuna_clank.arena.served.bot_spec import shipped_gbc_config_path
    from optuna_clank.arena.snakes.gbc.schema import load_gbc_yaml

    config = load_gbc_yaml(shipped_gbc_config_path().read_text())
    started = time.perf_counter()
    result = play_match(GbcSnake(config), "baseline", games=games, seed=1, batch_size=batch_size, processes="auto")
    detail = f"gbc (shipped config) vs baseline, batch {batch_size}, {result.processes} process(es)"
    return Figure("play gbc", games, time.perf_counter() - started, detail)


def study_figure(trials: int, extra: Sequence[str]) -> tuple[Figure, float]:
    """A short ``optimize --study v2`` (pruning on, no LLM, n_jobs auto): its trials' games/s, and the
    seconds from the command's start to its first trial's start (loading torch, the study, the sampler)."""
    import optuna

    with tempfile.TemporaryDirectory(prefix="throughput-") as folder:
        url = f"sqlite:///{folder}/v2.db"
        command = [sys.executable, "-m", "optuna_clank", "optimize", "--study", "v2", "--no-llm"]
        command += ["--n-trials", str(trials), "--storage", url, "--quiet", *extra]
        launched = time.time()
        root = Path(__file__).resolve().parent.parent
        run = subprocess.run(command, check=False, cwd=root, capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"error: optimize exited {run.returncode}: {run.stderr.strip()[-800:]}")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(study_name="v2", storage=url)
        done = [t for t in study.trials if t.datetime_complete is not None and t.datetime_start is not None]
        games = sum(int(t.user_attrs.get("games_played", 0)) for t in done)
        first = min(t.datetime_start for t in done)
        last = max(t.datetime_complete for t in done)
        pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in done)
        in_flight = next((line.strip() for line in run.stderr.splitlines() if "in flight:" in line), "")
    seconds = (last - first).total_seconds()
    detail = f"{len(done)} trials ({pruned} pruned), n_jobs auto; {in_flight}"
    return Figure("study v2", games, seconds, detail), first.timestamp() - launched


@contextmanager
def busy_core() -> Iterator[None]:
    """A process that keeps one core busy while the block runs."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.0)
        yield
    finally:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=2048, help="games of the play figures (default 2048)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--configs", type=int, default=16, help="gbc configs sharing one batch (default 16)")
    parser.add_argument("--config-games", type=int, default=100, help="games per config (default 100)")
    parser.add_argument("--round-size", type=int, default=20, help="games per round of today's trials (default 20)")
    parser.add_argument("--repeat", type=int, default=2, help="paired many-config measurements (default 2)")
    parser.add_argument("--study-trials", type=int, default=40, help="trials of the short study (default 40)")
    parser.add_argument("--study-option", action="append", default=[], help="an extra option for optimize")
    parser.add_argument("--skip-configs", action="store_true", help="leave out the many-configs comparison")
    parser.add_argument("--quick", action="store_true", help="256 play games, 4 configs x 40 games, 8 trials, once")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON lines at the end")
    args = parser.parse_args()
    if args.quick:
        args.games, args.batch_sizes, args.configs, args.config_games, args.repeat = 256, [256], 4, 40, 1
        args.study_trials = 8
    configure_torch_threads()
    print(f"# {usable_cores()} usable CPU core(s), one torch thread per process; load {os.getloadavg()[0]:.1f}")
    play_match(None, "baseline", games=8, seed=999)  # warm-up
    figures, one_process, best_batch = play_figures(args.games, args.batch_sizes)
    best = max(figures, key=lambda f: f.games_per_second)
    split = best.games_per_second / one_process.games_per_second
    print(f"  play's best: {best.games_per_second:,.1f} games/s ({best.detail}); {split:.2f}x one process", flush=True)
    rows: list[Figure] = [*figures, one_process]
    with busy_core():
        started = time.perf_counter()
        result = play_match(None, "baseline", games=args.games, seed=1, batch_size=best_batch, processes="auto")
        loaded = Figure("play beside a busy core", args.games, time.perf_counter() - started, f"batch {best_batch}")
    print(loaded.line(), flush=True)
    ratio = loaded.games_per_second / one_process.games_per_second
    print(f"  beside a busy core ({result.processes} process(es)): {ratio:.2f}x the idle one process", flush=True)
    rows.append(loaded)
    if not args.skip_configs:
        pairs = many_configs(args.configs, args.config_games, args.round_size, best_batch, args.repeat)
        together = max((p[1] for p in pairs), key=lambda f: f.games_per_second)
        share = together.games_per_second / best.games_per_second
        print(
            f"  many configs in one batch: {share:.0%} of play's best (one process against {best.detail})", flush=True
        )
        rows.extend(f for pair in pairs for f in pair)
    gbc = gbc_play(args.games, best_batch)
    print(gbc.line(), flush=True)
    study, startup = study_figure(args.study_trials, args.study_option)
    print(study.line(), flush=True)
    print(f"  study start-up (torch, study, sampler) before its first trial: {startup:.1f} s", flush=True)
    share = study.games_per_second / gbc.games_per_second
    print(f"  study / play of the same snakes: {share:.0%} (target: at least 70%)", flush=True)
    rows += [gbc, study]
    if args.json:
        for figure in rows:
            print(json.dumps({**asdict(figure), "games_per_second": round(figure.games_per_second, 1)}))


if __name__ == "__main__":
    main()
