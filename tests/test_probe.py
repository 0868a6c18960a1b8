"""``probe`` and ``fidelity`` through the real command line, on built-in snakes and on real servers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from optuna_clank.spec import load_spec
from tests._study import cli_env, run_cli

DEAD = "hybrid.mcts_iterations"
"""A key of the built-in snake's YAML that it never reads (the Go bot's MCTS setting)."""
LIVE = ("weights.center_control", "weights.straight_movement")


def probe_json(args: list[str], cwd: Path) -> dict:
    run = run_cli(["probe", *args, "--json"], cwd=cwd)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_probe_tells_a_dead_key_from_live_ones_and_writes_a_search_space_of_the_live(tmp_path: Path) -> None:
    report = probe_json(["--snake", "heuristic", "--keys", DEAD, *LIVE, "--positions", "200"], tmp_path)

    assert report["positions"] == 200
    assert report["dead"] == [DEAD]
    assert report["live"] == list(LIVE)
    by_key = {row["key"]: row for row in report["keys"]}
    assert by_key[DEAD]["changed_at_low"] == by_key[DEAD]["changed_at_high"] == 0
    assert (by_key[DEAD]["low"], by_key[DEAD]["high"]) == (0, 400)  # 0 and twice the base (200)
    assert by_key[DEAD]["bounds_from"] == "0..2x base"
    assert by_key[LIVE[0]]["bounds_from"] == "built-in range"
    block = tomllib.loads(report["search_space"])["search_space"]
    assert set(block) == set(LIVE)
    # The block pastes into a spec as it is.
    spec = tmp_path / "pasted.toml"
    spec.write_text('[study]\nname = "pasted"\n\n' + report["search_space"])
    assert [p.name for p in load_spec(spec).search_space] == list(LIVE)


def test_probe_writes_the_block_to_a_file_and_prints_a_table(tmp_path: Path) -> None:
    out = tmp_path / "space.toml"
    run = run_cli(
        ["probe", "--snake", "heuristic", "--keys", DEAD, LIVE[0], "--positions", "100", "-o", str(out)], cwd=tmp_path
    )

    assert run.returncode == 0, run.stderr
    assert "1 live, 1 dead of 2 keys" in run.stdout
    assert f"wrote the [search_space] of the live keys to {out}" in run.stdout
    assert list(tomllib.loads(out.read_text())["search_space"]) == [LIVE[0]]


@pytest.mark.parametrize(
    ("snake", "expected"),
    [
        ("baseline", "probe needs a snake whose config it can change"),
        ("http://127.0.0.1:9", "probe needs a snake whose config it can change"),
        ("nosuchsnake", "unknown opponent 'nosuchsnake'"),
    ],
)
def test_probe_refuses_snakes_it_cannot_vary_in_one_line(tmp_path: Path, snake: str, expected: str) -> None:
    run = run_cli(["probe", "--snake", snake, "--positions", "10"], cwd=tmp_path)

    assert run.returncode == 2
    assert expected in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # a server per variant: nox -s e2e; the in-process probe tests are the fast ones
def test_probe_of_a_server_snake_starts_a_server_per_variant_and_agrees_with_in_process(tmp_path: Path) -> None:
    serve = [sys.executable, "-m", "optuna_clank", "serve", "--port", "{port}", "--config", "{config}"]
    spec = tmp_path / "served.toml"
    spec.write_text(
        textwrap.dedent(
            f"""
            [study]
            name = "served"

            [snake]
            command = {json.dumps(serve)}
            url = "http://127.0.0.1:{{port}}"
            startup_timeout = 120
            move_timeout_ms = 60000  # a loaded machine must not turn into unanswered positions

            [search_space]
            "{DEAD}" = {{ low = 0, high = 400, int = true }}
            "{LIVE[0]}" = {{ low = 0.1, high = 1000.0, log = true }}
            """
        )
    )
    common = ["--positions", "120", "--seed", "4"]

    served = probe_json(["--snake", str(spec), "--jobs", "2", *common], tmp_path)
    built_in = probe_json(["--snake", "heuristic", "--keys", DEAD, LIVE[0], *common], tmp_path)

    assert served["dead"] == [DEAD] and served["live"] == [LIVE[0]]
    assert served["unanswered"] == 0
    for over_http, in_process in zip(served["keys"], built_in["keys"], strict=True):
        assert over_http["key"] == in_process["key"]
        assert over_http["changed_at_low"] == in_process["changed_at_low"]
        assert over_http["changed_at_high"] == in_process["changed_at_high"]
    # A server snake's block may name any key, so the dead one's absence is the probe's verdict.
    assert list(tomllib.loads(served["search_space"])["search_space"]) == [LIVE[0]]


def fidelity(args: list[str], cwd: Path) -> dict:
    run = run_cli(["fidelity", *args, "--json"], cwd=cwd)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_fidelity_of_a_snake_against_itself_is_total_and_of_two_snakes_is_not(tmp_path: Path) -> None:
    same = fidelity(["--snake", "heuristic", "--against", "heuristic", "--positions", "300"], tmp_path)
    other = fidelity(["--snake", "heuristic", "--against", "baseline", "--positions", "300"], tmp_path)

    assert same["positions"] == other["positions"] == 300
    for label in ("all", "early", "mid", "real choice"):
        row = same["agreement"][label]
        assert row["positions"] > 0 and row["agree"] == row["positions"]
    assert same["agreement"]["all"]["ci"][1] == 1.0
    assert other["agreement"]["all"]["agree"] < 300
    assert other["agreement"]["all"]["ci"][0] < other["agreement"]["all"]["share"] < other["agreement"]["all"]["ci"][1]
    phases = sum(other["agreement"][p]["positions"] for p in ("early", "mid", "late"))
    assert phases == 300
    assert other["agreement"]["real choice"]["positions"] <= 300


def test_fidelity_reads_positions_from_a_history_or_a_requests_file(tmp_path: Path) -> None:
    history = tmp_path / "games.json"
    played = run_cli(["play", "--games", "2", "--record", "0,1", "--history", str(history), "--json"], cwd=tmp_path)
    assert played.returncode == 0, played.stderr

    from_history = fidelity(["--snake", "baseline", "--against", "baseline", "--history", str(history)], tmp_path)
    frames = json.loads(history.read_text())
    moving = sum(len(f["board"]["snakes"]) for game in frames.values() for f in game if "moves" in f)
    assert from_history["positions"] == moving
    assert from_history["agreement"]["all"]["share"] == 1.0

    requests = tmp_path / "requests.jsonl"
    run = run_cli(
        ["fidelity", "--snake", "heuristic", "--against", "heuristic", "--history", str(requests)], cwd=tmp_path
    )
    assert run.returncode == 2 and "cannot read positions" in run.stderr
    one = {
        "game": {"id": "g"},
        "turn": 3,
        "board": {
            "width": 7,
            "height": 7,
            "food": [],
            "hazards": [],
            "snakes": [{"id": "a", "health": 90, "body": [{"x": 1, "y": 1}, {"x": 1, "y": 0}]}],
        },
        "you": {"id": "a", "health": 90, "body": [{"x": 1, "y": 1}, {"x": 1, "y": 0}]},
    }
    requests.write_text(json.dumps(one) + "\n" + json.dumps(one) + "\n")
    from_lines = fidelity(["--snake", "heuristic", "--against", "greedy-food", "--history", str(requests)], tmp_path)
    assert from_lines["positions"] == 2


@pytest.fixture
def served_heuristic(tmp_path: Path) -> Iterator[str]:
    """``serve`` of the default heuristic snake on a free port, for the test's duration."""
    process = subprocess.Popen(
        [sys.executable, "-m", "optuna_clank", "serve", "--port", "0"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert " at http://" in line, process.stderr.read() if process.stderr else line
        yield line.split(" at ", 1)[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_fidelity_of_a_served_snake_against_its_in_process_self_is_total(tmp_path: Path, served_heuristic: str) -> None:
    report = fidelity(
        ["--snake", f"url:{served_heuristic}", "--against", "heuristic", "--positions", "200", "--timeout-ms", "60000"],
        tmp_path,
    )

    assert report["unanswered"] == 0
    assert report["agreement"]["all"] == {
        "positions": 200,
        "agree": 200,
        "share": 1.0,
        "ci": report["agreement"]["all"]["ci"],
    }
