"""``validate``: re-play the top trials and the base config on the same fresh games, and judge them."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.cli.argtypes import n_jobs, positive_int
from optuna_clank.cli.optimize import print_best
from optuna_clank.cli.study_args import add_study_arguments, open_for_command, spec_from
from optuna_clank.core.errors import UserError

if TYPE_CHECKING:
    from optuna_clank.spec import StudySpec


def add_validate(commands: argparse._SubParsersAction) -> None:
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
    add_study_arguments(parser)
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


def _run_validate(args: argparse.Namespace) -> int:
    from optuna_clank.cli import output
    from optuna_clank.core.devices import check_device
    from optuna_clank.core.threads import configure_torch_threads
    from optuna_clank.study.validate import stored_base_record, validate_study

    configure_torch_threads()
    spec = spec_from(args)
    study, _, spec = open_for_command(spec)
    device = check_device(args.device)
    top = args.top or spec.validation.top
    games = args.games or spec.validation.games
    from optuna_clank.study.validate import trials_to_validate
    from optuna_clank.trial.param_diff import is_base_params
    from optuna_clank.trial.snake_kind import base_values

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
        for line in output.opponent_lines(record, indent="      "):
            print(line)
        for line in output.record_fault_lines(record, indent="      "):
            print(line)
    _print_objectives(records, spec)
    if verdict:
        for compared in verdict.comparisons:
            mark = "better" if compared.better else "not shown better"
            print(f"  trial {compared.trial}: {compared.describe()}: {mark}")
    print_best(study)
    for label, reason in refused.items():  # last, where it is seen: why, and what to do
        print(f"error: {label}: refused for the verdict: {reason}", file=sys.stderr)
    return 1 if refused else 0


def _validation_snake(text: str | None, spec: StudySpec) -> tuple[Any, Any, str]:
    """The snake ``validate --snake`` names, the base config its values are written into, and a line saying so.

    A ``.toml`` file (a snake file, or a study spec) gives its ``[snake]`` only: the configs played are the
    validated trials' parameters on its base config, or on the study's when it names none; its own search
    space never changes them.
    """
    from optuna_clank.arena.served.bot_spec import TUNABLE_BUILTINS, SnakeSpec
    from optuna_clank.trial.snake_kind import kind_of

    if text is None:
        return spec.snake, kind_of(spec).base_config(), ""
    if text.endswith(".toml"):
        from optuna_clank.trial.snake_file import load_snake_file

        other = load_snake_file(Path(text))
        unused = f"; {Path(text).name}'s [search_space] is not used" if other.search_space else ""
        if other.has_base_config:
            own = other.snake.base_config or (other.spec.benchmark.base_config if other.spec else None)
            return other.snake, other.base, f"  each config: the trial's parameters set on {own}{unused}"
        where = f"the study's base config ({_study_base_text(spec)})"
        return other.snake, kind_of(spec).base_config(), f"  each config: the trial's parameters set on {where}{unused}"
    if text == spec.snake.builtin:
        return spec.snake, kind_of(spec).base_config(), ""
    if text == "gbc":  # a go-battleclank server's own YAML, read as the bot reads it; else the bot's defaults
        from optuna_clank.arena.served.bot_spec import gbc_base_config

        base = spec.snake.base_config if spec.snake.is_server else None
        return SnakeSpec(builtin=text, base_config=base), gbc_base_config(base), ""
    if text in TUNABLE_BUILTINS:
        from optuna_clank.arena.config import default_config

        return (
            SnakeSpec(builtin=text),
            default_config() if spec.snake.reads_own_yaml else kind_of(spec).base_config(),
            "",
        )
    raise UserError(
        f"--snake {text!r}: name a snake file FILE.toml whose [snake] starts the server with each config, "
        f"or a built-in snake ({', '.join(TUNABLE_BUILTINS)}); a running server cannot take the trials' configs"
    )


def _study_base_text(spec: StudySpec) -> str:
    if spec.snake.reads_own_yaml:
        return str(spec.snake.base_config) if spec.snake.base_config else "the bot's defaults"
    return str(spec.benchmark.base_config) if spec.benchmark.base_config else "the built-in default config"


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
