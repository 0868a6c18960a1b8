"""Remote play: games/s of a ``serve``d built-in snake vs ``baseline`` over loopback HTTP.

For each number of concurrent games (1, 8, 64 by default) the same games are played twice:
in-process (the snake called directly) and over HTTP (``python -m optuna_clank serve`` in its
own process, driven by :class:`~optuna_clank.arena.http.player.HttpSnake`). The wall time of the
HTTP run is split into

* ``snake``: the snake's own compute (``choose``), measured inside the server (``GET /stats``);
* ``arena``: the engine and the opponent, measured in-process: the wall time of an in-process
  run minus its snake time, where the snake analyses each board itself (``TurnView``), as a
  served snake must;
* ``http``: everything else — request bodies, JSON, HTTP both ways, validation, turning
  requests back into tensors, and waiting on the other process.

``http_share`` is ``http / wall``: the share of wall time that serving adds beyond what the
snake and the arena spend themselves (the target is at most 25% at 64 concurrent games).

Why the snake analyses the board itself for ``arena``: in plain in-process play the snake and
the opponent share one analysis of each board (free cells, space, food distances), so the
opponent's share of it is free there. A served snake analyses the board in its own process, and
the arena's opponent must do it again: that is the arena's own work (any external snake makes it
so), not HTTP's. ``in_process_games_per_s`` is plain in-process play, analysis shared, and
``vs_in_process`` the served games/s as a share of it: the plain comparison, with nothing split.
The same split in CPU seconds of both processes (``cpu_s``, ``http_cpu_share``) does not
count time spent waiting for a core, which dominates wall time on a busy machine.

With ``--bot PATH`` the snake is an external Battlesnake server command instead (started with
``PORT`` set, e.g. the go-battleclank binary with ``BATTLESNAKE_CONFIG`` in the environment).
Its own time can only be seen from outside: ``snake`` is then the CPU seconds of its process
(``/proc/PID/stat``: its move logic *and* its HTTP stack, so an upper bound), ``arena`` the wall
time outside the HTTP player's ``choose``, and ``http`` the rest of ``choose``'s wall time.
``vs_old_loop`` compares games/s with the old pipeline's 2.8 (Go snakes through the official CLI).

    python bench/remote.py                          # baseline served, 1/8/64 concurrent games
    python bench/remote.py --snake heuristic --concurrency 64 --games 64
    BATTLESNAKE_CONFIG=config.yaml python bench/remote.py --bot ./go-battleclank --concurrency 64
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch

from optuna_clank.arena.engine import FoodSettings
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.http.player import HttpSnake
from optuna_clank.arena.match import play_match
from optuna_clank.arena.move_oracle import resolve_snake
from optuna_clank.arena.players import Faults, Player, Seats

ROOT = Path(__file__).resolve().parents[1]
_T = TypeVar("_T")
OLD_LOOP_GAMES_PER_S = 2.8
"""The old pipeline: real (Go) snakes through the official CLI, one game at a time per process."""


class _Timed(Player):
    """A player whose ``choose`` time is added up.

    With ``own_view`` it analyses each board itself (a fresh :class:`TurnView`), as a snake in
    another process does, instead of sharing the arena's analysis.
    """

    def __init__(self, player: Player, *, own_view: bool = False) -> None:
        self.player = player
        self.name = player.name
        self.own_view = own_view
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        return self.choose_later(view, seats)()

    # a server's requests go out first and its answers are read last (the arena overlaps them with other work):
    # both halves count as the player's time, the overlapped work in between does not
    @property
    def answers_later(self) -> bool:
        return self.player.answers_later

    def choose_later(self, view: TurnView, seats: Seats) -> Callable[[], torch.Tensor]:
        if self.own_view:
            view = TurnView(view.state)
        read = self._timed(lambda: self.player.choose_later(view, seats))
        return lambda: self._timed(read)

    def _timed(self, call: Callable[[], _T]) -> _T:
        cpu = time.thread_time()
        started = time.perf_counter()
        try:
            return call()
        finally:
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.thread_time() - cpu

    # the other hooks pass straight through (an HTTP player needs them to start and end its games)
    def prepare(self, *, food: FoodSettings) -> None:
        self.player.prepare(food=food)

    def take_faults(self, game: int, seat: int) -> Faults:
        return self.player.take_faults(game, seat)

    def start_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        self.player.start_games(view, seats, snake_ids)

    def end_games(self, view: TurnView, seats: Seats, snake_ids: Sequence[Sequence[str]]) -> None:
        self.player.end_games(view, seats, snake_ids)

    def close(self) -> None:
        self.player.close()


def _serve(snake: str, threads: int) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "optuna_clank", "serve", "--snake", snake, "--port", "0", "--threads", str(threads)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("serving "):
        process.kill()
        raise SystemExit(f"serve did not start: {line!r}")
    return process, line.split(" at ", 1)[1].split()[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_bot(path: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start an external snake server on a free port; its URL once ``GET /`` answers."""
    port = _free_port()
    process = subprocess.Popen(
        [path], env={**os.environ, "PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{path} exited with {process.returncode} before listening on port {port}")
        try:
            with urllib.request.urlopen(url + "/", timeout=2) as reply:
                if reply.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{path} did not answer GET / on port {port} within 30 s")


def _process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from ``/proc/PID/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_bot(path: str, pid: int, url: str, *, concurrency: int, games: int, seed: int) -> dict[str, Any]:
    """The split for an external snake, its own time measured from outside its process."""
    player = _Timed(HttpSnake(url))
    server_before = _process_cpu_seconds(pid)
    started, cpu = time.perf_counter(), time.process_time()
    result = play_match(player, "baseline", games=games, seed=seed, batch_size=concurrency)
    wall, client_cpu = time.perf_counter() - started, time.process_time() - cpu
    snake_cpu = _process_cpu_seconds(pid) - server_before
    moves = result.turns  # our snake moves once a turn until its game ends
    snake_s = min(snake_cpu, player.seconds)
    http_s = player.seconds - snake_s
    return {
        "bot": path,
        "concurrent_games": min(concurrency, games),
        "games": games,
        "http_games_per_s": round(games / wall, 2),
        "vs_old_loop": round(games / wall / OLD_LOOP_GAMES_PER_S, 2),
        "wall_s": round(wall, 3),
        "moves": moves,
        "snake_s": round(snake_s, 3),
        "arena_s": round(wall - player.seconds, 3),
        "http_s": round(http_s, 3),
        "snake_cpu_ms_per_move": round(1000 * snake_cpu / max(moves, 1), 4),
        "http_ms_per_move": round(1000 * http_s / max(moves, 1), 4),
        "http_share": round(http_s / wall, 3),
        "cpu_s": {"client": round(client_cpu, 3), "snake_process": round(snake_cpu, 3)},
        "faults": result.faults()._asdict(),
    }


def _stats(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url + "/stats", timeout=10) as reply:
        return json.loads(reply.read())


def run(snake: str, url: str, concurrency: int, games: int, seed: int) -> dict[str, Any]:
    options = {"games": games, "seed": seed, "batch_size": concurrency}
    started = time.perf_counter()
    in_process = play_match(resolve_snake(snake), "baseline", **options)
    shared_wall = time.perf_counter() - started
    local = _Timed(resolve_snake(snake), own_view=True)  # the arena's own work, as beside a served snake
    started, cpu = time.perf_counter(), time.process_time()
    separate = play_match(local, "baseline", **options)
    local_wall, local_cpu = time.perf_counter() - started, time.process_time() - cpu
    before = _stats(url)
    started, cpu = time.perf_counter(), time.process_time()
    remote = play_match(HttpSnake(url), "baseline", **options)
    wall, client_cpu = time.perf_counter() - started, time.process_time() - cpu
    after = _stats(url)
    server_cpu = after["process_cpu_seconds"] - before["process_cpu_seconds"]
    moves = after["answered"] - before["answered"]
    snake_s = after["snake_seconds"] - before["snake_seconds"]
    arena_s = max(local_wall - local.seconds, 0.0)
    http_s = max(wall - snake_s - arena_s, 0.0)
    snake_cpu = after["snake_cpu_seconds"] - before["snake_cpu_seconds"]
    arena_cpu = max(local_cpu - local.cpu_seconds, 0.0)
    http_cpu = max(client_cpu - arena_cpu, 0.0) + max(server_cpu - snake_cpu, 0.0)
    return {
        "snake": snake,
        "concurrent_games": min(concurrency, games),
        "games": games,
        "same_results": remote.outcomes == in_process.outcomes == separate.outcomes,
        "in_process_games_per_s": round(games / shared_wall, 2),
        "http_games_per_s": round(games / wall, 2),
        "vs_in_process": round(shared_wall / wall, 3),
        "wall_s": round(wall, 3),
        "moves": moves,
        "snake_s": round(snake_s, 3),
        "arena_s": round(arena_s, 3),
        "http_s": round(http_s, 3),
        "snake_ms_per_move": round(1000 * snake_s / max(moves, 1), 4),
        "http_ms_per_move": round(1000 * http_s / max(moves, 1), 4),
        "server_batches": after["batches"] - before["batches"],
        # of the HTTP path: the server's batches outside the snake (requests -> tensors -> moves)
        "batching_ms_per_move": round(
            1000 * (after["batch_seconds"] - before["batch_seconds"] - snake_s) / max(moves, 1), 4
        ),
        "http_share": round(http_s / wall, 3),
        "cpu_s": {
            "client": round(client_cpu, 3),
            "server": round(server_cpu, 3),
            "snake": round(snake_cpu, 3),
            "arena": round(arena_cpu, 3),
            "http": round(http_cpu, 3),
        },
        "http_cpu_ms_per_move": round(1000 * http_cpu / max(moves, 1), 4),
        "http_cpu_share": round(http_cpu / max(client_cpu + server_cpu, 1e-9), 3),
        "faults": remote.faults()._asdict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snake", default="baseline", help="built-in snake to serve (default: baseline)")
    parser.add_argument("--bot", metavar="PATH", help="an external snake server command (listens on $PORT) instead")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[1, 8, 64])
    parser.add_argument("--games", type=int, help="games per run (default: 4 x concurrency, at least 8)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads here and in the server")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    process, url = _start_bot(args.bot) if args.bot else _serve(args.snake, args.threads)
    try:
        for concurrency in args.concurrency:
            games = args.games or max(4 * concurrency, 8)
            if args.bot:
                row = run_bot(args.bot, process.pid, url, concurrency=concurrency, games=games, seed=args.seed)
            else:
                row = run(args.snake, url, concurrency, games, args.seed)
            print(json.dumps(row), flush=True)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
