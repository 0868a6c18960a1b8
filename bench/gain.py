"""Show the gain, honestly: what the main job finds in a fixed wall budget, validated on fresh games.

From the study's shipped base config (``--study v2``: go-battleclank's own config.yaml, tuned through the
``gbc`` stand-in against the faithful Rust ``baseline``), in a fresh storage under a working folder:

1. runs ``optimize`` for ``--minutes`` of wall time (``--timeout``; no new trial starts after it, the running
   ones finish), without an LLM, and prints the run's wall time, its trials (complete, pruned, failed) and the
   load average before and after: the machine may be shared, so the figures hold for that load;
2. validates the top ``--top`` trials and the base config on ``--games`` fresh games (``validate --json``) and
   prints, per trial, the numbers validate stored: win rate and score, the paired difference from the base in
   points with its interval, and the verdict (``better`` only when the Bonferroni-corrected interval lies above
   zero). Then one line: the best validated gain, and whether the target is MET: a trial called better by at
   least +10 points (mean paired difference) over the base config;
3. with ``--bot PATH`` (a built go-battleclank binary) or ``--bot-git REPO`` / ``--bot-source DIR`` (built from
   the bot's source, as bench/real_bot.py does), replays the same configs (the base and the top trials) on a
   copy of the study's storage twice on the same ``--bot-games`` games: by the real bot (``validate --snake``
   with a ``[snake]``-only file: one server per config) and by the stand-in (``--snake gbc``), and prints the
   two records side by side per config (win rates, games that ended alike, the real bot's server faults) and
   each one's paired verdict.

Nothing is re-computed here: every figure is what ``validate`` stores and prints. Exit status: 0 when every step
ran (the target met or not); 1 when a step failed or a record was refused for its servers' faults; 2 for a
mistake in the arguments or a bot that does not build.

    python bench/gain.py                                  # 20 minutes, top 3 on 1,000 games
    python bench/gain.py --minutes 40 --keep /tmp/gain40 --games-per-trial 400
    python bench/gain.py --bot-git /path/to/go-battleclank.git --yaml-v2 /usr/share/gocode/src/gopkg.in/yaml.v2
    python bench/gain.py --bot ~/go-battleclank/go-battleclank --bot-games 400 --sampler tpe
    python bench/gain.py --minutes 1 --games 200 --bot-games 40 --keep /tmp/gain1 --bot-git REPO   # a smoke run

The spec's ``round_size`` (games between two pruning checks) has no ``optimize`` flag: to try another, copy the
spec and pass ``--spec FILE``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import optuna
from gbc_vs_bot import Refused, build_bot
from optuna.trial import TrialState
from real_bot import copy_storage, games_identical, real_snake_file, source_tree, stored_records, write_full_base

import optuna_clank
from optuna_clank.spec import SpecError, find_spec, load_spec

TARGET_POINTS = 10.0
"""The issue's target: a trial called better by at least this many points (mean paired difference)."""


def main() -> int:
    args = _parser().parse_args()
    problem = _check(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        spec_path = (args.spec if args.spec else find_spec(args.study)).resolve()
        spec = load_spec(spec_path)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    wants_bot = args.bot is not None or args.bot_git is not None or args.bot_source is not None
    if wants_bot and spec.snake.builtin != "gbc":
        print(f"error: {spec_path} does not tune the gbc stand-in: the real bot cannot replay it", file=sys.stderr)
        return 2
    with _work_folder(args.keep) as folder:
        url = f"sqlite:///{folder / (spec.name + '.db')}"
        if Path(url.removeprefix("sqlite:///")).exists():
            print(f"error: {folder} already holds a study storage; give --keep an empty folder", file=sys.stderr)
            return 2
        print(f"spec {spec_path}; working folder {folder}; storage {url}; cores: {os.cpu_count()}")
        bot = None
        if wants_bot:  # before the long run: a bot that does not build stops here, not after it
            try:
                bot = _the_bot(args, folder)
            except Refused as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        if not _optimize(args, spec_path, spec, url, folder):
            return 1
        status = _validate(args, spec_path, url, folder)
        if status != 0 or bot is None:
            return status
        return _replay_on_bot(args, spec_path, spec, url, folder, bot=bot)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--study", default="v2", metavar="NAME", help="study spec studies/NAME.toml (default: v2, the main job)"
    )
    which.add_argument(
        "--spec", type=Path, metavar="FILE", help="a study spec file anywhere (e.g. a copy with another round_size)"
    )
    parser.add_argument("--minutes", type=float, default=20.0, metavar="M", help="wall budget of the run (default 20)")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="working folder to keep (storage, logs); default: a temporary one"
    )
    run = parser.add_argument_group("the run (default: the spec's values)")
    run.add_argument("--games-per-trial", type=int, metavar="N", help="games per trial (optimize --games)")
    run.add_argument("--round-size", type=int, metavar="N", help="games between pruning checks (optimize --round-size)")
    run.add_argument("--n-jobs", metavar="N|auto", help="trials at once: N or auto (optimize --n-jobs)")
    run.add_argument(
        "--trials-in-flight", metavar="N|auto", help="trials each slot plays at once (optimize --trials-in-flight)"
    )
    run.add_argument("--sampler", choices=("clank", "tpe", "random", "cmaes", "gp"), help="optimize --sampler")
    run.add_argument("--pruner", choices=("wilcoxon", "median", "none"), help="optimize --pruner")
    run.add_argument(
        "--n-trials", type=int, metavar="N", help="stop at this many finished trials (default: the spec's)"
    )
    check = parser.add_argument_group("validation")
    check.add_argument(
        "--top", type=int, default=3, metavar="K", help="best trials validated against the base (default 3)"
    )
    check.add_argument("--games", type=int, default=1000, metavar="N", help="fresh games per config (default 1000)")
    check.add_argument(
        "--seed", type=int, metavar="S", help="seed of the validation games (default: validate's, derived)"
    )
    real = parser.add_argument_group("the real bot (optional)")
    source = real.add_mutually_exclusive_group()
    source.add_argument("--bot", type=Path, metavar="PATH", help="a built go-battleclank binary")
    source.add_argument(
        "--bot-git", type=Path, metavar="REPO", help="a go-battleclank git repository (bare is fine): build its HEAD"
    )
    source.add_argument("--bot-source", type=Path, metavar="DIR", help="a go-battleclank source tree: build it")
    real.add_argument(
        "--yaml-v2", type=Path, metavar="DIR", help="source of gopkg.in/yaml.v2 to vendor (offline builds)"
    )
    real.add_argument(
        "--bot-games", type=int, default=200, metavar="N", help="games per config on the real bot (default 200)"
    )
    real.add_argument(
        "--bot-seed",
        type=int,
        default=77,
        metavar="S",
        help="seed of those games, for the bot and the stand-in alike (default 77)",
    )
    return parser


def _check(args: argparse.Namespace) -> str | None:
    if not args.minutes > 0:
        return "--minutes must be above 0"
    for name in ("top", "games", "bot_games", "games_per_trial", "round_size", "n_trials"):
        value = getattr(args, name)
        if value is not None and value < 1:
            return f"--{name.replace('_', '-')} must be at least 1"
    if args.bot is not None and not (args.bot.is_file() and os.access(args.bot, os.X_OK)):
        return f"--bot {args.bot}: not an executable file"
    if args.yaml_v2 is not None and args.bot_git is None and args.bot_source is None:
        return "--yaml-v2 is for building the bot: pass --bot-git or --bot-source with it"
    return None


@contextmanager
def _work_folder(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="gain-") as folder:
        yield Path(folder)


def _the_bot(args: argparse.Namespace, folder: Path) -> Path:
    if args.bot is not None:
        print(f"real bot: {args.bot}")
        return Path(args.bot).resolve()
    build = folder / "bot-build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    started = time.perf_counter()
    bot = build_bot(source_tree(args.bot_source, args.bot_git, build), args.yaml_v2, build, driver=False)
    print(f"real bot: built {bot} from {args.bot_source or args.bot_git} in {time.perf_counter() - started:.0f} s")
    return bot


def _optimize(args: argparse.Namespace, spec_path: Path, spec: Any, url: str, folder: Path) -> bool:
    """Step 1: the main job for the wall budget; False when it failed."""
    seconds = round(60 * args.minutes)
    command = ["optimize", "--spec", str(spec_path), "--storage", url, "--timeout", str(seconds), "--no-llm"]
    for flag, value in (
        ("--games", args.games_per_trial),
        ("--round-size", args.round_size),
        ("--trials-in-flight", args.trials_in_flight),
        ("--n-jobs", args.n_jobs),
        ("--sampler", args.sampler),
        ("--pruner", args.pruner),
        ("--n-trials", args.n_trials),
    ):
        if value is not None:
            command += [flag, str(value)]
    log = folder / "optimize.log"
    print(f"\n1. optimize for {seconds:,} s (log: {log}):\n   python -m optuna_clank {' '.join(command)}")
    before = os.getloadavg()
    started = time.perf_counter()
    run = _clank(command, folder, log=log)
    wall = time.perf_counter() - started
    after = os.getloadavg()
    if run.returncode != 0:
        print(
            f"error: optimize exited {run.returncode} after {wall:.0f} s: {_last_line(log.read_text())}",
            file=sys.stderr,
        )
        return False
    trials = optuna.load_study(study_name=spec.name, storage=url).get_trials(deepcopy=False)
    count = {state: sum(t.state == state for t in trials) for state in TrialState}
    finished = count[TrialState.COMPLETE] + count[TrialState.PRUNED]
    cap = args.n_trials or spec.study.n_trials
    print(
        f"   wall {wall:.0f} s ({wall / 60:.1f} min); {finished} trials finished: {count[TrialState.COMPLETE]} "
        f"complete, {count[TrialState.PRUNED]} pruned, {count[TrialState.FAIL]} failed "
        f"({60 * finished / wall:.1f} a minute); load average {_load(before)} -> {_load(after)}"
    )
    if cap and finished >= cap:
        print(f"   note: the study reached its {cap} trials before the budget ran out (--n-trials sets more)")
    return True


def _validate(args: argparse.Namespace, spec_path: Path, url: str, folder: Path) -> int:
    """Step 2: the top trials and the base on fresh games; 0 when it ran and no record was refused."""
    command = ["validate", "--spec", str(spec_path), "--storage", url, "--top", str(args.top)]
    command += ["--games", str(args.games), "--json"] + (["--seed", str(args.seed)] if args.seed else [])
    print(f"\n2. validate the top {args.top} and the base on {args.games:,} fresh games")
    data, status = _validate_json(command, folder)
    if data is None:
        return 1
    records = data["records"]
    first = next(iter(records.values()))
    print(f"   the same {first['games']:,} games for every config (seed {first['seed']}); played by {first['snake']}")
    for number in data.get("base_trials") or []:
        print(f"   trial {number} has the base config's parameters: it is the base config, not re-played")
    for label, record in _in_order(records):
        print(f"   {label:<12} {_record_text(record)}{_paired_text(record)}")
    print(f"   {_target_line(records)}")
    return status


def _replay_on_bot(args: argparse.Namespace, spec_path: Path, spec: Any, url: str, folder: Path, *, bot: Path) -> int:
    """Step 3: the same configs on the real bot and on the stand-in, the same games, side by side."""
    tmp = folder / "bot-replay"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    copy = copy_storage(url, tmp)  # the study's own records of step 2 stay as they are
    real_file = real_snake_file(tmp, bot, write_full_base(spec, tmp))
    print(f"\n3. replay the base and the top {args.top} on {args.bot_games:,} games (seed {args.bot_seed}), on {copy}")
    common = ["validate", "--spec", str(spec_path), "--storage", copy, "--top", str(args.top)]
    common += ["--games", str(args.bot_games), "--seed", str(args.bot_seed), "--json"]
    played: dict[str, dict[str, dict[str, Any]]] = {}
    shown: dict[str, dict[str, dict[str, Any]]] = {}
    worst = 0
    for who, snake in (("stand-in", "gbc"), ("real bot", str(real_file))):
        before = os.getloadavg()
        started = time.perf_counter()
        data, status = _validate_json([*common, "--snake", snake], folder)
        seconds = time.perf_counter() - started
        print(f"   {who}: validate in {seconds:.0f} s (load average {_load(before)} -> {_load(os.getloadavg())})")
        if data is None:
            return 1
        worst = max(worst, status)
        shown[who] = data["records"]
        played[who] = stored_records(spec.name, copy, labels=shown[who])  # with the per-game results
    for label, real in _in_order(shown["real bot"]):
        stand_in = shown["stand-in"].get(label)
        if stand_in is None:
            print(f"   {label:<12} real bot {_record_text(real)}; no stand-in record")
            continue
        same = games_identical(played["real bot"][label], played["stand-in"][label])
        faults = real.get("faults", {})
        print(
            f"   {label:<12} real bot {100 * real['win_rate']:5.1f}% (score {real['score']:.3f}), stand-in "
            f"{100 * stand_in['win_rate']:5.1f}% ({stand_in['score']:.3f}); {same:,}/{args.bot_games:,} games "
            f"identical; real bot's faults {sum(faults.values())} of {real.get('answers', 0):,} answers {faults}"
            + (f"; REFUSED: {real['refused']}" if real.get("refused") else "")
        )
        for who in ("real bot", "stand-in"):
            paired = _paired_text(shown[who][label])
            if paired:
                print(f"   {'':<12}   {who}:{paired}")
    for who in ("real bot", "stand-in"):
        print(f"   {who} on these games: {_target_line(shown[who])}")
    return worst


def _validate_json(command: list[str], folder: Path) -> tuple[dict[str, Any] | None, int]:
    """``validate --json``'s answer and exit status (1: a record was refused); None when it failed."""
    run = _clank(command, folder)
    if run.returncode not in (0, 1):
        print(f"error: validate exited {run.returncode}: {_last_line(run.stderr)}", file=sys.stderr)
        return None, run.returncode
    try:
        data = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(f"error: validate printed no JSON (exit {run.returncode}): {_last_line(run.stderr)}", file=sys.stderr)
        return None, 1
    for line in run.stderr.strip().splitlines():
        if line.startswith("error:"):
            print(f"   validate: {line}")
    return data, run.returncode


def _clank(command: Sequence[str], folder: Path, *, log: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m optuna_clank COMMAND`` run in ``folder`` (checkpoints land there), on this very package."""
    env = dict(os.environ)
    package_root = str(Path(optuna_clank.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    full = [sys.executable, "-m", "optuna_clank", *command]
    if log is None:
        return subprocess.run(full, cwd=folder, env=env, capture_output=True, text=True, check=False)
    with log.open("w") as out:
        return subprocess.run(full, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, check=False)


def _in_order(records: dict[str, dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The base config first, then the trials as validate listed them."""
    base = [(label, r) for label, r in records.items() if label == "base config"]
    return base + [(label, r) for label, r in records.items() if label != "base config"]


def _record_text(record: dict[str, Any]) -> str:
    low, high = record["ci"]
    text = (
        f"win rate {100 * record['win_rate']:5.1f}% [{100 * low:.1f}%, {100 * high:.1f}%]  "
        f"score {record['score']:.3f}  draws {record['draws']}"
    )
    return text + (f"  REFUSED: {record['refused']}" if record.get("refused") else "")


def _paired_text(record: dict[str, Any]) -> str:
    """Validate's paired comparison with the base, in points: ``+4.5 points [-0.5, +9.8] ...: not shown better``."""
    paired = record.get("paired")
    if not paired:
        return ""
    low, high = paired["interval"]
    return (
        f"  {100 * paired['difference']:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}] over the base "
        f"({100 * paired['confidence']:.1f}% interval, p adjusted {paired['p_adjusted']:.3g}): "
        + ("better" if paired["better"] else "not shown better")
    )


def _target_line(records: dict[str, dict[str, Any]]) -> str:
    """The best validated gain, and whether a trial is called better by at least the target."""
    compared = [(label, r["paired"]) for label, r in records.items() if r.get("paired")]
    if not compared:
        return "no paired comparison with the base (no trial validated, or the base record refused): target NOT MET"
    # as the product's verdict picks: the better trial with the largest difference, else the largest difference
    label, best = max(compared, key=lambda item: (item[1]["better"], item[1]["difference"]))
    low, high = best["interval"]
    met = [lab for lab, p in compared if p["better"] and 100 * p["difference"] >= TARGET_POINTS]
    verdict = "better" if best["better"] else "not shown better"
    return (
        f"best validated gain: {label}, {100 * best['difference']:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}] "
        f"over the base config on {best['games']:,} games ({verdict}); target (called better at alpha "
        f"{best['alpha']:g}, Bonferroni over {best['compared']}, by >= +{TARGET_POINTS:g} points): "
        + (f"MET by {', '.join(met)}" if met else "NOT MET")
    )


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or ["(no output)"])[-1]


def _load(averages: tuple[float, float, float]) -> str:
    return "/".join(f"{value:.2f}" for value in averages)


if __name__ == "__main__":
    raise SystemExit(main())
