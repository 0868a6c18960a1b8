"""The ``init`` subcommand: a go-battleclank study and a snake file for the real binary, then what to run."""

from __future__ import annotations

import argparse
from pathlib import Path

from optuna_clank.cli.output import relative_to_or_whole


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``init`` on the main parser."""
    parser = commands.add_parser(
        "init",
        help="write a ready study for your go-battleclank binary and config, and a snake file for the binary",
        description=(
            "Write studies/NAME.toml, the shipped go-battleclank study on your config.yaml (tuned through the gbc "
            "stand-in, which picks the bot's moves at arena speed), and snakes/NAME.toml, a snake file that starts "
            "your binary where it is, once per config, for 'validate --snake' (and probe, fidelity, moves). "
            "Paths are written absolute; nothing is copied. Then prints the three commands to run next. "
            "Existing files are kept unless --force."
        ),
    )
    parser.add_argument(
        "--bot", type=Path, required=True, metavar="FILE", help="the bot's executable, e.g. ./go-battleclank"
    )
    parser.add_argument("--config", type=Path, required=True, metavar="FILE.yaml", help="the bot's config.yaml")
    parser.add_argument(
        "--name", metavar="NAME", help="the study's name (default: the binary's file name, e.g. go-battleclank)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite studies/NAME.toml and snakes/NAME.toml")
    parser.set_defaults(handler=_run_init)


def _run_init(args: argparse.Namespace) -> int:
    from optuna_clank.cli.bot_init import init_bot

    done = init_bot(args.bot, args.config, name=args.name, force=args.force)
    here = Path.cwd()
    study = relative_to_or_whole(done.study_file, here)
    snake = relative_to_or_whole(done.snake_file, here)
    print(f"wrote {study}: study {done.name}, go-battleclank's config {done.config} tuned through the gbc stand-in")
    print(f"      (from the shipped spec {done.template.stem}; edit it freely, e.g. n_trials or games_per_trial)")
    print(f"wrote {snake}: the real binary {done.bot}, started once per config")
    print("next:")
    for command in done.next_commands(cwd=here):
        print(f"  {command}")
    return 0
