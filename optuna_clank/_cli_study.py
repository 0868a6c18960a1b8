"""Study subcommands of the command line: optimize, worker, validate, status, export, dashboard."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank._argtypes import n_jobs, positive_int
from optuna_clank.errors import UserError

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import StudySpec

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
            "earlier trial. Ctrl-C once finishes the running trials and stops; twice stops them now (they are "
            "marked failed and retried next time). Trials left running by a crashed run are failed by "
            "heartbeat and retried."
        )
    else:
        summary = "join a running study from this machine with its own slots (needs a shared storage)"
        description = (
            "Add this machine's slots to a study that other machines are running: same spec, shared storage "
            "(PostgreSQL). Stops when the study holds N finished trials, like optimize; prints log lines "
            "instead of a progress bar and writes no checkpoints."
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
    parser.add_argument("--games", type=positive_int, dest="games_per_trial", help="games per trial")
    parser.add_argument("--seed", type=int, help="benchmark seed: which games every trial plays")
    if name == "optimize":  # a worker writes no checkpoints
        parser.add_argument(
            "--checkpoint-interval",
            type=int,
            metavar="K",
            help="every K finished trials, export the best config to storage/<study>/best.yaml (0: off)",
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
        "--sampler", dest="sampler_name", choices=("clank", "tpe", "random", "cmaes", "gp"), help="sampler"
    )
    parser.add_argument("--pruner", dest="pruner_name", choices=("wilcoxon", "median", "none"), help="pruner")
    parser.add_argument("--backend", choices=("loky", "threading", "dask"), help="joblib backend of the pool")
    parser.add_argument("--dask-scheduler", metavar="ADDRESS", help="Dask scheduler address, with --backend dask")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar" if name == "optimize" else "no progress log lines (errors still show)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every trial")
    parser.set_defaults(handler=_run_optimize, command=name)


def _add_validate(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "validate",
        help="re-play the top trials on fresh games and store their validated win rates",
        description=(
            "Re-play the top trials (and the base config, for reference) on games the study never used, and "
            "store each one's validated win rate and 95% interval on the study. From then on 'status' and "
            "'export' report the best validated trial."
        ),
    )
    _add_study_arguments(parser)
    parser.add_argument("--top", type=positive_int, help="how many of the best trials (default: the spec's, 3)")
    parser.add_argument("--games", type=positive_int, help="games per trial (default: the spec's, 1000)")
    parser.add_argument("--seed", type=int, help="seed of the fresh games (default: derived, never the study's)")
    parser.add_argument("--device", default="cpu", help="torch device (default: cpu)")
    parser.add_argument("--no-base", action="store_true", help="do not re-play the base config")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_run_validate)


def _add_status(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "status",
        help="trials by state, best (validated and raw) with intervals, trials/hour, last trials",
        description="Show where a study stands.",
    )
    _add_study_arguments(parser)
    parser.add_argument("--last", type=positive_int, default=10, help="how many recent trials to list")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=_run_status)


def _add_export(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export",
        help="write the best config (validated first) as go-battleclank YAML",
        description=(
            "Write the study's best config in the go-battleclank YAML shape: every key of the base config, with "
            "the tuned values merged in. The best validated trial wins when any were validated."
        ),
    )
    _add_study_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, help="file to write (default: print to stdout)")
    parser.add_argument("--base", type=Path, help="config to merge the tuned values onto (default: the spec's)")
    parser.set_defaults(handler=_run_export)


def _add_dashboard(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "dashboard",
        help="serve optuna-dashboard for the study's storage",
        description="Start optuna-dashboard on the study's storage and print its address (Ctrl-C stops it).",
    )
    _add_study_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    parser.set_defaults(handler=_run_dashboard)


# --------------------------------------------------------------------------- handlers


def _spec_from(args: argparse.Namespace, overrides: dict[str, Any] | None = None) -> StudySpec:
    from optuna_clank.spec import find_spec, load_spec

    path = args.spec if args.spec else find_spec(args.study)
    spec = load_spec(path)
    if args.storage:
        overrides = {**(overrides or {}), "storage_url": args.storage}
    return spec.with_overrides(**overrides) if overrides else spec


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = (
        "n_trials",
        "timeout",
        "n_jobs",
        "games_per_trial",
        "seed",
        "checkpoint_interval",
        "use_llm",
        "llm_models",
        "llm_api_base",
        "use_neural_net",
        "sampler_name",
        "pruner_name",
        "backend",
        "dask_scheduler",
    )
    chosen = {name: getattr(args, name, None) for name in names if getattr(args, name, None) is not None}
    if "llm_models" in chosen:
        chosen["llm_models"] = list(chosen["llm_models"])
        chosen.setdefault("use_llm", True)
    return chosen


def _open(spec: StudySpec, *, create: bool = False) -> tuple[optuna.Study, str]:
    """The spec's study; only ``optimize`` and ``worker`` may create it."""
    from sqlalchemy.engine import make_url

    from optuna_clank.runner import open_study, storage_url_of

    url = storage_url_of(spec)
    if not create:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
            raise UserError(f"no study {spec.name!r} yet: {parsed.database} does not exist (run optimize first)")
    return open_study(spec, storage_url=url, create=create), url


def _run_optimize(args: argparse.Namespace) -> int:
    from optuna_clank.control import RunControl
    from optuna_clank.pool import PoolPlan, run_pool
    from optuna_clank.runner import count_trials, start_from_base
    from optuna_clank.storage import describe_storage

    overrides = _overrides(args)
    spec = _spec_from(args, overrides)
    headless = args.command == "worker"
    _configure_logging(verbose=args.verbose)
    if not _llm_usable(spec):
        overrides["use_llm"] = False  # said once here rather than once per worker
        spec = spec.with_overrides(use_llm=False)
    study, url = _open(spec, create=True)
    if headless and url.startswith("sqlite"):
        _LOG.warning("a SQLite storage only works for workers on this machine; use PostgreSQL across machines")
    target = spec.study.n_trials
    if not headless:
        start_from_base(study, spec)
    before = count_trials(study)
    where = describe_storage(url)
    if before.finished >= target:
        print(
            f"study {spec.name} ({where}) already has {before.finished} finished trials (target {target}); "
            "raise --n-trials to run more"
        )
        return 0
    n_slots = _slots(spec.parallel.n_jobs)
    print(
        f"study {spec.name} on {where}: {before.finished} finished, target {target}, "
        f"{n_slots} slot(s), sampler {spec.sampler.name}, pruner {spec.pruner.name}, "
        f"{spec.benchmark.games_per_trial} games per trial vs {', '.join(_short(o) for o in spec.benchmark.opponents)}",
        file=sys.stderr,
    )
    if before.running:
        print(
            f"  {before.running} trial(s) marked running: if their workers are gone, the heartbeat fails them after "
            f"{spec.storage.grace_period} s and they are queued again",
            file=sys.stderr,
        )
    in_process = n_slots == 1 and spec.parallel.backend != "dask"
    workers = "the worker in this process" if in_process else f"{n_slots} worker process(es)"
    print(
        f"  starting {workers}: loading torch, the study and its sampler; a line follows when the first trial runs",
        file=sys.stderr,
    )
    control = RunControl()
    control.install_interrupt_handler()
    monitor = _Monitor(
        spec,
        url,
        target=target,
        start=before.finished,
        bar=not (args.quiet or headless),
        log_lines=headless and not args.quiet,
        checkpoints=not headless,
    )
    deadline = time.time() + spec.study.timeout if spec.study.timeout else None
    plan = PoolPlan(
        spec_path=str(Path(spec.path).absolute()),
        storage_url=url,
        target=target,
        n_slots=n_slots,
        control_dir=str(control.folder),
        overrides={k: v for k, v in overrides.items() if k != "storage_url"},
        deadline=deadline,
        backend=spec.parallel.backend,
        dask_scheduler=spec.parallel.dask_scheduler,
        log_level=logging.INFO if args.verbose else logging.WARNING,
        in_process=in_process,
    )
    started = time.time()
    report = run_pool(plan, on_poll=monitor.poll)
    monitor.poll()
    monitor.close()
    after = count_trials(study)
    hours = (time.time() - started) / 3600
    ran = after.finished - before.finished
    print(
        f"study {spec.name}: {after.finished} finished ({after.complete} complete, {after.pruned} pruned), "
        f"{after.failed} failed, {after.skipped} skipped, {after.running} running; this run: {ran} trial(s) "
        f"at {ran / hours if hours > 0 else 0:.0f}/hour",
        file=sys.stderr,
    )
    for slot in report.slots:
        if slot.errors or (slot.stopped and slot.stopped not in ("target reached", "stop requested", "timeout")):
            print(f"  slot {slot.slot} ({slot.device}): {slot.stopped}; {len(slot.errors)} error(s)", file=sys.stderr)
    _print_best(study)
    if control.abort_requested():
        return 130
    return 0


def _slots(n_jobs: int | str) -> int:
    """The number of slots; ``auto`` is resolved here and the choice is said once."""
    if n_jobs != "auto":
        return int(n_jobs)
    from optuna_clank.devices import auto_n_jobs

    count, why = auto_n_jobs()
    print(f"n_jobs auto: {count} slot(s), {why}", file=sys.stderr)
    return count


def _llm_usable(spec: StudySpec) -> bool:
    """False (with one warning) when the spec wants an LLM none of whose models can be used."""
    options = spec.sampler
    if options.name != "clank" or not options.use_llm or options.llm_api_base:
        return True
    from optuna_clank.sampler._llm import LLMAdvisor

    problems = LLMAdvisor(models=list(options.llm_models)).environment_problems()
    if len(problems) < len(options.llm_models):
        return True
    _LOG.warning("running without an LLM: %s (set the key, or pass --no-llm to silence this)", "; ".join(problems))
    return False


class _Monitor:
    """Progress bar (or log lines) and checkpoints, from a fresh read of the storage."""

    def __init__(
        self, spec: StudySpec, url: str, *, target: int, start: int, bar: bool, log_lines: bool, checkpoints: bool
    ) -> None:
        import optuna

        from optuna_clank.storage import open_storage

        self.spec = spec
        self.study = optuna.load_study(study_name=spec.name, storage=open_storage(url, heartbeat=None))
        self.target = target
        self.interval = spec.checkpoint.interval if checkpoints else 0
        self.last_checkpoint = start // self.interval if self.interval else 0
        self.last_logged = start
        self.log_lines = log_lines
        self.started_at = time.time()
        self.first_trial_seen = False
        self.checkpointed = ""  # the last checkpoint's line: an unchanged best is not announced again
        self.bar = None
        if bar:
            from tqdm import tqdm

            self.bar = tqdm(total=target, initial=start, unit="trial", file=sys.stderr, dynamic_ncols=True)

    def poll(self) -> None:
        from optuna_clank.results import best_trial
        from optuna_clank.runner import count_trials

        counts = count_trials(self.study)
        if not self.first_trial_seen and (counts.running or counts.finished > self.last_logged):
            self.first_trial_seen = True
            self.say(f"  workers ready: first trial running after {time.time() - self.started_at:.0f} s")
        best = best_trial(self.study)
        text = _best_short(best)
        if self.bar is not None:
            self.bar.update(max(0, counts.finished - self.bar.n))
            self.bar.set_postfix_str(f"running {counts.running}, best {text}", refresh=True)
        elif self.log_lines and counts.finished != self.last_logged:
            _LOG.warning("study %s: %d/%d finished, best %s", self.spec.name, counts.finished, self.target, text)
            self.last_logged = counts.finished
        if self.interval and counts.finished // self.interval > self.last_checkpoint and best is not None:
            self.last_checkpoint = counts.finished // self.interval
            if best.describe() != self.checkpointed:
                self.checkpointed = best.describe()
                self.checkpoint()

    def say(self, line: str) -> None:
        """One line on stderr that does not break the progress bar."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def checkpoint(self) -> None:
        from optuna_clank.results import export_best
        from optuna_clank.storage import DEFAULT_STORAGE_DIR

        path, best = export_best(self.study, Path(DEFAULT_STORAGE_DIR) / self.spec.name / "best.yaml")
        line = f"checkpoint: {best.describe()} -> {path}"
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        elif not self.log_lines:
            print(line, file=sys.stderr)
        else:
            _LOG.warning(line)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _best_short(best: Any) -> str:
    if best is None:
        return "-"
    if best.validated:
        low, high = best.validated["ci"]
        rate = 100 * best.validated["win_rate"]
        return f"#{best.trial.number} {rate:.0f}% [{100 * low:.0f}-{100 * high:.0f}] (validated)"
    ci = best.trial.user_attrs.get("win_rate_ci")
    interval = f" win [{100 * ci[0]:.0f}-{100 * ci[1]:.0f}%]" if ci else ""
    return f"#{best.trial.number} {best.trial.values[0]:.3f}{interval}"


def _short(opponent: str) -> str:
    return Path(opponent).name if "/" in opponent else opponent


def _print_best(study: optuna.Study) -> None:
    from optuna_clank.results import best_trial

    best = best_trial(study)
    if best is not None:
        print(f"best: {best.describe()}", file=sys.stderr)


def _run_validate(args: argparse.Namespace) -> int:
    from optuna_clank.devices import check_device
    from optuna_clank.threads import configure_torch_threads
    from optuna_clank.validate import validate_study

    configure_torch_threads()
    spec = _spec_from(args)
    study, _ = _open(spec)
    device = check_device(args.device)
    top = args.top or spec.validation.top
    games = args.games or spec.validation.games
    candidates = min(top, len([t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]))
    if candidates == 0:
        raise UserError(f"study {spec.name!r} has no completed trial to validate")
    from tqdm import tqdm

    total = games * (candidates + (0 if args.no_base else 1))
    with tqdm(total=total, unit="game", file=sys.stderr, disable=args.json, dynamic_ncols=True, leave=False) as bar:
        records = validate_study(
            study,
            spec,
            top=top,
            games=games,
            seed=args.seed,
            device=str(device),
            include_base=not args.no_base,
            on_game_end=lambda _outcome: bar.update(1),
        )
    if args.json:
        print(json.dumps(records))
        return 0
    seed = next(iter(records.values()))["seed"]
    print(f"validation of study {spec.name} on {games} fresh games (seed {seed}):")
    for label, record in records.items():
        low, high = record["ci"]
        print(
            f"  {label:<12} win rate {100 * record['win_rate']:5.1f}%  95% CI [{100 * low:.1f}%, {100 * high:.1f}%]"
            f"  score {record['score']:.3f}  draws {record['draws']}"
        )
    _print_best(study)
    return 0


def _run_status(args: argparse.Namespace) -> int:
    from optuna_clank.results import status

    spec = _spec_from(args)
    study, url = _open(spec)
    report = status(study, last=args.last)
    if args.json:
        print(json.dumps(report))
        return 0
    from optuna_clank.results import best_trial
    from optuna_clank.storage import describe_storage

    counts = report["trials"]
    print(f"study {spec.name} on {describe_storage(url)}")
    print(
        f"  trials      {counts['complete']} complete, {counts['pruned']} pruned, {counts['running']} running, "
        f"{counts['waiting']} waiting, {counts['failed']} failed"
        + (f", {counts['skipped']} skipped (surplus, not played)" if counts["skipped"] else "")
    )
    best = best_trial(study)
    print(f"  best        {best.describe() if best else '-'}")
    if best is not None and best.validated is None:
        print("              (run 'validate' to re-play the top trials on fresh games)")
    base = report["validated_base"]
    if base:
        low, high = base["ci"]
        print(
            f"  base config validated win rate {100 * base['win_rate']:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%] "
            f"over {base['games']} games"
        )
    raw = report["best_raw"]
    if raw and best and raw["number"] != best.trial.number:
        print(f"  best raw    trial {raw['number']}: value {raw['values'][0]:.3f} (study games only)")
    rate = report["trials_per_hour"]
    print(f"  speed       {rate:.1f} trials/hour" if rate else "  speed       -")
    if report["last_trials"]:
        print("  last trials:")
        for t in report["last_trials"]:
            value = f"{t['values'][0]:.3f}" if t["values"] else "-"
            games = t["games_played"] if t["games_played"] is not None else "-"
            print(
                f"    #{t['number']:<5} {t['state']:<9} value {value:>6}  games {games!s:>4}  "
                f"source {t['proposal_source'] or '-':<13} slot {t['slot'] if t['slot'] is not None else '-'}"
            )
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from optuna_clank.arena.config import dump_config
    from optuna_clank.results import base_for_export, best_trial, export_best, trial_config

    spec = _spec_from(args)
    study, _ = _open(spec)
    if args.output is None:
        best = best_trial(study)
        if best is None:
            raise UserError(f"study {spec.name!r} has no completed trial yet: nothing to export")
        print(dump_config(trial_config(best.trial, base_for_export(args.base, study))), end="")
        return 0
    path, best = export_best(study, args.output, base=args.base)
    print(f"wrote {path}: {best.describe()}", file=sys.stderr)
    return 0


def _run_dashboard(args: argparse.Namespace) -> int:
    from optuna_clank.dashboard import serve

    spec = _spec_from(args)
    _open(spec)
    from optuna_clank.runner import storage_url_of

    serve(storage_url_of(spec), host=args.host, port=args.port)
    return 0


def _configure_logging(*, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
