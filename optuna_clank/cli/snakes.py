"""Subcommands that face the Battlesnake HTTP API: ``serve`` and ``moves``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from optuna_clank.cli.argtypes import port, positive_int
from optuna_clank.core.errors import UserError

NO_ANSWER = "-"
"""What ``moves`` prints for a line it cannot answer."""


def add_commands(commands: argparse._SubParsersAction) -> None:
    _add_serve(commands)
    _add_moves(commands)


def _add_serve(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve a built-in snake (any config) over the Battlesnake API",
        description=(
            "Serve a built-in snake as a Battlesnake server (API version 1: GET /, POST /start, "
            "/move, /end), e.g. to deploy a tuned config or to play it with the official CLI. "
            "Concurrent /move requests are answered in batches. Malformed requests get HTTP 400 "
            "with the reason. Prints the URL once listening; SIGINT or SIGTERM stops it. Runs on uvloop's "
            "event loop where uvloop is installed (it is a dependency except on Windows), else on asyncio's; "
            "the startup line says which."
        ),
    )
    serve.add_argument(
        "--snake",
        metavar="NAME",
        help="heuristic, baseline (go-battleclank's Rust benchmark snake), random-safe, greedy-food or a config YAML "
        "(default: heuristic)",
    )
    serve.add_argument("--config", type=Path, help="config YAML for the heuristic snake (e.g. an exported best)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=port, default=8000, help="port; 0 picks a free one (default: 8000)")
    serve.add_argument("--device", default="cpu", help="torch device the snake computes on (default: cpu)")
    serve.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="torch CPU threads (default: 1; a turn's batch is small, and more threads only contend for cores)",
    )
    serve.set_defaults(handler=_run_serve)


def _add_moves(commands: argparse._SubParsersAction) -> None:
    moves = commands.add_parser(
        "moves",
        help="print a snake's move for each Battlesnake /move request read from stdin",
        description=(
            "Read Battlesnake /move request bodies from stdin, one JSON object a line, and print "
            "the snake's move for each (up, down, left or right), one a line, in order. Built-in "
            "snakes answer all requests in batched calls; a server (URL) is asked concurrently. "
            f"Blank lines are skipped. A line that is not a valid request prints '{NO_ANSWER}' and "
            "'error: line N: <reason>' on stderr; so does a request the server answered late, "
            "wrongly or not at all. Exit status: 0 all answered, 2 some line was not a valid "
            "request, 1 otherwise some request got no valid answer from the server."
        ),
    )
    moves.add_argument(
        "--snake",
        required=True,
        metavar="NAME_OR_URL",
        help="heuristic, gbc, baseline (go-battleclank's Rust benchmark snake), random-safe, greedy-food, "
        "a config YAML, a server URL (http://HOST:PORT or url:http://...), or a snake file FILE.toml whose server "
        "is started once (with --config, else its base_config)",
    )
    moves.add_argument(
        "--config", type=Path, help="config YAML for the heuristic or gbc snake, or a snake file's server"
    )
    moves.add_argument(
        "--timeout-ms", type=positive_int, default=500, help="server answer deadline per request (default: 500)"
    )
    moves.add_argument(
        "--concurrency",
        type=positive_int,
        default=64,
        help="most server requests in flight at once; fewer while the server answers slowly (default: 64)",
    )
    moves.add_argument("--device", default="cpu", help="torch device for a built-in snake (default: cpu)")
    moves.set_defaults(handler=_run_moves)


def _run_serve(args: argparse.Namespace) -> int:
    from optuna_clank.arena.http.client import EVENT_LOOP, new_event_loop
    from optuna_clank.arena.move_oracle import is_server, resolve_snake
    from optuna_clank.core.devices import check_device
    from optuna_clank.serve.snake_http import serve

    if args.snake is not None and is_server(args.snake):
        raise UserError("serve needs a built-in snake or a config, not a URL")
    import torch

    player = resolve_snake(args.snake, args.config)
    device = check_device(args.device)
    torch.set_num_threads(args.threads)

    def ready(url: str) -> None:
        print(f"serving {player.name} at {url}  ({EVENT_LOOP} event loop; Ctrl-C stops)", flush=True)

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(serve(player, host=args.host, port=args.port, device=device, on_ready=ready))
    print("stopped", file=sys.stderr)
    return 0


def _run_moves(args: argparse.Namespace) -> int:
    from optuna_clank.arena.http.api import RequestError, check_request
    from optuna_clank.arena.move_oracle import answer_moves, is_server, resolve_snake
    from optuna_clank.core.devices import check_device

    target = None
    if args.snake.endswith(".toml"):  # a snake file: its server is started (with --config, or its base_config)
        from optuna_clank.inspect.snake_target import resolve_target

        target = resolve_target(args.snake, args.config, timeout_ms=args.timeout_ms)
    snake: Any = args.snake if is_server(args.snake) or target else resolve_snake(args.snake, args.config)
    if is_server(args.snake) and args.config is not None:
        raise UserError("--config applies to built-in snakes and snake files; a running server reads its own config")
    device = check_device(args.device)
    line_numbers: list[int] = []
    requests: list[Any] = []
    errors: dict[int, str] = {}
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        line_numbers.append(number)
        try:
            request = json.loads(line)
            check_request(request)
        except (ValueError, RequestError) as exc:
            errors[number] = f"not JSON: {exc}" if not isinstance(exc, RequestError) else str(exc)
            request = None
        requests.append(request)
    valid = [i for i, number in enumerate(line_numbers) if number not in errors]
    if target is not None:
        answers = target.answer([requests[i] for i in valid])
    else:
        answers = answer_moves(
            snake,
            [requests[i] for i in valid],
            timeout_ms=args.timeout_ms,
            concurrency=args.concurrency,
            device=device,
        )
    moves: list[str | None] = [None] * len(line_numbers)
    for i, move in zip(valid, answers, strict=True):
        moves[i] = move
    unanswered = 0
    for number, move in zip(line_numbers, moves, strict=True):
        print(move or NO_ANSWER)
        if number in errors:
            print(f"error: line {number}: {errors[number]}", file=sys.stderr)
        elif move is None:
            unanswered += 1
            print(f"error: line {number}: the snake gave no valid answer", file=sys.stderr)
    sys.stdout.flush()
    if errors:
        return 2
    return 1 if unanswered else 0
