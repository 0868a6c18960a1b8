"""Study subcommands of the command line: optimize, worker, validate, status, export, dashboard."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.cli.argtypes import n_jobs, positive_int
from optuna_clank.core.errors import UserError
from optuna_clank.spec.names import BACKENDS, PRUNERS, SAMPLERS, choices_help

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec.study_spec import StudySpec

_LOG = logging.getLogger("optuna_clank")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the study subcommands on the main parser."""
    _add_optimize(commands, "optimize")
    _add_optimize(commands, "worker")
    _add_validate(commands)
    _add_status(commands)
    _add_export(commands)
    _add_dashboard(commands)


def _add_study_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--study",
        metavar="NAME",
        help="study spec studies/NAME.toml (current folder first, then the specs shipped with optuna-clank)",
    )
    which.add_argument("--spec", type=Path, metavar="FILE", help="a study spec TOML file anywhere")
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="SQLAlchemy URL of the study storage (default: the spec's, else sqlite:///storage/<study>.db); "
        "postgresql://user@host/db uses psycopg 3",
    )


def _add_optimize(commands: argparse._SubParsersAction, name: str) -> None:
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
    _add_study_arguments(parser)
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
        "--dashboard-port", type=int, default=8080, help="with --dashboard: its port (default: 8080; 0: any free)"
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


def _add_validate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "validate",
        help="re-play the top trials and the base config on the same fresh games; is any better than the base?",
        description=(
            "Re-play the top K trials and the base config on the same games, which the study never used "
            "(common random numbers: game i is the same game for every config), and store each one's per-game "
            "results on the study. A trial is called better than the base only when the paired bootstrap "
            "interval of its mean per-game score difference lies above zero at the spec's [validation] alpha "
            "divided by K (Bonferroni for the K trials compared). 'status', 'export' and the checkpoints then "
            "report that trial with its difference, e.g. '+3.1 points [+1.2, +5.0] over the base on 1,000 "
            "games', or the base config itself when no trial beats it."
        ),
    )
    _add_study_arguments(parser)
    parser.add_argument("--top", type=positive_int, help="how many of the best trials, K (default: the spec's, 3)")
    parser.add_argument("--games", type=positive_int, help="games per config (default: the spec's, 1000)")
    parser.add_argument("--seed", type=int, help="seed of the fresh games (default: derived, never the study's)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument(
        "--processes",
        type=n_jobs,
        default="auto",
        metavar="N|auto",
        help="processes sharing each config's games, one torch thread each; auto (the default): one per usable "
        "CPU core where the games are many, on the CPU, and no snake server plays; the records are the same",
    )
    parser.add_argument(
        "--no-base",
        action="store_true",
        help="reuse the base config's stored results on the same games instead of re-playing it",
    )
    parser.add_argument(
        "--snake",
        metavar="SPEC|NAME",
        help="re-play on another snake than the study tuned: a snake file FILE.toml (a [snake] section, e.g. the "
        "one 'init' writes for the real bot, started per config; a study spec's [snake] works too) or a built-in "
        "name (default: the study's [snake]). Each config is the trial's parameters on the file's base_config, "
        "else on the study's base config; the file's [search_space], if any, is not used",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_run_validate)


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
    _add_study_arguments(parser)
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
    _add_study_arguments(parser)
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
    _add_study_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine)")
    parser.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0: any free port)")
    parser.add_argument(
        "--artifact-dir", type=Path, help="folder of the trials' artifacts (default: storage/<study>/artifacts)"
    )
    parser.set_defaults(handler=_run_dashboard)


# --------------------------------------------------------------------------- handlers


def _spec_file(args: argparse.Namespace) -> StudySpec:
    """The spec as its file says: ``--spec FILE``, or ``--study NAME`` found in studies/."""
    from optuna_clank.spec.study_spec import find_spec, load_spec

    return load_spec(args.spec if args.spec else find_spec(args.study))


def _spec_from(args: argparse.Namespace) -> StudySpec:
    """The spec with ``--storage``, for the commands that read a study."""
    spec = _spec_file(args)
    return spec.with_overrides(storage_url=args.storage) if args.storage else spec


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The spec keys this command's options override: every option whose name is one of
    :data:`optuna_clank.spec.study_spec.OVERRIDES` (``--storage`` is applied on its own)."""
    from optuna_clank.spec.study_spec import OVERRIDES

    names = [name for name in OVERRIDES if name != "storage_url"]
    chosen: dict[str, Any] = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if "llm_models" in chosen:
        chosen["llm_models"] = list(chosen["llm_models"])
        chosen.setdefault("use_llm", True)
    return chosen


def _open(spec: StudySpec) -> tuple[optuna.Study, str, StudySpec]:
    """The spec's existing study, its storage URL, and the spec with the base config the study started
    from (``optimize --base-config``), so that every command compares with and writes onto that base."""
    from sqlalchemy.engine import make_url

    from optuna_clank.study.opening import open_study, spec_as_started, storage_url_of

    url = storage_url_of(spec)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise UserError(f"no study {spec.name!r} yet: {parsed.database} does not exist (run optimize first)")
    study = open_study(spec, storage_url=url, create=False)
    return study, url, spec_as_started(spec, study)


def _run_optimize(args: argparse.Namespace) -> int:
    from optuna_clank.cli import output as _format
    from optuna_clank.run.runner import RunEnding, run_study
    from optuna_clank.study.storage import describe_storage

    overrides = _overrides(args)
    if args.storage:
        overrides["storage_url"] = args.storage
    spec = _spec_file(args)
    wanted = spec.with_overrides(**overrides)  # a bad override ends here, before anything is opened
    headless = args.command == "worker"
    _configure_logging(verbose=args.verbose)
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
        say=_say,
    )
    if run.ended == RunEnding.ALREADY_DONE:
        print(
            f"study {spec.name} ({describe_storage(run.storage_url)}) already has {run.before.finished} finished "
            f"trials (target {run.spec.study.n_trials}); raise --n-trials to run more"
        )
        return 0
    for line in _format.run_lines(run):
        print(line, file=sys.stderr)
    _print_best(run.study)
    short = run.why_short()
    if short is not None:  # the target is unmet and nobody asked for that: say why, and fail
        print(f"error: {short}", file=sys.stderr)
        return 1
    return 130 if run.ended == RunEnding.ABORTED else 0


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _check_port(port: int, option: str) -> None:
    if not 0 <= port <= 65535:
        raise UserError(f"{option} must be a port number 0..65535, got {port}")


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


def _print_best(study: optuna.Study) -> None:
    from optuna_clank.study.results import best_trial

    best = best_trial(study)
    if best is not None:
        print(f"best: {best.describe()}", file=sys.stderr)


def _run_validate(args: argparse.Namespace) -> int:
    from optuna_clank.cli import output as _format
    from optuna_clank.core.devices import check_device
    from optuna_clank.core.threads import configure_torch_threads
    from optuna_clank.study.validate import stored_base_record, validate_study

    configure_torch_threads()
    spec = _spec_from(args)
    study, _, spec = _open(spec)
    device = check_device(args.device)
    top = args.top or spec.validation.top
    games = args.games or spec.validation.games
    from optuna_clank.study.validate import trials_to_validate
    from optuna_clank.trial.base_config import base_values
    from optuna_clank.trial.base_trial import is_base_params

    base = base_values(spec)
    candidates = len(trials_to_validate(study, top, base=base))
    the_base = [t.number for t in trials_to_validate(study, top) if is_base_params(t.params, base)]
    if candidates == 0:
        if the_base:
            raise UserError(
                f"study {spec.name!r} has no completed trial to validate but the base config's (trial "
                f"{the_base[0]}): nothing to compare with the base yet"
            )
        raise UserError(f"study {spec.name!r} has no completed trial to validate")
    snake, snake_base, values_line = _validation_snake(args.snake, spec)
    if args.no_base:  # refuses before any game is played
        stored_base_record(study, spec, games=games, seed=args.seed, snake=snake)
    from optuna_clank.core.progress import progress_bar
    from optuna_clank.trial.tournament import is_tournament

    per_config = games * (len(spec.benchmark.opponents) if is_tournament(spec.benchmark) else 1)
    total = per_config * (candidates + (0 if args.no_base else 1))
    with progress_bar(total=total, unit="game", label="validate", enabled=not args.json) as bar:
        records = validate_study(
            study,
            spec,
            top=top,
            games=games,
            seed=args.seed,
            device=str(device),
            include_base=not args.no_base,
            on_game_end=lambda _outcome: bar.update(1),
            snake=snake,
            snake_base=snake_base,
            processes=args.processes,
        )
    from optuna_clank.study.note import write_study_note
    from optuna_clank.study.results import best_trial
    from optuna_clank.study.verdict import REFUSED_KEY, RESULTS_KEY

    best = best_trial(study)
    verdict = best.verdict if best else None
    paired = {f"trial {c.trial}": c.as_json() for c in verdict.comparisons} if verdict else {}
    write_study_note(study, spec)  # the dashboard's study note shows the comparison with the base from now on
    refused = {label: r[REFUSED_KEY] for label, r in records.items() if r.get(REFUSED_KEY)}
    if args.json:
        shown = {label: {k: v for k, v in r.items() if k != RESULTS_KEY} for label, r in records.items()}
        for label, comparison in paired.items():
            shown[label]["paired"] = comparison
        print(json.dumps({"records": shown, "best_kind": best.kind if best else None, "base_trials": the_base}))
        return 1 if refused else 0
    seed = next(iter(records.values()))["seed"]
    print(f"validation of study {spec.name} on {games:,} fresh games (seed {seed}), the same games for every config:")
    if snake != spec.snake:
        print(f"  played by {snake.describe()}; the study was tuned on {spec.snake.describe()}")
    if values_line:
        print(values_line)
    for number in the_base:
        print(f"  trial {number} has the base config's parameters: it is the base config, not re-played as a trial")
    for label, record in records.items():
        low, high = record["ci"]
        print(
            f"  {label:<12} win rate {100 * record['win_rate']:5.1f}%  95% CI [{100 * low:.1f}%, {100 * high:.1f}%]"
            f"  score {record['score']:.3f}  draws {record['draws']}"
        )
        for line in _format.opponent_lines(record, indent="      "):
            print(line)
        for line in _format.record_fault_lines(record, indent="      "):
            print(line)
    _print_objectives(records, spec)
    if verdict:
        for compared in verdict.comparisons:
            mark = "better" if compared.better else "not shown better"
            print(f"  trial {compared.trial}: {compared.describe()}: {mark}")
    _print_best(study)
    for label, reason in refused.items():  # last, where it is seen: why, and what to do
        print(f"error: {label}: refused for the verdict: {reason}", file=sys.stderr)
    return 1 if refused else 0


def _validation_snake(text: str | None, spec: StudySpec) -> tuple[Any, Any, str]:
    """The snake ``validate --snake`` names, the base config its values are written into, and a line saying so.

    A ``.toml`` file (a snake file, or a study spec) gives its ``[snake]`` only: the configs played are the
    validated trials' parameters on its base config, or on the study's when it names none; its own search
    space never changes them.
    """
    from optuna_clank.arena.bot_spec import TUNABLE_BUILTINS, SnakeSpec
    from optuna_clank.trial.base_config import snake_base_of

    if text is None:
        return spec.snake, snake_base_of(spec), ""
    if text.endswith(".toml"):
        from optuna_clank.trial.snake_file import load_snake_file

        other = load_snake_file(Path(text))
        unused = f"; {Path(text).name}'s [search_space] is not used" if other.search_space else ""
        if other.has_base_config:
            own = other.snake.base_config or (other.spec.benchmark.base_config if other.spec else None)
            return other.snake, other.base, f"  each config: the trial's parameters set on {own}{unused}"
        where = f"the study's base config ({_study_base_text(spec)})"
        return other.snake, snake_base_of(spec), f"  each config: the trial's parameters set on {where}{unused}"
    if text == spec.snake.builtin:
        return spec.snake, snake_base_of(spec), ""
    if text == "gbc":  # a go-battleclank server's own YAML, read as the bot reads it; else the bot's defaults
        from optuna_clank.arena.bot_spec import gbc_base_config

        base = spec.snake.base_config if spec.snake.is_server else None
        return SnakeSpec(builtin=text, base_config=base), gbc_base_config(base), ""
    if text in TUNABLE_BUILTINS:
        from optuna_clank.arena.config import default_config

        return SnakeSpec(builtin=text), default_config() if spec.snake.reads_own_yaml else snake_base_of(spec), ""
    raise UserError(
        f"--snake {text!r}: name a snake file FILE.toml whose [snake] starts the server with each config, "
        f"or a built-in snake ({', '.join(TUNABLE_BUILTINS)}); a running server cannot take the trials' configs"
    )


def _study_base_text(spec: StudySpec) -> str:
    if spec.snake.reads_own_yaml:
        return str(spec.snake.base_config) if spec.snake.base_config else "the bot's defaults"
    return str(spec.benchmark.base_config) if spec.benchmark.base_config else "the built-in default config"


def _run_status(args: argparse.Namespace) -> int:
    from optuna_clank.cli import output as _format
    from optuna_clank.study.results import status
    from optuna_clank.study.storage import describe_storage

    spec = _spec_from(args)
    study, url, spec = _open(spec)
    report = status(study, last=args.last)
    if args.json:
        print(json.dumps(report.to_json()))
        return 0
    print(_format.status_text(report, spec, storage=describe_storage(url)))
    return 0


def _print_objectives(records: dict[str, dict[str, Any]], spec: StudySpec) -> None:
    """Multi-objective: each objective of each re-played front trial next to the base's; no winner crowned."""
    objectives = spec.study.objectives
    base = records.get("base config", {}).get("objectives")
    if len(objectives) == 1 or not base:
        return
    signs = [1.0 if d == "maximize" else -1.0 for d in spec.study.directions]
    print("  objectives on these games (each front trial's difference from the base config):")
    for label, record in records.items():
        values = record.get("objectives") or {}
        if label == "base config" or set(values) != set(objectives):
            continue
        gains = [sign * (values[name] - base[name]) for sign, name in zip(signs, objectives, strict=True)]
        kind = "dominates the base" if min(gains) >= 0 and max(gains) > 0 else "trade-off or no better"
        shown = ", ".join(f"{name} {values[name]:.3f} ({values[name] - base[name]:+.3f})" for name in objectives)
        print(f"    {label:<12} {shown}: {kind}")
    print(
        "  multi-objective: no single winner is crowned; 'dominates' compares point estimates on every objective "
        "(no interval). The paired verdict below compares the mean game score only."
    )


def _run_export(args: argparse.Namespace) -> int:
    from optuna_clank.arena.config import dump_config
    from optuna_clank.study.results import best_config, best_trial, export_best
    from optuna_clank.study.storage import describe_storage

    spec = _spec_from(args)
    study, url, spec = _open(spec)
    if args.pick is not None:
        return _export_pick(args, spec, study, url)
    if len(spec.study.objectives) > 1:
        print(
            f"note: a multi-objective study has no single best; this exports the best by its paired verdict "
            f"(mean game score) or, before validate, by {spec.study.objectives[0]}; "
            "choose from the Pareto front with --pick",
            file=sys.stderr,
        )
    if spec.snake.reads_own_yaml:
        from optuna_clank.study.export import export_server_config

        text, best = export_server_config(spec, study, args.output, base=args.base)
        if args.output is None:
            print(text, end="")
        else:
            print(f"wrote {args.output}: {best.describe()}", file=sys.stderr)
        return 0
    if args.output is None:
        best = best_trial(study)
        if best is None:
            raise UserError(f"study {spec.name!r} has no completed trial yet: nothing to export")
        print(f"# {best.describe()}", file=sys.stderr)
        print(dump_config(best_config(study, best, base=args.base)), end="")
        return 0
    path, best = export_best(study, args.output, base=args.base, storage=describe_storage(url))
    print(f"wrote {path}: {best.describe()}", file=sys.stderr)
    return 0


def _export_pick(args: argparse.Namespace, spec: StudySpec, study: optuna.Study, url: str) -> int:
    """``export --pick``: the trial the user chose (by number or from the Pareto front)."""
    from optuna_clank.arena.config import dump_config
    from optuna_clank.core.pareto import describe_values, parse_pick, pick_trial
    from optuna_clank.study.results import base_for_export, trial_config, write_config
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
    print(f"wrote {write_config(config, args.output, header=header)}: {what}", file=sys.stderr)
    return 0


def _run_dashboard(args: argparse.Namespace) -> int:
    from optuna_clank.study.dashboard import serve
    from optuna_clank.study.storage import describe_storage
    from optuna_clank.trial.story import artifact_dir

    _check_port(args.port, "--port")
    spec = _spec_from(args)
    _, url, _ = _open(spec)  # a missing study or an unreachable storage ends here, as one line
    artifacts = args.artifact_dir.absolute() if args.artifact_dir else artifact_dir(spec.name)
    serve(url, artifacts=artifacts, host=args.host, port=args.port, title=f"{spec.name} on {describe_storage(url)}")
    return 0


def _configure_logging(*, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
