"""The ``replay`` subcommand: a recorded game as text boards, or as an animated SVG picture.

The game is a file (a trial's replay artifact, a ``play --history`` file) or a study's trial:
``replay --study v2 --trial 12`` finds that trial's replay in ``storage/v2/artifacts``, and
``replay --study v2 --list`` lists the trials that have one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from optuna_clank.cli.argtypes import positive_int
from optuna_clank.cli.output import relative_to_or_whole
from optuna_clank.core.errors import UserError

if TYPE_CHECKING:
    import optuna


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register ``replay`` on the main parser."""
    parser = commands.add_parser(
        "replay",
        help="show a recorded game (a file, or a study's trial): boards in the terminal, or an animated SVG with -o",
        description=(
            "Show a recorded game: a replay file (a trial's artifact, e.g. storage/<study>/artifacts/"
            "trial-12-game-3-replay.json, or a 'play --history' file), or a study's trial with --study NAME "
            "--trial N (--list shows the trials that have a replay). Without -o, prints the board of every turn "
            "as text (letters are snakes, upper case their heads, * food). With -o FILE.svg, writes an animated "
            "SVG that any browser plays."
        ),
    )
    parser.add_argument("file", type=Path, nargs="?", metavar="FILE.json", help="replay file (a list of boards)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--study", metavar="NAME", help="the study of --trial or --list (studies/NAME.toml, or shipped)")
    which.add_argument("--spec", type=Path, metavar="FILE", help="the study's spec file, instead of --study")
    parser.add_argument("--storage", metavar="URL", help="the study's storage (default: the spec's)")
    parser.add_argument("--trial", type=int, metavar="N", help="show trial N's recorded game")
    parser.add_argument("--list", action="store_true", help="list the study's trials that have a replay")
    parser.add_argument(
        "--artifact-dir",
        type=Path,
        metavar="DIR",
        help="folder of the study's artifacts (default: storage/<study>/artifacts)",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE.svg", help="write an animated SVG instead")
    parser.add_argument("--game", type=int, help="which game of a 'play --history' file (default: the first)")
    parser.add_argument("--every", type=positive_int, default=1, help="print every N-th turn only (default: 1)")
    parser.add_argument(
        "--seconds-per-turn", type=float, default=0.25, help="animation speed of the SVG (default: 0.25)"
    )
    parser.set_defaults(handler=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    from optuna_clank.arena.replay import load_replay, render_text

    by_study = args.study is not None or args.spec is not None
    if args.file is not None and (by_study or args.trial is not None or args.list):
        raise UserError("give a replay FILE.json, or --study NAME with --trial N or --list, not both")
    if args.file is None:
        if not by_study or (args.trial is None) == (not args.list):
            raise UserError("give a replay FILE.json, or --study NAME with --trial N (or --list)")
        if args.list:
            return _list(args)
        path = _trial_file(args)
    else:
        if args.storage or args.artifact_dir:
            raise UserError("--storage and --artifact-dir go with --study NAME --trial N")
        path = args.file
    if args.game is not None and args.file is None:
        raise UserError("--game picks a game of a 'play --history' file; a trial's replay holds one game")
    frames = load_replay(path, game=args.game)
    if args.output is None:
        print(render_text(frames, every=args.every), end="")
        return 0
    if args.output.suffix.lower() != ".svg":
        raise UserError(f"cannot write {args.output}: only animated SVG (.svg) is supported")
    if args.seconds_per_turn <= 0:
        raise UserError("--seconds-per-turn must be positive")
    from optuna_clank.arena.board_svg import animated_svg

    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(animated_svg(frames, seconds_per_turn=args.seconds_per_turn))
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    print(f"wrote {args.output}: {len(frames)} turns, {frames[-1]['turn']} the last")
    return 0


def _opened(args: argparse.Namespace) -> tuple[optuna.Study, Path]:
    """The study (read only) and its artifact folder."""
    from optuna_clank.cli.study_args import open_for_command, spec_from
    from optuna_clank.trial.story import artifact_dir

    spec = spec_from(args)
    study, _, _ = open_for_command(spec)
    folder = args.artifact_dir.absolute() if args.artifact_dir else artifact_dir(spec.name)
    return study, folder


def _trial_file(args: argparse.Namespace) -> Path:
    from optuna_clank.trial.artifacts import trial_replay

    study, folder = _opened(args)
    return trial_replay(study, args.trial, folder).replay


def _list(args: argparse.Namespace) -> int:
    from optuna_clank.trial.artifacts import trial_replays

    if args.output is not None or args.game is not None:
        raise UserError("--list prints the trials with a replay; -o and --game go with a single game")
    study, folder = _opened(args)
    found = trial_replays(study, folder)
    which = f"--study {args.study}" if args.study else f"--spec {args.spec}"
    if not found:
        print(f"no trial of study {study.study_name} has a replay in {folder}")
        return 0
    here = Path.cwd()
    print(f"trials of study {study.study_name} with a replay ({len(found)}):")
    for entry in found:
        value = f"{entry.value:.3f}" if entry.value is not None else "-"
        missing = "" if entry.present else "  (missing here: recorded by a worker on another machine?)"
        shown = relative_to_or_whole(entry.replay, here)
        print(f"  trial {entry.trial:<5} {entry.state:<9} value {value:>6}  {shown}{missing}")
    print(f"show one: python -m optuna_clank replay {which} --trial N [-o game.svg]")
    return 0
