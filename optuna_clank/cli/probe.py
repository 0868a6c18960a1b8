"""``probe`` and ``fidelity``: what a snake's config keys do, and how far one snake stands in for another."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from optuna_clank.cli.argtypes import board_size, positive_int
from optuna_clank.core.errors import UserError

_SNAKE_HELP = (
    "a built-in snake (heuristic, gbc, baseline, ...; or a config YAML), a running server (http://HOST:PORT or "
    "url:http://...), or a snake file FILE.toml (a [snake] section, or a study spec's) whose server is started "
    "per config variant"
)


_DEFAULT_POSITIONS = 500


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``probe`` and ``fidelity`` on the main parser."""
    _add_probe(commands)
    _add_fidelity(commands)


def _add_positions_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--positions",
        type=positive_int,
        help=f"positions to replay (default: {_DEFAULT_POSITIONS} from built-in games, or all of --history)",
    )
    parser.add_argument(
        "--history",
        type=Path,
        metavar="FILE",
        help="replay these positions instead: /move request bodies (JSON lines or a JSON list) or a "
        "'play --history' file",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the recorded games (default: 1)")
    parser.add_argument("--board-size", type=board_size, default=(11, 11), metavar="N|WxH", help="default: 11")
    parser.add_argument(
        "--opponent",
        action="append",
        metavar="NAME",
        help="opponent of the built-in heuristic snake in the recorded games; repeat for several (default: baseline)",
    )
    parser.add_argument(
        "--timeout-ms",
        type=positive_int,
        default=500,
        help="move timeout of a running server, in ms (default: 500; a spec's [snake] sets its own)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _add_probe(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "probe",
        help="find the config keys that change a snake's moves (live) and the ones that do nothing (dead)",
        description=(
            "Replay recorded positions through a snake with each config key pushed to its low and its high "
            "bound, and report per key the share of moves that change: live or dead. Bounds come from the spec's "
            "[search_space] (--snake FILE.toml), else the built-in snake's ranges, else 0 and twice the base "
            "value (0 and 1 where the base is 0 or lacks the key). Prints a [search_space] block of the live "
            "keys to paste into a spec. A server snake is started once per variant (two per key)."
        ),
    )
    parser.add_argument("--snake", required=True, metavar="SNAKE", help=_SNAKE_HELP)
    parser.add_argument("--config", type=Path, metavar="FILE", help="the base config (default: the snake's own)")
    parser.add_argument(
        "--keys", nargs="+", metavar="KEY", help="dotted keys to probe (default: the spec's, else every numeric key)"
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        help="config variants of a server snake asked at once (default: 1); a built-in snake scores all "
        "variants together on every usable CPU core",
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the [search_space] block here")
    _add_positions_arguments(parser)
    parser.set_defaults(handler=_run_probe)


def _add_fidelity(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "fidelity",
        help="how often two snakes choose the same move on the same positions",
        description=(
            "Ask two snakes for their move on the same recorded positions and report how often they agree: "
            "overall, by game phase (early < turn 50 <= mid < turn 150 <= late) and on positions with a real "
            "choice (more than one safe move), each with a Wilson 95% interval. Tells how far a fast stand-in "
            "can be trusted for the real bot."
        ),
    )
    parser.add_argument("--snake", required=True, metavar="A", help=_SNAKE_HELP)
    parser.add_argument("--against", required=True, metavar="B", help="the other snake, named the same ways")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config of snake A")
    parser.add_argument("--against-config", type=Path, metavar="FILE", help="config of snake B")
    _add_positions_arguments(parser)
    parser.set_defaults(handler=_run_fidelity)


def _positions(args: argparse.Namespace) -> list[dict[str, Any]]:
    from optuna_clank.inspect.positions import load_positions, recorded_positions

    if args.history is not None:
        requests = load_positions(args.history)
        return requests[: args.positions] if args.positions else requests
    from optuna_clank.arena.opponents import check_opponent

    opponents = args.opponent or ["baseline"]
    for name in opponents:
        check_opponent(name)
    count = args.positions or _DEFAULT_POSITIONS
    return recorded_positions(count, seed=args.seed, board_size=args.board_size, opponents=opponents)


def _fixed_snake_error(label: str) -> UserError:
    return UserError(
        f"{label}: probe needs a snake whose config it can change: the built-in heuristic or gbc snake, "
        "or a snake file (FILE.toml) whose [snake] starts a server with {config}"
    )


def _run_probe(args: argparse.Namespace) -> int:
    from optuna_clank.inspect.snake_target import cannot_vary, resolve_target

    if cannot_vary(args.snake, args.config):  # said before a snake (and torch) loads
        raise _fixed_snake_error(args.snake)
    target = resolve_target(args.snake, args.config, timeout_ms=args.timeout_ms)  # a bad name fails before torch
    from optuna_clank.core.threads import configure_torch_threads
    from optuna_clank.inspect.probe import probe, probe_keys_of, search_space_toml

    configure_torch_threads()  # one per process: see optuna_clank.core.threads; the cores get a process each

    if not target.can_vary:
        raise _fixed_snake_error(target.label)
    keys = probe_keys_of(target, args.keys)
    if not keys:
        raise UserError(f"{target.label}: no numeric config key to probe (name some with --keys)")
    requests = _positions(args)
    from optuna_clank.core.progress import progress_bar

    with progress_bar(total=1 + 2 * len(keys), unit="variant", label="probe", enabled=not args.json) as bar:
        results, base_moves = probe(target, keys, requests, jobs=args.jobs, on_variant=lambda: bar.update(1))
    block = search_space_toml(results, any_key=target.free_keys)
    unanswered = sum(move is None for move in base_moves)
    if args.output is not None:
        _write(args.output, block)
    if args.json:
        report = {
            "snake": target.label,
            "positions": len(requests),
            "unanswered": unanswered,
            "keys": [r.as_dict() for r in results],
            "live": [r.key.name for r in results if r.live],
            "dead": [r.key.name for r in results if not r.live],
            "search_space": block,
        }
        print(json.dumps(report))
        return 0
    _print_probe(target.label, results, len(requests), unanswered)
    if any(not r.live for r in results):
        print(f"  DEAD: no move changed at either bound on these {len(requests)} positions (rare effects need more)")
    if args.output is not None:
        print(f"wrote the [search_space] of the live keys to {args.output}")
    else:
        print()
        print(block, end="")
    return 0


def _print_probe(label: str, results: list[Any], n_positions: int, unanswered: int) -> None:
    live = sum(r.live for r in results)
    dead = len(results) - live
    print(f"probe of {label} on {n_positions} positions: {live} live, {dead} dead of {len(results)} keys")
    if unanswered:
        print(f"  ({unanswered} positions the base config left unanswered are not counted)")
    width = max(len(r.key.name) for r in results)
    print(f"  {'key':<{width}}  {'low':>9} {'high':>9}  {'changed@low':>11} {'changed@high':>12}  verdict  bounds")
    for r in results:
        print(
            f"  {r.key.name:<{width}}  {r.key.low:>9g} {r.key.high:>9g}  {100 * r.share_low:>10.1f}% "
            f"{100 * r.share_high:>11.1f}%  {'live' if r.live else 'DEAD':<7}  {r.key.source}"
        )


def _run_fidelity(args: argparse.Namespace) -> int:
    from optuna_clank.inspect.snake_target import check_target_name, resolve_target

    check_target_name(args.snake, args.config)  # a bad name fails before torch loads
    check_target_name(args.against, args.against_config)
    first = resolve_target(args.snake, args.config, timeout_ms=args.timeout_ms)
    second = resolve_target(args.against, args.against_config, timeout_ms=args.timeout_ms)
    from optuna_clank.core.threads import configure_torch_threads
    from optuna_clank.inspect.probe import agreement

    configure_torch_threads()  # one per process: see optuna_clank.core.threads; the cores get a process each

    requests = _positions(args)
    moves_a = first.answer(requests)
    moves_b = second.answer(requests)
    rows, unanswered = agreement(moves_a, moves_b, requests)
    if args.json:
        report = {
            "snake": first.label,
            "against": second.label,
            "positions": len(requests),
            "unanswered": unanswered,
            "agreement": {row.label: row.as_dict() for row in rows},
        }
        print(json.dumps(report))
        return 0
    print(f"move agreement of {first.label} and {second.label} on {len(requests)} positions:")
    for row in rows:
        if not row.total:
            print(f"  {row.label:<12}     -  (no position)")
            continue
        low, high = row.interval
        print(
            f"  {row.label:<12} {100 * row.share:5.1f}%  95% CI [{100 * low:.1f}%, {100 * high:.1f}%]  "
            f"({row.agree}/{row.total})"
        )
    if unanswered:
        print(f"  {unanswered} position(s) not counted: one of the snakes gave no valid answer in time")
    return 0


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from exc
