"""``python -m optuna_clank``: subcommands that parse, call one function, and report.

Every mistake a user can make (a bad path, a typo in a spec, an unreachable database) ends
as one ``error:`` line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna_clank import __version__
from optuna_clank.cli.argtypes import board_size, int_list, n_jobs, positive_int
from optuna_clank.core.errors import UserError


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    _quiet_libraries()
    try:
        return handler(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error on the final flush
        return 0


def _quiet_libraries() -> None:
    """Optuna's per-trial INFO lines would drown the progress bar; our own output replaces them."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m optuna_clank",
        description=(
            "Tune a Battlesnake bot's YAML weights with Optuna: a rules-exact batched arena, "
            "an LLM + autoencoder sampler, a pool of GPU slots, honest statistics."
        ),
        epilog="Run 'python -m optuna_clank COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"optuna-clank {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    from optuna_clank.cli import init as init_commands
    from optuna_clank.cli import probe as probe_commands
    from optuna_clank.cli import replay as replay_commands
    from optuna_clank.cli import snakes as snakes_commands
    from optuna_clank.cli import study as study_commands

    init_commands.add_command(commands)
    _add_play(commands)
    _add_params(commands)
    study_commands.add_commands(commands)
    replay_commands.add_command(commands)
    probe_commands.add_commands(commands)
    snakes_commands.add_commands(commands)
    return parser


def _add_play(commands: argparse._SubParsersAction) -> None:
    play = commands.add_parser(
        "play",
        help="play a snake config against opponents and report the win rate",
        description=(
            "Play GAMES games of a snake config against one or more opponents in the built-in "
            "arena and report the win rate with its Wilson 95% interval, draws, turns, death "
            "causes by game phase and speed. Game i under a seed is the same game for every "
            "config (same start, seats and food), and seats alternate between games."
        ),
    )
    play.add_argument(
        "--snake",
        choices=PLAYABLE_SNAKES,
        default="gbc",
        help="the snake that plays --config: gbc (go-battleclank's stand-in, the default; the config is the bot's "
        "own YAML, read as the bot reads it) or heuristic (the built-in heuristic snake)",
    )
    play.add_argument(
        "--config",
        type=Path,
        help="the snake's config YAML (default: go-battleclank's shipped config.yaml for gbc, the built-in "
        "default config for heuristic)",
    )
    play.add_argument(
        "--opponent",
        action="append",
        metavar="NAME",
        help="baseline (go-battleclank's Rust benchmark snake), random-safe, greedy-food, heuristic, gbc, "
        "a config YAML, gbc:FILE.yaml, url:http://HOST:PORT "
        "or cmd:COMMAND (a snake server started with PORT set to a free port); repeat for a tournament "
        "(default: baseline)",
    )
    play.add_argument("--games", type=positive_int, default=500, help="number of games (default: 500)")
    play.add_argument("--seed", type=int, default=1, help="match seed (default: 1)")
    play.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:1 ... (default: cpu)")
    play.add_argument("--board-size", type=board_size, default=(11, 11), metavar="N|WxH", help="default: 11")
    play.add_argument(
        "--mode",
        choices=("duel", "free-for-all"),
        default="duel",
        help="duel: 1v1 against each opponent in turn; free-for-all: everybody on one board (default: duel)",
    )
    play.add_argument("--max-turns", type=positive_int, default=1000, help="turn cap; capped games are draws")
    play.add_argument(
        "--batch-size", type=positive_int, default=1024, help="games simulated at once (per process; default 1024)"
    )
    play.add_argument(
        "--processes",
        type=n_jobs,
        default="auto",
        metavar="N|auto",
        help="processes sharing the games, one torch thread each; auto (the default): one per usable CPU core "
        "for matches of 64+ games per process on the CPU without snake servers; the results are the same",
    )
    play.add_argument(
        "--record",
        type=int_list,
        default=[],
        metavar="I,J,...",
        help="games to record turn by turn",
    )
    play.add_argument(
        "--history",
        type=Path,
        help="write the recorded games (Battlesnake API boards) to this JSON file",
    )
    play.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    play.set_defaults(handler=_run_play)


def _add_params(commands: argparse._SubParsersAction) -> None:
    params = commands.add_parser(
        "params",
        help="list the tunable parameters of the built-in snake with their bounds",
        description="List every tunable parameter (config key), its range, scale, type and default.",
    )
    params.add_argument("--json", action="store_true", help="print JSON")
    params.set_defaults(handler=_run_params)


def _run_play(args: argparse.Namespace) -> int:
    from optuna_clank.arena.opponents import resolve_opponent
    from optuna_clank.cli import output

    # the user's files first: a mistake in them is reported before torch loads
    candidate = _play_candidate(args.snake, args.config)
    opponent_names = args.opponent or ["baseline"]
    opponent_factories = [resolve_opponent(name) for name in opponent_names]

    from optuna_clank.arena.match import play_match
    from optuna_clank.core.devices import check_device
    from optuna_clank.core.threads import configure_torch_threads

    threads = configure_torch_threads()
    opponents = [make() for make in opponent_factories]
    device = check_device(args.device)
    if args.history and not args.record:
        args.record = list(range(min(args.games, 1)))
    bar = _progress(total=args.games, unit="game", enabled=not args.json, label="play")
    result = play_match(
        candidate.make(),
        opponents,
        games=args.games,
        seed=args.seed,
        device=device,
        board_size=args.board_size,
        mode=args.mode,
        max_turns=args.max_turns,
        batch_size=args.batch_size,
        record=args.record,
        on_game_end=lambda _outcome: bar.update(1),
        processes=args.processes,
    )
    bar.close()
    summary = result.summary()
    summary.update(
        snake=args.snake,
        config=candidate.label,
        opponents=opponent_names,
        seed=args.seed,
        device=str(device),
        board_size=list(args.board_size),
        mode=args.mode,
        torch_threads=threads,
    )
    if args.history:
        _write_json(args.history, {str(game): frames for game, frames in result.history.items()})
    if args.json:
        print(json.dumps(summary))
    else:
        title = (
            f"{args.snake} ({summary['config']}) vs {', '.join(opponent_names)} ({args.mode}, seed {args.seed}, "
            f"{device})"
        )
        print(output.match_summary(summary, title=title))
        if args.history:
            print(f"  history     {len(result.history)} game(s) written to {args.history}")
    return 0


PLAYABLE_SNAKES = ("gbc", "heuristic")
"""The built-in snakes ``play`` can seat as the candidate, each with a config of its own shape."""


@dataclass(frozen=True)
class _PlayCandidate:
    """The snake ``play`` seats: its config read (and checked) now, its player made after torch loads."""

    make: Callable[[], Any]
    label: str


def _play_candidate(snake: str, config_path: Path | None) -> _PlayCandidate:
    if snake == "gbc":
        from optuna_clank.arena.served.bot_spec import describe_base_config, gbc_base_config, shipped_gbc_config_path

        path = config_path or shipped_gbc_config_path()
        config = gbc_base_config(path)

        def make_gbc() -> Any:
            from optuna_clank.arena.snakes.gbc import GbcSnake

            return GbcSnake(config, name="candidate")

        return _PlayCandidate(make_gbc, describe_base_config(path) if config_path is None else str(config_path))
    from optuna_clank.arena.config import load_config

    heuristic = load_config(config_path) if config_path else None
    return _PlayCandidate(lambda: heuristic, str(config_path) if config_path else "default")


def _run_params(args: argparse.Namespace) -> int:
    from optuna_clank.arena.config import default_config, flatten
    from optuna_clank.arena.params import TUNABLE_PARAMS

    defaults = flatten(default_config())
    rows = [
        {
            "name": p.name,
            "low": p.low,
            "high": p.high,
            "log": p.log,
            "int": p.is_int,
            "default": defaults[p.name],
            "help": p.help,
        }
        for p in TUNABLE_PARAMS
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    width = max(len(r["name"]) for r in rows)
    print(f"{len(rows)} tunable parameters of the built-in heuristic snake:")
    for r in rows:
        scale = "int" if r["int"] else ("log" if r["log"] else "lin")
        bounds = f"[{r['low']:g}, {r['high']:g}]"
        print(f"  {r['name']:<{width}}  {bounds:<14} {scale}  default {r['default']:<8g} {r['help']}")
    return 0


def _write_json(path: Path, data: Any) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _progress(*, total: int, unit: str, enabled: bool, label: str) -> Any:
    from optuna_clank.core.progress import progress_bar

    return progress_bar(total=total, unit=unit, label=label, enabled=enabled)
