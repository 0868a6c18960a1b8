"""Study subcommands of the command line: registers optimize, worker and validate (their own modules),
and runs status, export and dashboard."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from optuna_clank.cli.argtypes import port, positive_int
from optuna_clank.cli.optimize import add_optimize
from optuna_clank.cli.study_args import add_study_arguments, open_for_command, spec_from
from optuna_clank.cli.validate import add_validate
from optuna_clank.core.errors import UserError

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import StudySpec

_LOG = logging.getLogger("optuna_clank")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the study subcommands on the main parser."""
    add_optimize(commands, "optimize")
    add_optimize(commands, "worker")
    add_validate(commands)
    _add_status(commands)
    _add_export(commands)
    _add_dashboard(commands)


def _add_status(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status",
        help="trials by state, best (validated verdict, else raw) with intervals, trials/hour, last trials",
        description=(
            "Show where a study stands. After 'validate', the best is the trial that beat the base config in the "
            "paired test (with its difference and interval), or the base config when none did; before, the best "
            "trial by its study value, marked not validated. A pruned trial shows its mean over the games it played."
        ),
    )
    add_study_arguments(parser)
    parser.add_argument("--last", type=positive_int, default=10, help="how many recent trials to list")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_run_status)


def _add_export(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export",
        help="write the best config (validated verdict first) as go-battleclank YAML",
        description=(
            "Write the study's best config in the go-battleclank YAML shape: every key of the base config, with "
            "the tuned values merged in. After 'validate' that is the trial that beat the base config in the "
            "paired test, or the base config itself when no trial did; the file's comment header says which."
        ),
    )
    add_study_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: print to stdout)")
    parser.add_argument("--base", type=Path, help="config to merge the tuned values onto (default: the spec's)")
    parser.add_argument(
        "--pick",
        metavar="N|RULE",
        help="export this trial instead of the best: a trial number, or (multi-objective) constraints and a goal "
        "over the Pareto front, e.g. 'win_rate>=0.55,min avg_turns'",
    )
    parser.set_defaults(handler=_run_export)


def _add_dashboard(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "dashboard",
        help="serve optuna-dashboard for the study's storage",
        description=(
            "Start optuna-dashboard on the study's storage and print its address (Ctrl-C stops it). Each finished "
            "trial shows a note (proposal, changed parameters, LLM rationale, win rate, deaths) and artifacts (a "
            "replay of one game and a picture of its key moment) from storage/<study>/artifacts."
        ),
    )
    add_study_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine)")
    parser.add_argument("--port", type=port, default=8080, help="port (default: 8080; 0: any free port)")
    parser.add_argument(
        "--artifact-dir", type=Path, help="folder of the trials' artifacts (default: storage/<study>/artifacts)"
    )
    parser.set_defaults(handler=_run_dashboard)


# --------------------------------------------------------------------------- handlers


def _run_status(args: argparse.Namespace) -> int:
    from optuna_clank.cli import output
    from optuna_clank.study.results import status
    from optuna_clank.study.storage import describe_storage

    spec = spec_from(args)
    study, url, spec = open_for_command(spec)
    report = status(study, last=args.last)
    if args.json:
        print(json.dumps(report.to_json()))
        return 0
    print(output.status_text(report, spec, storage=describe_storage(url)))
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from optuna_clank.study.export import export_study
    from optuna_clank.study.storage import describe_storage

    spec = spec_from(args)
    study, url, spec = open_for_command(spec)
    if args.pick is not None:
        return _export_pick(args, spec, study, url)
    if len(spec.study.objectives) > 1:
        print(
            f"note: a multi-objective study has no single best; this exports the best by its paired verdict "
            f"(mean game score) or, before validate, by {spec.study.objectives[0]}; "
            "choose from the Pareto front with --pick",
            file=sys.stderr,
        )
    text, best = export_study(spec, study, args.output, base=args.base, storage=describe_storage(url))
    if args.output is not None:
        print(f"wrote {args.output}: {best.describe()}", file=sys.stderr)
        return 0
    if not spec.snake.reads_own_yaml:  # a server's export names the trial in its first line already
        print(f"# {best.describe()}", file=sys.stderr)
    print(text, end="")
    return 0


def _export_pick(args: argparse.Namespace, spec: StudySpec, study: optuna.Study, url: str) -> int:
    """``export --pick``: the trial the user chose (by number or from the Pareto front)."""
    from optuna_clank.arena.config import dump_config
    from optuna_clank.core.pareto import describe_values, parse_pick, pick_trial
    from optuna_clank.study.export import base_for_export, trial_config, write_builtin_config
    from optuna_clank.study.storage import describe_storage

    objectives = spec.study.objectives
    pick = parse_pick(args.pick, objectives)
    if pick.number is None and len(objectives) == 1:
        raise UserError("--pick with constraints needs a multi-objective study; give a trial number instead")
    if spec.snake.reads_own_yaml:
        raise UserError(
            "--pick exports the built-in heuristic snake's configs; a study of a snake that reads its own YAML "
            "(a server, or gbc) exports its best only"
        )
    trial = pick_trial(study, pick, objectives)
    what = f"trial {trial.number} picked by {args.pick!r}: {describe_values(trial, objectives)}"
    config = trial_config(trial, base_for_export(args.base, study))
    if args.output is None:
        print(f"# {what}", file=sys.stderr)
        print(dump_config(config), end="")
        return 0
    header = f"optuna-clank: study {study.study_name} on {describe_storage(url)}\nholds {what}"
    print(f"wrote {write_builtin_config(args.output, config, header=header)}: {what}", file=sys.stderr)
    return 0


def _run_dashboard(args: argparse.Namespace) -> int:
    from optuna_clank.study.dashboard import serve
    from optuna_clank.study.storage import describe_storage
    from optuna_clank.trial.story import artifact_dir

    spec = spec_from(args)
    _, url, _ = open_for_command(spec)  # a missing study or an unreachable storage ends here, as one line
    artifacts = args.artifact_dir.absolute() if args.artifact_dir else artifact_dir(spec.name)
    serve(url, artifacts=artifacts, host=args.host, port=args.port, title=f"{spec.name} on {describe_storage(url)}")
    return 0
