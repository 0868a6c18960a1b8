"""Check the scalar gbc reference against a local build of the real go-battleclank, score for score.

The recorded moves (bench/gbc_agreement.py) pin the reference down on 12 configs close to the bot's own.
This goes further: it builds the bot from its source with bench/gbc_bot_driver/main.go in place of its
main.go, feeds it /move bodies under any configs, and compares the bot's chosen move *and* its score of
each of the four moves with the reference's, bit for bit. Use it after the bot changes, or to check
configs far from the recorded ones (missing keys, small search limits, extreme weights).

Needs a Go toolchain. Offline, point ``--yaml-v2`` at the source of gopkg.in/yaml.v2 (Debian's
golang-gopkg-yaml.v2-dev puts it in /usr/share/gocode/src/gopkg.in/yaml.v2); it is vendored into the copy.

    python bench/gbc_vs_bot.py --bot-source ~/src/go-battleclank --yaml-v2 /usr/share/gocode/src/gopkg.in/yaml.v2
    python bench/gbc_vs_bot.py --bot-source DIR --config my.yaml --config none --requests moves.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import _tests_path  # noqa: F401  (puts tests/ on sys.path for _recorded_moves and _shared)
import yaml
from _recorded_moves import iter_positions
from _shared import GBC_MOVES

from optuna_clank.arena.snakes.gbc.reference import board_from_request, score_board
from optuna_clank.arena.snakes.gbc.schema import GbcConfig, load_gbc_yaml, read_gbc_config

DRIVER = Path(__file__).resolve().parent / "gbc_bot_driver" / "main.go"
MOVES = ("up", "down", "left", "right")
NO_CONFIG = "none"  # --config none: run the bot without a YAML (its built-in defaults)


class Refused(Exception):
    """A problem with the arguments or the build; main prints it as one line."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bot-source", type=Path, required=True, help="a go-battleclank source tree")
    parser.add_argument("--yaml-v2", type=Path, help="source of gopkg.in/yaml.v2 to vendor (offline builds)")
    parser.add_argument("--config", action="append", help=f"a YAML config, or '{NO_CONFIG}' (default: recorded)")
    parser.add_argument("--requests", type=Path, help="/move bodies, one JSON a line (default: recorded)")
    parser.add_argument("--data", type=Path, default=GBC_MOVES, help="the gbc-moves folder")
    parser.add_argument("--every", type=int, default=6, help="use every Nth request (default 6)")
    parser.add_argument("--show", type=int, default=3, help="mismatches to print per config")
    args = parser.parse_args()
    try:
        requests = _requests(args)
        configs = _configs(args)
        with tempfile.TemporaryDirectory(prefix="gbc-bot-") as tmp:
            driver = _build(args.bot_source, args.yaml_v2, Path(tmp))
            worst = _compare_all(driver, Path(tmp), requests, configs, args.show)
    except Refused as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0 if worst == 0 else 1


def _requests(args: argparse.Namespace) -> list[str]:
    if args.every < 1:
        raise Refused("--every must be at least 1")
    if args.requests is not None:
        if not args.requests.is_file():
            raise Refused(f"no requests file {args.requests}")
        lines = [line for line in args.requests.read_text().splitlines() if line.strip()]
        return lines[:: args.every]
    if not (args.data / "positions.jsonl.gz").is_file():
        raise Refused(f"no recorded positions at {args.data}; pass --requests")
    return [json.dumps(p.request) for p in iter_positions(args.data, args.every)]


def _configs(args: argparse.Namespace) -> dict[str, str | None]:
    """``name -> YAML text`` (None: no YAML at all)."""
    if args.config:
        configs: dict[str, str | None] = {}
        for item in args.config:
            if item == NO_CONFIG:
                configs[NO_CONFIG] = None
            elif not Path(item).is_file():
                raise Refused(f"no config file {item}")
            else:
                configs[item] = Path(item).read_text()
        return configs
    if not (args.data / "configs.json").is_file():
        raise Refused(f"no recorded configs at {args.data}; pass --config")
    recorded = json.loads((args.data / "configs.json").read_text())
    return {NO_CONFIG: None} | {cid: yaml.safe_dump(mapping) for cid, mapping in recorded.items()}


def _build(source: Path, yaml_v2: Path | None, tmp: Path) -> Path:
    return build_bot(source, yaml_v2, tmp, driver=True)


def build_bot(source: Path, yaml_v2: Path | None, tmp: Path, *, driver: bool) -> Path:
    """Build the bot from ``source`` into ``tmp``: the scoring driver (``driver``) or the bot's own server.

    Offline with ``yaml_v2`` (vendored); an older local Go toolchain is allowed (the ``go`` line lowered).
    """
    if shutil.which("go") is None:
        raise Refused("no Go toolchain on PATH")
    if not (source / "go.mod").is_file() or not (source / "logic.go").is_file():
        raise Refused(f"{source} is not a go-battleclank source tree (no go.mod / logic.go)")
    tree = tmp / "src"
    shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".git"))
    if driver:
        (tree / "main.go").unlink(missing_ok=True)
        shutil.copy(DRIVER, tree / "gbc_driver_main.go")
    version = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout
    major_minor = re.match(r"go(\d+\.\d+)", version.strip())
    go_mod = (tree / "go.mod").read_text()
    if major_minor:  # an older local toolchain refuses a newer "go" line; the bot needs no newer language
        go_mod = re.sub(r"(?m)^go \S+$", f"go {major_minor.group(1)}", go_mod)
        go_mod = re.sub(r"(?m)^toolchain \S+\n", "", go_mod)
        (tree / "go.mod").write_text(go_mod)
    output = tmp / ("driver" if driver else "go-battleclank")
    command = ["go", "build", "-o", str(output), "."]
    if yaml_v2 is not None:
        required = re.search(r"gopkg\.in/yaml\.v2 (\S+)", go_mod)
        if not (yaml_v2 / "yaml.go").is_file() or required is None:
            raise Refused(f"{yaml_v2} is not gopkg.in/yaml.v2 source, or the bot does not require it")
        shutil.copytree(yaml_v2, tree / "vendor" / "gopkg.in" / "yaml.v2")
        (tree / "vendor" / "modules.txt").write_text(
            f"# gopkg.in/yaml.v2 {required.group(1)}\n## explicit\ngopkg.in/yaml.v2\n"
        )
        command.insert(2, "-mod=vendor")
    built = subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False)
    if built.returncode != 0:
        last = (built.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise Refused(f"building the bot failed: {last}")
    return output


def _compare_all(driver: Path, tmp: Path, requests: list[str], configs: dict[str, str | None], show: int) -> int:
    boards = [board_from_request(json.loads(line)) for line in requests]
    print(f"{len(requests)} requests x {len(configs)} configs; scores compared bit for bit")
    worst = 0
    width = max(len(name) for name in configs)
    for name, text in configs.items():
        config_path = tmp / "missing.yaml"
        if text is not None:
            config_path = tmp / "config.yaml"
            config_path.write_text(text)
        bot = _run_bot(driver, config_path, requests)
        reference_config = read_gbc_config(None) if text is None else load_gbc_yaml(text)
        bad = _mismatches(boards, bot, reference_config)
        worst = max(worst, len(bad))
        same = len(boards) - len(bad)
        print(f"{name:{width}}  moves and all four scores identical on {same}/{len(boards)}")
        for index, ours, theirs in bad[:show]:
            print(f"  request {index}:\n    reference {ours}\n    bot       {theirs}")
    return worst


def _run_bot(driver: Path, config_path: Path, requests: list[str]) -> list[tuple[str, list[float]]]:
    env = {"BATTLESNAKE_CONFIG": str(config_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(driver)], input="\n".join(requests) + "\n", capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise Refused(f"the bot driver failed: {done.stderr.strip()[-200:]}")
    rows = []
    for line in done.stdout.splitlines():
        move, *scores = line.split()
        rows.append((move, [float(s) for s in scores]))
    return rows


def _mismatches(boards: list, bot: list[tuple[str, list[float]]], config: GbcConfig) -> list[tuple[int, str, str]]:
    bad = []
    for index, (board, (bot_move, bot_scores)) in enumerate(zip(boards, bot, strict=True)):
        decision = score_board(board, config)
        ours = [decision.scores[m].total for m in MOVES]
        if decision.move != bot_move or not all(_same(a, b) for a, b in zip(ours, bot_scores, strict=True)):
            bad.append((index, _describe(decision.move, ours), _describe(bot_move, bot_scores)))
    return bad


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _describe(move: str, scores: list[float]) -> str:
    return f"{move:5} " + " ".join(f"{m}={s!r}" for m, s in zip(MOVES, scores, strict=True))


if __name__ == "__main__":
    raise SystemExit(main())
