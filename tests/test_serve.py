"""``serve`` and ``moves`` through the real command line, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import aiohttp
import torch
from _servers import run_with_stdin, served
from _study import run_cli, start_cli
from aiohttp import web

from optuna_clank.arena.api import game_object
from optuna_clank.arena.features import TurnView
from optuna_clank.arena.match import play_match
from optuna_clank.arena.move_oracle import answer_moves
from optuna_clank.arena.players import Seats
from optuna_clank.arena.server import make_app
from optuna_clank.arena.snakes.baseline import BaselineSnake


def _recorded_requests(games: int = 3) -> list[dict[str, Any]]:
    """/move requests of real positions: every frame of a few recorded games, each snake as ``you``."""
    result = play_match(None, "baseline", games=games, seed=4, record=range(games), max_turns=60)
    requests = []
    for game, frames in result.history.items():
        for frame in frames:
            for you in frame["board"]["snakes"]:
                requests.append(
                    {"game": game_object(f"g{game}"), "turn": frame["turn"], "board": frame["board"], "you": you}
                )
    return requests


MALFORMED: list[bytes] = [
    b"",
    b"{not json",
    b"[1, 2, 3]",
    b"{}",
    json.dumps({"turn": 3, "board": {"width": 11, "height": 11, "snakes": []}, "you": {}}).encode(),
    json.dumps({"turn": -1}).encode(),
    b"\xff\xfe\x00",
    json.dumps({"turn": 0, "board": "eleven", "you": None}).encode(),
]


def _break(request: dict[str, Any], index: int) -> bytes:
    """A request made wrong in one of several ways (some only slightly)."""
    if index % 3 == 0:
        return MALFORMED[index % len(MALFORMED)]
    broken = json.loads(json.dumps(request))
    if index % 3 == 1:
        broken["board"]["snakes"][0]["body"][0] = {"x": 99, "y": 0}
    else:
        broken["you"] = {"id": "nobody"}
    return json.dumps(broken).encode()


async def _post_all(url: str, bodies: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> tuple[int, dict[str, Any]]:
            async with session.post(url + "/move", data=body, headers={"Content-Type": "application/json"}) as r:
                return r.status, json.loads(await r.read())

        return list(await asyncio.gather(*(post(b) for b in bodies)))


async def _get(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url + "/") as reply:
        assert reply.status == 200
        return await reply.json()


def test_serve_answers_valid_requests_among_200_concurrent_malformed_ones(tmp_path: Path) -> None:
    valid = _recorded_requests()[:100]
    assert len(valid) == 100
    expected = answer_moves("baseline", valid)
    bodies: list[bytes] = []
    for i, request in enumerate(valid):
        bodies += [json.dumps(request).encode(), _break(request, i)]
    with served(["--snake", "baseline"], cwd=tmp_path) as (url, process):
        info = asyncio.run(_get(url))
        replies = asyncio.run(_post_all(url, bodies))
        again = asyncio.run(_post_all(url, [json.dumps(r).encode() for r in valid[:10]]))
        assert process.poll() is None
    assert info["apiversion"] == "1" and {"author", "color", "head", "tail", "version"} <= set(info)
    good, bad = replies[0::2], replies[1::2]
    assert [status for status, _ in good] == [200] * 100
    assert [reply["move"] for _, reply in good] == expected
    assert all(status == 400 and reply["error"] for status, reply in bad)
    assert [reply["move"] for _, reply in again] == expected[:10]


def test_moves_answers_each_line_and_reports_bad_ones(tmp_path: Path) -> None:
    requests = _recorded_requests(games=2)[:30]
    lines = [json.dumps(r) for r in requests]
    lines.insert(3, "{not json")
    lines.insert(10, json.dumps({"turn": 1}))
    lines.insert(20, "")  # blank lines are skipped
    stdin = tmp_path / "requests.jsonl"
    stdin.write_text("\n".join(lines) + "\n")
    expected = answer_moves("baseline", requests)
    expected.insert(3, "-")
    expected.insert(10, "-")

    def moves(snake: str, *options: str) -> tuple[int, list[str], str]:
        result = run_with_stdin(["moves", "--snake", snake, *options], stdin, cwd=tmp_path)
        return result.returncode, result.stdout.splitlines(), result.stderr

    code, out, err = moves("baseline")
    assert code == 2
    assert out == expected
    assert err.splitlines()[0].startswith("error: line 4: not JSON")
    assert err.splitlines()[1].startswith("error: line 11: ")
    assert len(err.splitlines()) == 2
    with served(["--snake", "baseline"], cwd=tmp_path) as (url, _):
        assert moves(url, "--timeout-ms", "120000") == (code, out, err)


def test_serve_on_a_taken_port_is_one_clear_line_and_sigint_stops_it(tmp_path: Path) -> None:
    with served(["--snake", "baseline"], cwd=tmp_path) as (url, _):
        port = url.rsplit(":", 1)[1]
        second = run_cli(["serve", "--snake", "baseline", "--port", port], cwd=tmp_path)
    assert second.returncode == 2
    assert second.stderr.startswith("error: cannot listen on 127.0.0.1:") and len(second.stderr.splitlines()) == 1
    process = start_cli(["serve", "--port", "0"], cwd=tmp_path)
    assert process.stdout is not None
    assert process.stdout.readline().startswith("serving heuristic at http://127.0.0.1:")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err


class _PoisonedBaseline(BaselineSnake):
    """Baseline, except that it fails on any batch holding a position of turn 13."""

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        if bool((view.state.turn[seats.games] == POISON_TURN).any()):
            raise RuntimeError("cannot play turn 13")
        return super().choose(view, seats)


POISON_TURN = 13


async def _serve_in_process_and_post(player: BaselineSnake, bodies: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
    runner = web.AppRunner(make_app(player))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        return await _post_all(f"http://127.0.0.1:{port}", bodies)
    finally:
        await runner.cleanup()


def test_a_position_the_snake_fails_on_fails_only_its_own_request() -> None:
    valid = _recorded_requests()[:120]
    poisoned = [i for i, r in enumerate(valid) if r["turn"] == POISON_TURN]
    assert poisoned
    replies = asyncio.run(_serve_in_process_and_post(_PoisonedBaseline(), [json.dumps(r).encode() for r in valid]))
    expected = answer_moves("baseline", valid)
    for i, (status, reply) in enumerate(replies):
        if i in poisoned:
            assert status == 500 and "turn 13" in reply["error"]
        else:
            assert (status, reply["move"]) == (200, expected[i])
