"""``optimize`` and ``worker``: run a study (the main job), alone or as one more worker of a shared storage."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from optuna_clank.cli.argtypes import n_jobs, port, positive_int
from optuna_clank.cli.study_args import add_study_arguments, configure_logging, overrides_of, say, spec_file
from optuna_clank.core.errors import UserError
from optuna_clank.spec.names import BACKENDS, PRUNERS, SAMPLERS, choices_help

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import StudySpec

_LOG = logging.getLogger("optuna_clank")


def add_optimize(commands: argparse._SubParsersAction, name: str) -> None:
    if name == "optimize":
        summary = "run (or resume) a study: trials until the study has --n-trials finished ones"
        description = (
            "Run the study described by a spec until it holds N finished (complete or pruned) trials. "
            "Running the same command again resumes it: trial numbers continue and the sampler sees every "
            "earlier trial. Ctrl-C once finishes the running trials and stops; twice (more than a second apart) "
            "stops them now: they are marked failed and queued again with the same parameters, so the next run "
            "plays them first. Trials left running by a crashed run are failed by heartbeat and queued again alike. "
            "Exit status: 0 when the study holds its trials or the run stopped as asked (Ctrl-C once, --timeout); "
            "1 when it ended short on its own (every slot gave up after failed trials in a row), with one line "
            "saying why; 2 for a mistake in the command or spec; 130 after Ctrl-C twice."
        )
    else:
        summary = "join a running study from this machine with its own slots (needs a shared storage)"
        description = (
            "Add this machine's slots to a study that other machines are running: same spec, shared storage "
            "(PostgreSQL). Stops when the study holds N finished trials, like optimize; prints log lines "
            "instead of a progress bar and writes no checkpoints. Exit statuses as optimize's."
        )
    parser = commands.add_parser(name, help=summary, description=description)
    add_study_arguments(parser)
    parser.add_argument("--n-trials", type=positive_int, help="total finished trials the study should reach")
    parser.add_argument("--timeout", type=float, help="seconds after which no new trial starts (this run)")
    parser.add_argument(
        "--n-jobs",
        type=n_jobs,
        metavar="N|auto",
        help="trials at once, one slot (device) each; auto: one per GPU, else one per CPU core",
    )
    parser.add_argument(
        "--trials-in-flight",
        type=n_jobs,
        metavar="N|auto",
        help="trials each slot plays at once in one batch; auto: as many as fill the device's batch",
    )
    parser.add_argument("--games", type=positive_int, dest="games_per_trial", help="games per trial")
    parser.add_argument(
        "--round-size", type=positive_int, help="games a trial plays between two pruning checks (default: the spec's)"
    )
    parser.add_argument("--seed", type=int, help="benchmark seed: which games every trial plays")
    parser.add_argument(
        "--base-config",
        metavar="FILE",
        help="the config the study tunes from, e.g. your bot's config.yaml (default: the spec's base_config; "
        "v2: go-battleclank's shipped config.yaml). A study keeps the base it started from: status, validate "
        "and export use it",
    )
    if name == "optimize":  # a worker writes no checkpoints
        parser.add_argument(
            "--checkpoint-interval",
            type=int,
            metavar="K",
            help="every K finished trials, export the best config to storage/<study>/best-<storage hash>.yaml "
            "(one file per study and storage; its header names both; 0: off)",
        )
    parser.add_argument(
        "--opponent",
        action="append",
        dest="opponents",
        metavar="NAME",
        help="opponent instead of the spec's (repeat for a tournament: every opponent plays the same games): "
        "a built-in name, a config FILE.yaml, gbc:FILE.yaml, url:http://HOST:PORT, or cmd:COMMAND (a snake "
        "server started with PORT set to a free port)",
    )
    parser.add_argument(
        "--opponent-weight",
        action="append",
        dest="opponent_weights",
        type=float,
        metavar="W",
        help="weight of each --opponent in the trial's value, in the same order (default: equal)",
    )
    parser.add_argument(
        "--use-llm",
        "--llm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="let an LLM propose parameter deltas (--no-llm: run without one)",
    )
    parser.add_argument(
        "--llm-model",
        action="append",
        dest="llm_models",
        metavar="MODEL",
        help="litellm model name (repeat for an ensemble that votes), e.g. openai/gpt-4o-mini",
    )
    parser.add_argument("--llm-api-base", metavar="URL", help="base URL of an OpenAI-compatible server")
    parser.add_argument(
        "--use-neural-net",
        "--neural-net",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="propose from the autoencoder's winning patterns (--no-neural-net: do not)",
    )
    parser.add_argument(
        "--sampler", dest="sampler_name", choices=list(SAMPLERS), help=choices_help("sampler", SAMPLERS)
    )
    parser.add_argument("--pruner", dest="pruner_name", choices=list(PRUNERS), help=choices_help("pruner", PRUNERS))
    parser.add_argument("--backend", choices=list(BACKENDS), help=choices_help("joblib backend of the pool", BACKENDS))
    parser.add_argument("--dask-scheduler", metavar="ADDRESS", help="Dask scheduler address, with --backend dask")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress (a bar on a terminal, else a line per finished trial)"
        if name == "optimize"
        else "no progress log lines (errors still show)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every trial")
    if name == "optimize":
        _add_warm_start_arguments(parser)
    parser.add_argument(
        "--dashboard", action="store_true", help="serve optuna-dashboard on the study while this run lasts"
    )
    parser.add_argument(
        "--dashboard-host", default="127.0.0.1", help="with --dashboard: its address (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--dashboard-port", type=port, default=8080, help="with --dashboard: its port (default: 8080; 0: any free)"
    )
    parser.set_defaults(handler=_run_optimize, command=name)


def _add_warm_start_arguments(parser: argparse.ArgumentParser) -> None:
    # No import of warm_start here: it loads optuna and torch, and --help must stay light.
    parser.add_argument(
        "--warm-start-from",
        metavar="STUDY",
        help="seed a new study with another study's best validated trials (else its best completed ones): "
        "they are re-played first, here, so the sampler starts from them; parameters are mapped by name "
        "(missing ones take the base config's value, out-of-range ones are clipped). Recorded in the study's "
        "'warm_start' attribute; a resumed or already seeded study is not seeded again",
    )
    parser.add_argument(
        "--warm-start-storage",
        metavar="URL",
        help="storage of the --warm-start-from study (default: this study's storage when the spec or --storage "
        "names one, else sqlite:///storage/<STUDY>.db)",
    )
    parser.add_argument(
        "--warm-start-trials",
        type=positive_int,
        metavar="N",
        help="how many of the source's trials to take (default: 5)",
    )


def _run_optimize(args: argparse.Namespace) -> int:
    from optuna_clank.cli import output
    from optuna_clank.run.runner import RunEnding, run_study
    from optuna_clank.study.storage import describe_storage

    overrides = overrides_of(args)
    if args.storage:
        overrides["storage_url"] = args.storage
    spec = spec_file(args)
    wanted = spec.with_overrides(**overrides)  # a bad override ends here, before anything is opened
    headless = args.command == "worker"
    configure_logging(verbose=args.verbose)
    if not _llm_usable(wanted):
        overrides["use_llm"] = False  # said once here rather than once per worker
    if getattr(args, "warm_start_storage", None) and not getattr(args, "warm_start_from", None):
        raise UserError("--warm-start-storage needs --warm-start-from STUDY")
    run = run_study(
        spec,
        overrides=overrides,
        worker=headless,
        warm_start_from=getattr(args, "warm_start_from", None),
        warm_start_storage=getattr(args, "warm_start_storage", None),
        warm_start_trials=getattr(args, "warm_start_trials", None),
        progress="none" if args.quiet else "bar" if not headless and sys.stderr.isatty() else "log",
        dashboard=(args.dashboard_host, args.dashboard_port) if args.dashboard else None,
        verbose=args.verbose,
        say=say,
    )
    if run.ended == RunEnding.ALREADY_DONE:
        print(
            f"study {spec.name} ({describe_storage(run.storage_url)}) already has {run.before.finished} finished "
            f"trials (target {run.spec.study.n_trials}); raise --n-trials to run more"
        )
        return 0
    for line in output.run_lines(run):
        print(line, file=sys.stderr)
    print_best(run.study)
    short = run.why_short()
    if short is not None:  # the target is unmet and nobody asked for that: say why, and fail
        print(f"error: {short}", file=sys.stderr)
        return 1
    return 130 if run.ended == RunEnding.ABORTED else 0


def _llm_usable(spec: StudySpec) -> bool:
    """False (with one warning) when the spec wants an LLM none of whose models can be used."""
    options = spec.sampler
    if options.name != "clank" or not options.use_llm or options.llm_api_base:
        return True
    from optuna_clank.sampler import llm_environment_problems

    found = llm_environment_problems(options.llm_models)
    if any(not problems for problems in found.values()):
        return True
    problems = dict.fromkeys(problem for problems in found.values() for problem in problems)
    _LOG.warning("running without an LLM: %s (set the key, or pass --no-llm to silence this)", "; ".join(problems))
    return False


def print_best(study: optuna.Study) -> None:
    from optuna_clank.study.results import best_trial

    best = best_trial(study)
    if best is not None:
        print(f"best: {best.describe()}", file=sys.stderr)
