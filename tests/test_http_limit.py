"""The in-flight limit of a snake server: a server slowed by its load is measured, never its overload.

The rule alone (:class:`InFlightLimit`, fed latencies by hand), then real HTTP on loopback: a fake
bot whose answers take longer the more requests it holds plays the same games, with the same
per-game results and no fault, as the same bot unloaded.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from _servers import CrowdedSnake, FakeSnake, first_free_move

from optuna_clank.arena.http.api import game_object
from optuna_clank.arena.http.client import LoopRunner, SnakeClient
from optuna_clank.arena.http.limit import GROW_BELOW, SHRINK_ABOVE, START, InFlightLimit, Ticket
from optuna_clank.arena.http.player import HttpSnake
from optuna_clank.arena.match import play_match

DEADLINE_MS = 1000
FAST = DEADLINE_MS * GROW_BELOW / 1000 / 2
SLOW = DEADLINE_MS * SHRINK_ABOVE / 1000 * 1.5


def _round_trip(limit: InFlightLimit, latency: float | None, *, backlog: int = 1, loose: bool = False) -> None:
    """Fill the limit (``backlog`` more requests waiting), then end every request with ``latency``."""
    woken: list[Ticket] = []
    tickets = [limit.take() for _ in range(limit.limit)]
    for _ in range(backlog):
        limit.wait(lambda ticket: woken.append(ticket) is None)
    for ticket in tickets:
        limit.done(ticket, latency=latency, loose=loose)
    for ticket in woken:
        limit.release(ticket)


def test_the_limit_doubles_while_answers_are_fast_and_requests_wait() -> None:
    limit = InFlightLimit(DEADLINE_MS, maximum=100)
    assert limit.limit == START
    _round_trip(limit, FAST, backlog=50)
    assert limit.limit == 2 * START
    _round_trip(limit, FAST, backlog=50)
    assert limit.limit == 4 * START
    for _ in range(10):
        _round_trip(limit, FAST, backlog=200)
    assert limit.limit == limit.maximum == 100


def test_fast_answers_grow_nothing_when_no_request_waits() -> None:
    limit = InFlightLimit(DEADLINE_MS)
    ticket = limit.take()
    limit.done(ticket, latency=FAST)
    assert limit.limit == START


def test_a_slow_round_trip_halves_the_limit_once_then_it_grows_by_one_per_round_trip() -> None:
    limit = InFlightLimit(DEADLINE_MS, maximum=100)
    for _ in range(3):
        _round_trip(limit, FAST, backlog=100)
    assert limit.limit == 32
    _round_trip(limit, SLOW)  # 32 slow answers of requests sent together: one halving
    assert limit.limit == 16 and limit.shrinks == 1
    for _ in range(4):
        _round_trip(limit, FAST, backlog=100)
    assert limit.limit == 19  # past the first slow answer: about one more per round trip (1/limit per answer)
    _round_trip(limit, DEADLINE_MS * (GROW_BELOW + SHRINK_ABOVE) / 2000, backlog=100)
    assert limit.limit == 19  # between the two thresholds it holds
    _round_trip(limit, None)  # timeouts halve it too
    assert limit.limit == 9


def test_loose_latencies_never_shrink_the_limit() -> None:
    limit = InFlightLimit(DEADLINE_MS)
    _round_trip(limit, SLOW, loose=True)
    assert limit.limit == START and limit.shrinks == 0


def test_a_server_that_times_out_alone_is_not_ours_to_slow_down() -> None:
    """At one request in flight a timeout is the server's own: the rest go out at once, as the CLI sends them."""
    limit = InFlightLimit(DEADLINE_MS, maximum=64)
    while limit.limit > 1:
        _round_trip(limit, None)
    ticket = limit.take()
    assert ticket.alone
    limit.done(ticket, latency=None)
    assert limit.limit == 64
    _round_trip(limit, None)
    assert limit.limit == 64
    limit.done(limit.take(), latency=FAST)  # answering in time again: learnt from the start
    assert limit.limit == START


def test_waiters_are_served_in_order_and_one_that_gave_up_passes_its_turn() -> None:
    limit = InFlightLimit(DEADLINE_MS, maximum=1)
    first = limit.take()
    served: list[str] = []
    limit.wait(lambda _: served.append("gave up") is not None)  # returns False: not used
    limit.wait(lambda _: served.append("second") is None)
    limit.wait(lambda _: served.append("third") is None)
    assert served == [] and not limit.free
    limit.release(first)
    assert served == ["gave up", "second"] and limit.in_flight == 1


CROWDED_MS = 40
"""Per request in flight: 12 held at once answer after 480 ms, beyond the 400 ms deadline."""
TIMEOUT_MS = 400
GAMES = 12


def test_a_server_slowed_by_its_load_plays_exactly_as_unloaded_with_no_fault() -> None:
    options = {"games": GAMES, "seed": 4, "board_size": 7, "max_turns": 40, "batch_size": GAMES}
    with FakeSnake(CrowdedSnake(0), keep_alive=True) as fake:
        unloaded = play_match(HttpSnake(fake.url, timeout_ms=TIMEOUT_MS), "baseline", **options)
    crowded = CrowdedSnake(CROWDED_MS)
    with FakeSnake(crowded, keep_alive=True) as fake:
        loaded = play_match(HttpSnake(fake.url, timeout_ms=TIMEOUT_MS), "baseline", **options)
        flooded = _all_at_once(fake.url, GAMES)
    assert unloaded.faults().total == 0
    assert loaded.faults().total == 0
    assert loaded.outcomes == unloaded.outcomes  # same games, same per-game results, same fault counts (none)
    assert crowded.moves > GAMES * 5
    assert crowded.peak * CROWDED_MS < TIMEOUT_MS  # the limit held the server below its overload
    # the same server flooded with one turn's requests at once (as the arena sent them before) times out
    assert flooded.count("timeout") > 0


def _all_at_once(url: str, count: int) -> list[str]:
    """``count`` /move requests sent together, each with the test's deadline: their faults."""
    snake = {"id": "a", "health": 90, "body": [{"x": 3, "y": 3}]}
    body = {"game": game_object("g", timeout_ms=TIMEOUT_MS), "turn": 0, "board": {"width": 7, "height": 7}}
    body["board"] |= {"food": [], "snakes": [snake], "hazards": []}
    body["you"] = snake
    assert first_free_move(body) == "up"

    async def flood() -> list[str]:
        async with SnakeClient(url, timeout_ms=TIMEOUT_MS) as client:
            encoded = json.dumps(body).encode()
            return list(await asyncio.gather(*(_raw_fault(client, encoded) for _ in range(count))))

    loop = LoopRunner()
    try:
        return loop.run(flood())
    finally:
        loop.close()


async def _raw_fault(client: SnakeClient, body: bytes) -> str:
    """One request straight through the connection pool (no in-flight limit): its fault, '' if answered."""
    try:
        async with asyncio.timeout(TIMEOUT_MS / 1000):
            status, _ = await client.pool.request("POST", "/move", body)
    except TimeoutError:
        return "timeout"
    return "" if status == 200 else "error"


@pytest.mark.parametrize("concurrency", [1, 64])
def test_moves_asks_a_crowded_server_without_overloading_it(concurrency: int) -> None:
    """``moves``, ``probe`` and ``fidelity`` ask through the same limit: no answer lost to our own crowd."""
    from optuna_clank.arena.move_oracle import answer_moves

    snake = {"id": "a", "health": 90, "body": [{"x": 3, "y": 3}, {"x": 3, "y": 2}]}
    requests = [
        {
            "game": game_object(f"g{i}", timeout_ms=TIMEOUT_MS),
            "turn": i,
            "board": {"width": 7, "height": 7, "food": [], "snakes": [snake], "hazards": []},
            "you": snake,
        }
        for i in range(40)
    ]
    crowded = CrowdedSnake(CROWDED_MS)
    with FakeSnake(crowded, keep_alive=True) as fake:
        answers = answer_moves(fake.url, requests, timeout_ms=TIMEOUT_MS, concurrency=concurrency)
    assert answers == [first_free_move(r) for r in requests]
    assert crowded.peak * CROWDED_MS < TIMEOUT_MS
