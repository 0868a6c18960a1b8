"""HTTP players: real servers on loopback, healthy and faulty; games always finish, faults counted."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from _servers import FakeSnake, served
from _study import run_cli

from optuna_clank.arena.config import default_config, dump_config, load_config, with_values
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.http.api import game_object
from optuna_clank.arena.http.client import LoopRunner, SnakeClient
from optuna_clank.arena.http.player import HttpSnake, SnakeUnreachableError
from optuna_clank.arena.match import GameOutcome, play_match
from optuna_clank.arena.move_oracle import answer_moves
from optuna_clank.arena.opponents import make_opponent
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes.baseline import BaselineSnake
from optuna_clank.arena.snakes.heuristic import HeuristicSnake

OK = (200, b"{}")
PATIENT_MS = 120_000
"""A timeout no answer reaches, however busy the machine: tests of exact results must not hinge on timing."""
CHANGED_KEY = "weights.center_control"
"""A config key whose high bound changes moves of the heuristic snake (on these seeds)."""


def _asked(outcome: GameOutcome) -> int:
    """How many /move requests the candidate got: one per turn it started alive."""
    candidate = outcome.candidate
    return candidate.eliminated_on_turn if candidate.cause else outcome.turns


def test_served_config_plays_exactly_as_in_process(tmp_path: Path) -> None:
    """The API boundary changes nothing: same config, same seeds, same games, move for move."""
    config_path = tmp_path / "tuned.yaml"
    config_path.write_text(dump_config(with_values(default_config(), {CHANGED_KEY: 1000.0})))
    options = {"games": 6, "seed": 11, "max_turns": 150, "batch_size": 6}
    local = play_match(HeuristicSnake(load_config(config_path)), "baseline", **options, record=[0, 1])
    positions = [
        {"game": game_object(f"g{game}"), "turn": frame["turn"], "board": frame["board"], "you": you}
        for game, frames in local.history.items()
        for frame in frames
        for you in frame["board"]["snakes"]
    ]
    with served(["--config", str(config_path)], cwd=tmp_path) as (url, _):
        remote = play_match(HttpSnake(url, timeout_ms=PATIENT_MS), "baseline", **options)
        opponent = make_opponent(f"url:{url}")
        assert isinstance(opponent, HttpSnake)
        opponent.timeout_ms = PATIENT_MS
        via_opponent = play_match(opponent, "baseline", **options)
        served_moves = answer_moves(url, positions, timeout_ms=PATIENT_MS)
    assert remote.outcomes == local.outcomes == via_opponent.outcomes
    assert remote.faults().total == 0 and sum(o.turns for o in remote.outcomes) > 6 * 20
    # the server plays the tuned config, not the default one
    assert served_moves == answer_moves("heuristic", positions, config=config_path)
    assert served_moves != answer_moves("heuristic", positions)


def test_a_snake_that_never_answers_times_out_and_goes_straight() -> None:
    with FakeSnake(lambda path, _: None if path == "/move" else OK) as fake:
        result = play_match(HttpSnake(fake.url, timeout_ms=100), "baseline", games=2, seed=3, batch_size=2)
    assert result.games == 2
    for outcome in result.outcomes:
        faults = outcome.candidate.faults
        assert faults.timeouts == _asked(outcome) > 0
        assert faults.errors == faults.invalid == faults.disconnects == 0
        assert outcome.turns <= 11  # the default move runs it into the wall of an 11x11 board
    assert result.summary()["faults"]["timeouts"] == sum(_asked(o) for o in result.outcomes)


def test_garbage_answers_are_counted_as_invalid_or_errors() -> None:
    def garbage(path: str, body: dict) -> tuple[int, bytes]:
        if path != "/move":
            return OK
        return [(200, b"not json"), (200, json.dumps({"move": "UP"}).encode()), (500, b"{}")][body["turn"] % 3]

    with FakeSnake(garbage) as fake:
        result = play_match(HttpSnake(fake.url, timeout_ms=PATIENT_MS), "baseline", games=4, seed=5, batch_size=4)
    assert result.games == 4
    for outcome in result.outcomes:
        turns = range(_asked(outcome))
        faults = outcome.candidate.faults
        assert faults.invalid == sum(1 for t in turns if t % 3 != 2)
        assert faults.errors == sum(1 for t in turns if t % 3 == 2)
        assert faults.timeouts == faults.disconnects == 0
        assert outcome.opponent_faults.total == 0


def test_play_reports_the_faults_of_a_server_opponent(tmp_path: Path) -> None:
    def invalid(path: str, _: dict) -> tuple[int, bytes]:
        return OK if path != "/move" else (200, b'{"move": "sideways"}')

    with FakeSnake(invalid) as fake:
        result = run_cli(["play", "--games", "2", "--opponent", f"url:{fake.url}", "--json"], cwd=tmp_path)
        asked = fake.moves()
        report = run_cli(["play", "--games", "2", "--opponent", fake.url], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["faults"] == {"timeouts": 0, "errors": 0, "invalid": 0, "disconnects": 0}
    faults = summary["opponent_faults"]
    assert faults["errors"] == faults["disconnects"] == 0
    # every answer was invalid (the CLI's 500 ms can also expire on a busy machine: a timeout then)
    assert faults["invalid"] > 0
    assert faults["invalid"] <= asked <= faults["invalid"] + faults["timeouts"]
    assert report.returncode == 0, report.stderr
    (line,) = [line for line in report.stdout.splitlines() if "server faults of the opponents:" in line]
    assert " invalid" in line


def test_a_server_that_dies_mid_match_forfeits_its_games(tmp_path: Path) -> None:
    """Killed after the first game ends: every later game is a forfeit, nothing hangs."""
    with served(["--snake", "baseline"], cwd=tmp_path) as (url, process):
        ended: list[int] = []

        def kill_on_first_end(outcome: GameOutcome) -> None:
            ended.append(outcome.game)
            if process.poll() is None:
                process.kill()
                process.wait()

        snake = HttpSnake(url, timeout_ms=PATIENT_MS)
        result = play_match(snake, "baseline", games=8, seed=2, batch_size=4, on_game_end=kill_on_first_end)
    assert result.games == 8
    first = result.outcomes[ended[0]]
    assert first.candidate.faults.total == 0
    late = [o for o in result.outcomes if o.game >= 4]  # started after the kill
    assert len(late) == 4
    for outcome in late:
        assert outcome.candidate.cause == "disconnected"
        assert outcome.candidate.faults.disconnects == 1
        assert outcome.result == "loss"
    forfeits = [o for o in result.outcomes if o.candidate.cause == "disconnected"]
    assert all(o.result == "loss" and o.candidate.faults.disconnects == 1 for o in forfeits)
    assert result.faults().disconnects == len(forfeits)
    assert result.death_causes()["disconnected"]


def test_a_server_that_is_not_there_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SnakeUnreachableError, match=f"127.0.0.1:{port}"):
        play_match(HttpSnake(f"http://127.0.0.1:{port}"), "baseline", games=2)


def test_url_opponents_are_players() -> None:
    snake = make_opponent("url:http://127.0.0.1:9/")
    assert isinstance(snake, HttpSnake) and snake.url == "http://127.0.0.1:9"
    assert isinstance(make_opponent("http://localhost:8000"), HttpSnake)


def test_servers_can_be_asked_from_inside_a_running_event_loop() -> None:
    """Synchronous callers inside async code get the private loop on a thread instead."""
    snake = {"id": "a", "health": 9, "body": [{"x": 1, "y": 1}]}
    position = {
        "game": game_object("g"),
        "turn": 0,
        "board": {"width": 7, "height": 7, "food": [], "snakes": [snake]},
        "you": {"id": "a"},
    }

    async def ask_inside(url: str) -> list[str | None]:
        return answer_moves(url, [position, position], timeout_ms=PATIENT_MS)

    with FakeSnake(lambda path, _: (200, b'{"move": "left"}') if path == "/move" else OK) as fake:
        assert asyncio.run(ask_inside(fake.url)) == ["left", "left"]
        assert answer_moves(fake.url, [position], timeout_ms=PATIENT_MS) == ["left"]


def _slow_move(delay_s: float) -> Callable[[str, dict[str, Any]], tuple[int, bytes]]:
    def handler(path: str, _: dict[str, Any]) -> tuple[int, bytes]:
        if path == "/move":
            time.sleep(delay_s)
            return 200, b'{"move": "left"}'
        return OK

    return handler


def test_moves_sent_now_and_read_later_keep_their_deadline_from_the_sending() -> None:
    """The arena works between sending and reading: an answer that came in time is no fault, a late one is."""
    body = json.dumps({"game": {"id": "g", "timeout": 400}, "turn": 0}).encode()
    loop = LoopRunner()
    try:
        with FakeSnake(_slow_move(0.1)) as fake:
            client = SnakeClient(fake.url, timeout_ms=400, max_connections=2)
            loop.run(client.__aenter__())
            flight = loop.run(client.send_moves([body] * 5))  # two now (the free slots), three when read
            assert (flight.held, len(flight.unsent)) == (2, 3)
            blocked = loop.run(client.send_moves([body]))  # no free slot: sent when read, nothing waits
            assert (blocked.held, len(blocked.unsent)) == (0, 1)
            time.sleep(0.6)  # busy past the deadline; the answers came after 0.1 s
            answers = loop.run(client.collect_moves(flight, 400))
            assert [(a.move, a.fault) for a in answers] == [("left", "")] * 5
            assert [(a.move, a.fault) for a in loop.run(client.collect_moves(blocked, 400))] == [("left", "")]
            loop.run(client.close())
        with FakeSnake(_slow_move(3.0)) as fake:
            client = SnakeClient(fake.url, timeout_ms=300)
            loop.run(client.__aenter__())
            loop.run(client.move_batch([body], 300))  # opens the connection: later sends go out at once
            flight = loop.run(client.send_moves([body, body]))
            time.sleep(0.1)
            started = time.monotonic()
            answers = loop.run(client.collect_moves(flight, 300))
            waited = time.monotonic() - started
            assert [(a.move, a.fault, a.latency_ms) for a in answers] == [(None, "timeout", 300)] * 2
            assert waited < 2.0, f"read waited {waited:.2f} s for answers 3 s away: the timeout must end the wait"
            loop.run(client.close())
    finally:
        loop.close()


def test_each_move_goes_out_as_it_is_built_and_a_body_that_fails_leaves_nothing_in_flight() -> None:
    """The server reads the first body while the next is built; a failed build gives its slots back."""
    loop = LoopRunner()
    seen = threading.Event()

    def handler(path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        if path == "/move" and body.get("turn") == 1:
            seen.set()
        return 200, b'{"move": "down"}'

    def bodies(then: Callable[[], bool]) -> Iterator[bytes]:
        yield json.dumps({"turn": 1}).encode()
        assert then(), "the second body was asked for before the first had reached the server"
        yield json.dumps({"turn": 2}).encode()

    def broken() -> Iterator[bytes]:
        yield json.dumps({"turn": 3}).encode()
        raise ValueError("seat 1 of batch row 0 is not a live snake")

    try:
        with FakeSnake(handler, keep_alive=True) as fake:  # idle connections: a body goes out when sent
            client = SnakeClient(fake.url, timeout_ms=PATIENT_MS, max_connections=2)
            loop.run(client.__aenter__())
            loop.run(client.move_batch([b"{}", b"{}"], PATIENT_MS))  # opens both connections
            flight = loop.run(client.send_moves(bodies(lambda: seen.wait(timeout=30))))
            assert [a.move for a in loop.run(client.collect_moves(flight, PATIENT_MS))] == ["down", "down"]
            with pytest.raises(ValueError, match="not a live snake"):
                loop.run(client.send_moves(broken()))
            flight = loop.run(client.send_moves(bodies(lambda: True)))
            assert (flight.held, len(flight.unsent)) == (2, 0)  # both slots free again
            assert [a.move for a in loop.run(client.collect_moves(flight, PATIENT_MS))] == ["down", "down"]
            loop.run(client.close())
    finally:
        loop.close()


class _Recording(Player):
    """A player that notes when it chooses."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log
        self.inner = BaselineSnake()

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        self.log.append(f"{self.name} chose")
        return self.inner.choose(view, seats)


class _RecordingServer(_Recording):
    """A player that answers later, as a server does: notes when it is asked and when its answer is read."""

    def choose_later(self, view: TurnView, seats: Seats) -> Callable[[], torch.Tensor]:
        self.log.append(f"{self.name} asked")
        moves = self.inner.choose(view, seats)

        def read() -> torch.Tensor:
            self.log.append(f"{self.name} read")
            return moves

        return read


def test_the_arena_asks_servers_first_and_reads_them_last_without_changing_results() -> None:
    log: list[str] = []
    server = _RecordingServer("server", log)
    local = _Recording("local", log)
    assert server.answers_later and not local.answers_later and not BaselineSnake().answers_later
    result = play_match(BaselineSnake(), [local, server], games=4, seed=3, batch_size=4, max_turns=30)
    turns = [log[i : i + 3] for i in range(0, len(log), 3)]
    assert turns and all(turn == ["server asked", "local chose", "server read"] for turn in turns), log[:9]
    plain = play_match(BaselineSnake(), ["baseline", "baseline"], games=4, seed=3, batch_size=4, max_turns=30)
    assert [o.result for o in result.outcomes] == [o.result for o in plain.outcomes]
    assert [o.turns for o in result.outcomes] == [o.turns for o in plain.outcomes]
