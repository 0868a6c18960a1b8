"""Opponents started from a command (``cmd:``): real processes on loopback, shared, restarted, stopped."""

from __future__ import annotations

import shlex
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from optuna_clank.arena.http.player import HttpSnake
from optuna_clank.arena.match import MatchResult, SnakeResult, play_match
from optuna_clank.arena.opponents import UnknownOpponentError, check_opponent, command_of, make_opponent
from optuna_clank.arena.served.bot_process import SnakeStartError
from optuna_clank.arena.served.command_opponents import command_server_url, stop_command_servers
from optuna_clank.arena.snakes.heuristic import HeuristicSnake

PATIENT_MS = 120_000
"""A timeout no answer reaches, however busy the machine: exact results must not hinge on timing."""
SERVE_BASELINE = f"cmd:{shlex.quote(sys.executable)} -m optuna_clank serve --snake baseline --port {{port}}"

_ONE_MOVE_SNAKE = """\
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Snake(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _reply(self, body):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_GET(self):
        self._reply(json.dumps({"apiversion": "1"}).encode())

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._reply(b'{"move": "up"}')
        if self.path == "/move":
            os._exit(0)  # one move, then it dies

HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Snake).serve_forever()
"""


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _fate(snake: SnakeResult) -> tuple[object, ...]:
    return snake.cause, snake.eliminated_on_turn, snake.eliminated_by == "candidate", snake.length


def _games(match: MatchResult) -> list[tuple[object, ...]]:
    """What happened in each game, move for move in effect (player names aside)."""
    return [(o.game, o.result, o.turns, [_fate(s) for s in o.snakes]) for o in match.outcomes]


@pytest.fixture(autouse=True)
def _no_server_outlives_a_test() -> object:
    yield
    stop_command_servers()


def test_a_command_opponent_plays_as_the_same_snake_in_process_and_is_stopped() -> None:
    local = play_match(HeuristicSnake(), "baseline", games=6, seed=5, max_turns=120, batch_size=6)
    served = []
    for _ in range(2):  # two matches, as two rounds of a trial: one server for both
        opponent = make_opponent(SERVE_BASELINE)
        assert isinstance(opponent, HttpSnake)
        opponent.timeout_ms = PATIENT_MS
        match = play_match(HeuristicSnake(), opponent, games=6, seed=5, max_turns=120, batch_size=6)
        served.append((opponent.url, match))
    (first_url, first), (second_url, second) = served
    assert first_url == second_url
    assert _games(first) == _games(second) == _games(local)
    assert len({o.result for o in local.outcomes}) > 1  # not all alike: the games tell snakes apart
    assert first.faults(who="opponents").total == 0
    stop_command_servers()
    assert not _answers(first_url)


def test_a_command_opponent_that_died_is_started_again(tmp_path: Path) -> None:
    script = tmp_path / "one_move_snake.py"
    script.write_text(_ONE_MOVE_SNAKE)
    command, folder = command_of(f"cmd:{shlex.quote(sys.executable)} {script}")
    url = command_server_url(command, folder)
    request = urllib.request.Request(url + "/move", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.read() == b'{"move": "up"}'
    deadline = time.monotonic() + 10
    while _answers(url) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _answers(url), "the snake did not die after its move"
    assert _answers(command_server_url(command, folder))


def test_a_command_opponent_outlives_the_thread_that_first_needed_it(tmp_path: Path) -> None:
    """A trial's thread may end while other threads still play against the shared server."""
    script = tmp_path / "one_move_snake.py"
    script.write_text(_ONE_MOVE_SNAKE)
    command, folder = command_of(f"cmd:{shlex.quote(sys.executable)} {script}")
    urls: list[str] = []
    thread = threading.Thread(target=lambda: urls.append(command_server_url(command, folder)))
    thread.start()
    thread.join()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        assert _answers(urls[0]), "the server stopped when the thread that started it ended"
        time.sleep(0.1)
    assert command_server_url(command, folder) == urls[0]


def test_command_opponents_are_checked_before_anything_starts(tmp_path: Path) -> None:
    bot = tmp_path / "bots" / "bot.sh"
    bot.parent.mkdir()
    bot.write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(UnknownOpponentError, match="is not an executable file"):
        check_opponent("cmd:./bots/bot.sh", base_dir=tmp_path)  # not executable yet
    bot.chmod(0o755)
    command, folder = command_of("cmd:./bots/bot.sh --port {port}", base_dir=tmp_path)
    assert command == (str(bot), "--port", "{port}") and folder == bot.parent
    for name, reason in [
        ("cmd:", "no command"),
        ("cmd:  ", "no command"),
        ("cmd:'open", "cannot split the command"),
        ("cmd:no-such-program-anywhere", "not a program on PATH"),
        ("cmd:./missing", "is not an executable file"),
    ]:
        with pytest.raises(UnknownOpponentError, match=reason):
            check_opponent(name, base_dir=tmp_path)


def test_a_command_that_cannot_serve_fails_naming_the_opponent_and_its_stderr() -> None:
    name = "cmd:sh -c 'echo cannot read my config >&2; exit 3'"
    with pytest.raises(SnakeStartError, match=r"opponent .*exited with status 3.*cannot read my config") as caught:
        make_opponent(name)
    assert "cannot read my config" in caught.value.stderr_tail
