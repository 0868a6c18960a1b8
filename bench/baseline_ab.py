"""Arena speed against ``baseline`` before and after it became the Rust port, alternating in one run.

Scenarios (b) and (c) of ``bench/arena.py`` (default heuristic vs baseline, gbc vs baseline), 1v1 on
11x11, with the old made-up snake read from git (``optuna_clank/arena/snakes/baseline.py`` at
``--rev``) and the current ``baseline``. Each figure is printed with wall and CPU time: on a shared
machine the wall clock measures the other jobs as much as ours, CPU time much less. Games against the
two snakes last differently long, so turns per second is the per-turn cost and games per second what
a study gets.

    python bench/baseline_ab.py                          # 2 rounds, 4,096 games a figure at batch 1024
    python bench/baseline_ab.py --rounds 3 --games 1000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
import types
from pathlib import Path

from optuna_clank.arena.match import play_match
from optuna_clank.arena.players import Player
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.gbc import GbcSnake
from optuna_clank.core.threads import configure_torch_threads

OLD_PATH = "optuna_clank/arena/snakes/baseline.py"
CANDIDATES = {"b": ("default heuristic", lambda: None), "c": ("gbc", GbcSnake)}


def old_baseline(rev: str) -> type[Player]:
    """The made-up ``BaselineSnake`` as it was at ``rev`` (it imports only modules that still exist)."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "-C", str(root), "show", f"{rev}:{OLD_PATH}"], check=True, capture_output=True, text=True
    ).stdout
    module = types.ModuleType("old_baseline")
    exec(compile(source, f"{rev}:{OLD_PATH}", "exec"), module.__dict__)
    return module.BaselineSnake


def measure(scenario: str, opponent: type[Player], games: int, batch_size: int) -> dict[str, float]:
    candidate = CANDIDATES[scenario][1]
    play_match(candidate(), opponent(), games=8, seed=999, batch_size=batch_size)  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    result = play_match(candidate(), opponent(), games=games, seed=1, batch_size=batch_size)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "wall": wall,
        "cpu": cpu,
        "turns": result.turns,
        "turns_per_game": result.avg_turns,
        "win_rate": result.win_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rev", default="0f2d0b7", help="a commit that still has the old snake (default: 0f2d0b7)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--games", type=int, default=4096, help="games per figure (default: 4096)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--scenario", choices=sorted(CANDIDATES), nargs="*", default=sorted(CANDIDATES))
    args = parser.parse_args()
    configure_torch_threads()
    opponents = {"old": old_baseline(args.rev), "rust": BaselineSnake}
    print(f"# {args.games} games a figure at batch {args.batch_size}; old = {OLD_PATH} at {args.rev}")
    print(
        "round scenario                   baseline  games/s  turns/s   games/cpu-s  turns/cpu-s  turns/game  win   load"
    )
    for round_index in range(args.rounds):
        for scenario in args.scenario:
            order = ("old", "rust") if round_index % 2 == 0 else ("rust", "old")
            for label in order:
                row = measure(scenario, opponents[label], args.games, args.batch_size)
                title = f"({scenario}) {CANDIDATES[scenario][0]}"
                print(
                    f"{round_index:>5} {title:<26} {label:>8} {args.games / row['wall']:>8.1f} "
                    f"{row['turns'] / row['wall']:>8,.0f} {args.games / row['cpu']:>13.1f} "
                    f"{row['turns'] / row['cpu']:>12,.0f} {row['turns_per_game']:>11.1f} {row['win_rate']:>5.3f} "
                    f"{os.getloadavg()[0]:>5.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
