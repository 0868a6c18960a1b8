"""Arena speed: games/s and turns/s of the batched engine, 1v1 on 11x11.

(a) random-safe vs random-safe  (engine + the cheapest snake: what the rules cost)
(b) default heuristic vs baseline  (what a study's trials cost; baseline: go-battleclank's Rust benchmark snake)
(c) gbc (go-battleclank, built-in defaults) vs baseline  (what a study of the real bot costs)

across batch sizes and the devices present. Turns are game-turns (one turn of one game).

    python bench/arena.py                      # all batch sizes, all devices
    python bench/arena.py --batch-sizes 1024 4096 --scenario b
    python bench/arena.py --load-check         # 1 vs 2 torch threads vs 2 processes, idle and beside a busy process

The arena runs with the project's thread choice (optuna_clank.core.threads: one per process), and a
large match on the CPU splits its games over one process per usable core
(optuna_clank.arena.processes). ``--load-check`` measures why: scenario (b) at batch 1024 with one
process of 1 and of 2 torch threads, and split over ``--processes`` processes of one thread each,
once as the machine is and once while a process of our own keeps one core busy. "Idle" is only as
idle as the machine is; the load average is printed beside each figure, and ``--repeat`` runs the
whole table again (compare figures of one run only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from optuna_clank.arena.match import play_match
from optuna_clank.arena.processes import usable_cores
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.arena.snakes.simple import RandomSafeSnake
from optuna_clank.core.threads import configure_torch_threads

SCENARIOS = {
    "a": ("random-safe vs random-safe", RandomSafeSnake, "random-safe"),
    "b": ("default heuristic vs baseline", lambda: None, "baseline"),
    "c": ("gbc vs baseline", GbcSnake, "baseline"),
}


def _games_for(scenario: str, batch_size: int, budget_s: float) -> int:
    """Enough games to fill the batch a few times, fewer where a game is slow."""
    per_game_s = (
        {"a": 2e-3, "b": 2e-2, "c": 2e-2}[scenario] if batch_size > 16 else {"a": 0.05, "b": 0.8, "c": 1.0}[scenario]
    )
    by_budget = int(budget_s / per_game_s)
    return max(min(4 * batch_size, by_budget), min(batch_size, 8), 2)


def run(scenario: str, device: str, batch_size: int, budget_s: float) -> dict:
    title, candidate, opponent = SCENARIOS[scenario]
    games = _games_for(scenario, batch_size, budget_s)
    play_match(candidate(), opponent, games=min(games, 8), seed=999, device=device, batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    result = play_match(candidate(), opponent, games=games, seed=1, device=device, batch_size=batch_size)
    seconds = time.perf_counter() - started
    return {
        "scenario": scenario,
        "title": title,
        "device": device,
        "batch_size": batch_size,
        "games": games,
        "seconds": round(seconds, 3),
        "games_per_second": round(games / seconds, 1),
        "turns_per_second": round(result.turns / seconds),
        "avg_turns": round(result.avg_turns, 1),
        "win_rate": round(result.win_rate, 3),
    }


@contextmanager
def busy_core() -> Iterator[None]:
    """A process that keeps one core busy, for the "loaded" figures.

    It runs in a session of its own, as another job on the machine would: Linux's scheduler (with
    autogroup, the default on most systems) shares the CPU fairly between sessions first, so a
    spinner in the benchmark's own session would take its share from the processes measured.
    """
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
    try:
        time.sleep(1.0)  # let it take its core
        yield
    finally:
        spinner.kill()
        spinner.wait()


def load_check(games: int, thread_counts: list[int], process_counts: list[int], repeat: int) -> None:
    """Scenario (b), batch 1024: games/s per way of using the cores, idle and beside a busy core.

    Each figure runs in a fresh interpreter (as ``play`` does): torch's thread pools and a fork
    after them would otherwise carry over from one figure to the next.
    """
    ways: list[tuple[int | str, int]] = [(1, threads) for threads in thread_counts]
    ways += [(p, 1) for p in process_counts if p != 1]
    print(f"# load check: {games} games of (b) at batch 1024 per figure, {usable_cores()} usable CPU core(s)")
    print(f"{'condition':<10} {'processes':>9} {'threads':>7} {'games/s':>9} {'seconds':>8}  load average (1 min)")
    for _ in range(repeat):
        for condition in ("idle", "loaded"):
            for processes, threads in ways:
                if condition == "loaded":
                    with busy_core():
                        seconds, used = _figure_in_fresh_process(games, processes, threads)
                else:
                    seconds, used = _figure_in_fresh_process(games, processes, threads)
                label = f"{processes}:{used}" if processes == "auto" else str(used)
                print(
                    f"{condition:<10} {label:>9} {threads:>7} {games / seconds:>9,.1f} {seconds:>8.1f}  "
                    f"{os.getloadavg()[0]:.1f}",
                    flush=True,
                )


def _figure_in_fresh_process(games: int, processes: int | str, threads: int) -> tuple[float, int]:
    """Seconds of one figure, and the processes its match used."""
    done = subprocess.run(
        [sys.executable, __file__, "--figure", str(games), str(processes), str(threads)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise SystemExit(f"error: a figure failed: {lines[-1] if lines else done.returncode}")
    seconds, used = done.stdout.split()[-2:]
    return float(seconds), int(used)


def _figure(games: int, processes: int | str, threads: int) -> None:
    """One load-check figure in this process: prints the seconds ``games`` games took and the processes used."""
    configure_torch_threads(threads)
    play_match(None, "baseline", games=8, seed=999, batch_size=1024)  # warm-up
    started = time.perf_counter()
    result = play_match(None, "baseline", games=games, seed=1, batch_size=1024, processes=processes)
    seconds = time.perf_counter() - started
    if processes not in ("auto", result.processes):
        raise SystemExit(f"{games} games in {processes} processes: the match used {result.processes} (too few games?)")
    print(f"{seconds:.4f} {result.processes}")


def _count(text: str) -> int | str:
    return "auto" if text == "auto" else int(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), nargs="*", default=sorted(SCENARIOS))
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[1, 16, 64, 256, 1024, 4096])
    parser.add_argument("--devices", nargs="*", help="default: cpu plus every visible CUDA device type")
    parser.add_argument("--budget", type=float, default=20.0, help="rough seconds per measurement")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument(
        "--load-check", action="store_true", help="threads 1 vs 2 vs processes, idle and loaded, then stop"
    )
    parser.add_argument("--load-games", type=int, default=512, help="games per --load-check figure")
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 2], help="thread counts for --load-check")
    parser.add_argument(
        "--processes",
        type=_count,
        nargs="*",
        default=[max(2, usable_cores()), "auto"],
        help="process counts (one thread each; 'auto' as play chooses) for --load-check "
        "(default: the usable cores, at least 2, and auto)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="--load-check tables to run, one after the other")
    parser.add_argument("--figure", nargs=3, metavar=("GAMES", "PROCESSES", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.figure:
        games, processes, threads = args.figure
        _figure(int(games), _count(processes), int(threads))
        return
    if args.load_check:
        load_check(args.load_games, args.threads, args.processes, args.repeat)
        return
    configure_torch_threads()
    devices = args.devices or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} CPU threads, devices: {', '.join(devices)}")
    if not args.json:
        header = ("scenario", "device", "batch", "games", "games/s", "turns/s", "turns/game")
        widths = (-32, -6, 6, 6, 9, 11, 10)
        print(" ".join(f"{h:<{-w}}" if w < 0 else f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    for scenario in args.scenario:
        for device in devices:
            for batch_size in args.batch_sizes:
                row = run(scenario, device, batch_size, args.budget)
                if args.json:
                    print(json.dumps(row), flush=True)
                else:
                    print(
                        f"{row['title']:<32} {device:<6} {batch_size:>6} {row['games']:>6} "
                        f"{row['games_per_second']:>9,.1f} {row['turns_per_second']:>11,} {row['avg_turns']:>10}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
