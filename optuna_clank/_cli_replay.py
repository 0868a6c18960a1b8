"""The ``replay`` subcommand: a recorded game as text boards, or as an animated SVG picture."""

from __future__ import annotations

import argparse
from pathlib import Path

from optuna_clank._argtypes import positive_int
from optuna_clank.errors import UserError


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``replay`` on the main parser."""
    parser = commands.add_parser(
        "replay",
        help="show a recorded game: boards in the terminal, or an animated SVG with -o",
        description=(
            "Show a recorded game: a trial's replay artifact (from the dashboard or storage/<study>/artifacts) or "
            "a 'play --history' file. Without -o, prints the board of every turn as text (letters are snakes, "
            "upper case their heads, * food). With -o FILE.svg, writes an animated SVG that any browser plays."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE.json", help="replay file (a list of Battlesnake boards)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE.svg", help="write an animated SVG instead")
    parser.add_argument("--game", type=int, help="which game of a 'play --history' file (default: the first)")
    parser.add_argument("--every", type=positive_int, default=1, help="print every N-th turn only (default: 1)")
    parser.add_argument(
        "--seconds-per-turn", type=float, default=0.25, help="animation speed of the SVG (default: 0.25)"
    )
    parser.set_defaults(handler=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    from optuna_clank.replay import load_replay, render_text

    frames = load_replay(args.file, game=args.game)
    if args.output is None:
        print(render_text(frames, every=args.every), end="")
        return 0
    if args.output.suffix.lower() != ".svg":
        raise UserError(f"cannot write {args.output}: only animated SVG (.svg) is supported")
    if args.seconds_per_turn <= 0:
        raise UserError("--seconds-per-turn must be positive")
    from optuna_clank.board_svg import animated_svg

    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(animated_svg(frames, seconds_per_turn=args.seconds_per_turn))
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    print(f"wrote {args.output}: {len(frames)} turns, {frames[-1]['turn']} the last")
    return 0
