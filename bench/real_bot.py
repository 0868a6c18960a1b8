"""The real go-battleclank against its ``gbc`` stand-in: the same games, game for game, and no fault.

Builds the bot's own server from its source (offline, as bench/gbc_vs_bot.py does), then

1. validates a ``gbc`` study's top trials and its base config twice on the same fresh games: played
   by the stand-in (``--snake gbc``) and by the real binary, a server per config
   (``--snake real.toml``), on a copy of the study's storage (the study itself is left alone), and
   compares the stored per-game results of every config, game by game, with the real bot's server
   fault counts;
2. asks the real bot (one server, the study's base config) for its moves on recorded positions
   through ``moves --snake url:...``, counting the requests it left unanswered, and compares them
   with ``moves --snake gbc`` on the same requests.

The real bot reads the base config with every key named (what ``export`` writes), so the two play
the very same config. Prints each step's wall time and the load average around it: the machine is
shared, so the figures hold for that load.

    python bench/real_bot.py --bot-git /path/to/go-battleclank.git --yaml-v2 /usr/share/gocode/src/gopkg.in/yaml.v2 \\
        --study v2 --games 1000 --moves 300
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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import _tests_path  # noqa: F401  (puts tests/ on sys.path for _recorded_moves and _shared)
import optuna
import yaml
from _recorded_moves import iter_positions
from _shared import GBC_MOVES
from gbc_vs_bot import Refused, build_bot

from optuna_clank.arena.served.bot_process import SnakeServer
from optuna_clank.arena.served.bot_spec import gbc_base_config
from optuna_clank.core.attributes import VALIDATED_BASE_KEY, VALIDATION_PREFIX
from optuna_clank.spec import find_spec, load_spec
from optuna_clank.spec.snake_table import read_snake_table
from optuna_clank.study.opening import storage_url_of


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--bot-source", type=Path, help="a go-battleclank source tree")
    source.add_argument("--bot-git", type=Path, help="a go-battleclank git repository (bare is fine): its HEAD")
    parser.add_argument("--yaml-v2", type=Path, help="source of gopkg.in/yaml.v2 to vendor (offline builds)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--study", help="a gbc study spec studies/NAME.toml")
    which.add_argument("--spec", type=Path, help="a gbc study spec file")
    parser.add_argument("--storage", help="the study's storage URL (default: the spec's); a SQLite file is copied")
    parser.add_argument("--games", type=int, default=1000, help="validation games per config (default 1000)")
    parser.add_argument("--top", type=int, default=1, help="trials validated besides the base (default 1)")
    parser.add_argument("--seed", type=int, default=77, help="validation seed (default 77)")
    parser.add_argument("--moves", type=int, default=300, help="recorded positions asked through moves (0: skip)")
    args = parser.parse_args()
    spec_path = args.spec if args.spec else find_spec(args.study)
    spec = load_spec(spec_path)
    if spec.snake.builtin != "gbc":
        print(f"error: {spec_path} does not tune the gbc stand-in", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="real-bot-") as folder:
        tmp = Path(folder)
        try:
            bot = build_bot(source_tree(args.bot_source, args.bot_git, tmp), args.yaml_v2, tmp, driver=False)
        except Refused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        base = write_full_base(spec, tmp)
        print(f"built {bot.name} from {args.bot_source or args.bot_git}; cores: {os.cpu_count()}")
        worst = 0
        if args.games:
            worst = _validate_both(args, spec_path, spec, bot=bot, base=base, tmp=tmp)
        if args.moves:
            _moves(args, bot, base, tmp)
    return 1 if worst else 0


def source_tree(bot_source: Path | None, bot_git: Path | None, tmp: Path) -> Path:
    """The bot's source: ``bot_source`` as it is, else ``bot_git``'s HEAD unpacked under ``tmp`` (bare is fine)."""
    if bot_source is not None:
        return Path(bot_source)
    if bot_git is None:
        raise Refused("name the bot's source: --bot-source DIR or --bot-git REPO")
    tree = tmp / "checkout"
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(bot_git), "archive", "HEAD"], capture_output=True, check=False)
    if archive.returncode != 0:
        last = (archive.stderr.decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        raise Refused(f"git archive HEAD of {bot_git} failed: {last}")
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def real_snake_file(folder: Path, bot: Path, base: Path) -> Path:
    """A ``[snake]``-only file for ``validate --snake``: the built bot, a server per config, on ``base``."""
    path = folder / "real.toml"
    path.write_text(
        f"""[snake]
command = [{json.dumps(str(bot))}]
env = {{ PORT = "{{port}}", BATTLESNAKE_CONFIG = "{{config}}" }}
url = "http://127.0.0.1:{{port}}"
base_config = {json.dumps(str(base))}
"""
    )
    return path


def write_full_base(spec: Any, folder: Path) -> Path:
    """The study's base config with every key named (what ``export`` writes): the bot plays what the stand-in played."""
    base = folder / "base.yaml"
    base.write_text(yaml.safe_dump(gbc_base_config(spec.snake.base_config), sort_keys=False))
    return base


def copy_storage(url: str, folder: Path) -> str:
    """A copy of a SQLite storage under ``folder`` (the study itself is left alone); other URLs as they are."""
    if not url.startswith("sqlite:///"):
        return url
    copy = folder / "study.db"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    return f"sqlite:///{copy}"


def _validate_both(args: argparse.Namespace, spec_path: Path, spec: Any, *, bot: Path, base: Path, tmp: Path) -> int:
    url = copy_storage(args.storage or storage_url_of(spec), tmp)
    common = ["validate", "--spec", str(spec_path), "--storage", url, "--games", str(args.games)]
    common += ["--top", str(args.top), "--seed", str(args.seed), "--json"]
    played = {}
    for who, snake in (("gbc stand-in", "gbc"), ("real bot", str(real_snake_file(tmp, bot, base)))):
        load = os.getloadavg()
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "optuna_clank", *common, "--snake", snake],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
        print(
            f"{who}: validate exit {run.returncode} in {seconds:.0f} s (load {_load(load)} -> {_load(os.getloadavg())})"
        )
        if run.returncode not in (0, 1):
            print(run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "(no output)", file=sys.stderr)
            return 1
        # only this run's configs: a study validated before holds records of other trials and games
        played[who] = stored_records(spec.name, url, labels=json.loads(run.stdout)["records"])
    worst = 0
    for label, real in played["real bot"].items():
        stand_in = played["gbc stand-in"][label]
        differ = args.games - games_identical(real, stand_in)
        worst = max(worst, differ)
        faults = real.get("faults", {})
        print(
            f"  {label:<12} real win rate {100 * real['win_rate']:5.1f}%, stand-in {100 * stand_in['win_rate']:5.1f}%; "
            f"{args.games - differ:,}/{args.games:,} games identical; real bot's faults "
            f"{sum(faults.values())} of {real.get('answers', 0):,} answers {faults}"
            + (f"; REFUSED: {real['refused']}" if real.get("refused") else "")
        )
    return worst


def stored_records(study_name: str, url: str, *, labels: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """The validation records stored on a study, per-game results included: ``trial N`` and ``base config``.

    ``labels`` (e.g. the records ``validate --json`` just printed) keeps those only: a study validated
    before also holds records of other trials, on other games.
    """
    attrs = optuna.load_study(study_name=study_name, storage=url).user_attrs
    records = {f"trial {k[len(VALIDATION_PREFIX) :]}": v for k, v in attrs.items() if k.startswith(VALIDATION_PREFIX)}
    records["base config"] = attrs[VALIDATED_BASE_KEY]
    if labels is None:
        return records
    return {label: records[label] for label in labels}


def games_identical(a: dict[str, Any], b: dict[str, Any]) -> int:
    """How many games two records of the same games ended alike (per-game results compared in order)."""
    return sum(x == y for x, y in zip(a["results"], b["results"], strict=True))


def _moves(args: argparse.Namespace, bot: Path, base: Path, tmp: Path) -> None:
    folder = GBC_MOVES
    if not (folder / "positions.jsonl.gz").is_file():
        print(f"moves: no recorded positions at {folder}; skipped")
        return
    requests = [p.request for p in iter_positions(folder, 1)][: args.moves]
    lines = tmp / "requests.jsonl"
    lines.write_text("".join(json.dumps(r) + "\n" for r in requests))
    snake = read_snake_table(
        {
            "command": [str(bot)],
            "env": {"PORT": "{port}", "BATTLESNAKE_CONFIG": "{config}"},
            "url": "http://127.0.0.1:{port}",
            "base_config": str(base),
        },
        tmp,
    )
    answers = {}
    with SnakeServer(snake, {}) as server:
        for who, target in (("real bot", f"url:{server.url}"), ("gbc stand-in", "gbc")):
            command = [sys.executable, "-m", "optuna_clank", "moves", "--snake", target]
            command += ["--config", str(base)] if target == "gbc" else []
            load = os.getloadavg()
            started = time.perf_counter()
            with lines.open() as stdin:
                run = subprocess.run(command, stdin=stdin, capture_output=True, text=True, check=False)
            seconds = time.perf_counter() - started
            answers[who] = run.stdout.split()
            unanswered = answers[who].count("-")
            print(
                f"moves --snake {target.split(':')[0]}: {len(answers[who])} answers, {unanswered} unanswered ('-'), "
                f"exit {run.returncode}, {seconds:.1f} s (load {_load(load)} -> {_load(os.getloadavg())})"
            )
    same = sum(a == b for a, b in zip(answers["real bot"], answers["gbc stand-in"], strict=True))
    print(f"moves: the real bot and the stand-in agree on {same}/{len(requests)}")


def _load(averages: tuple[float, float, float]) -> str:
    return "/".join(f"{value:.2f}" for value in averages)


if __name__ == "__main__":
    raise SystemExit(main())
