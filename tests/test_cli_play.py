"""``python -m optuna_clank play`` and ``params`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _study import run_cli

from optuna_clank.arena.params import TUNABLE_PARAMS
from optuna_clank.core.stats import game_phase

JSON_KEYS = {
    "games",
    "wins",
    "losses",
    "draws",
    "win_rate",
    "ci_low",
    "ci_high",
    "avg_turns",
    "games_per_second",
    "turns_per_second",
    "death_causes",
}


def test_play_json_has_the_documented_fields(tmp_path: Path) -> None:
    result = run_cli(["play", "--games", "4", "--seed", "1", "--json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) >= JSON_KEYS
    assert summary["games"] == 4 == summary["wins"] + summary["losses"] + summary["draws"]
    assert summary["ci_low"] <= summary["win_rate"] <= summary["ci_high"]
    assert summary["snake"] == "gbc" and summary["opponents"] == ["baseline"]
    assert summary["config"] == "go-battleclank's shipped config.yaml"
    heuristic = json.loads(run_cli(["play", "--snake", "heuristic", "--games", "4", "--json"], cwd=tmp_path).stdout)
    assert (heuristic["snake"], heuristic["config"]) == ("heuristic", "default")


def test_play_report_and_history(tmp_path: Path) -> None:
    history = tmp_path / "games.json"
    result = run_cli(
        ["play", "--games", "6", "--opponent", "greedy-food", "--record", "0,3", "--history", str(history)],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    for text in ("win rate", "95% CI", "draws", "mean turns", "deaths of the candidate", "games/s"):
        assert text in result.stdout
    # where the phases of the death table begin, as turns (game_phase's own boundaries)
    assert "deaths of the candidate by phase (early: turns 0-49, mid: 50-149, late: 150+):" in result.stdout
    assert (game_phase(49), game_phase(50), game_phase(149), game_phase(150)) == ("early", "mid", "mid", "late")
    assert "\r" not in result.stderr  # no terminal: no progress bar
    frames = json.loads(history.read_text())
    assert set(frames) == {"0", "3"}
    assert frames["0"][0]["turn"] == 0 and frames["0"][0]["board"]["snakes"]


def test_play_a_config_file_against_a_tournament(tmp_path: Path) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text("weights:\n  food: 300\ntraps:\n  critical: 900.0\n")
    result = run_cli(
        [
            "play",
            "--config",
            str(config),
            "--opponent",
            "baseline",
            "--opponent",
            "random-safe",
            "--games",
            "8",
            "--json",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["opponents"] == ["baseline", "random-safe"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("weights:\n  spaec: 3\n", "unknown key 'weights.spaec'"),
        ("wieghts:\n  space: 3\n", "unknown section 'wieghts'"),
        ("weights:\n  space: lots\n", "'weights.space' must be a number"),
        ("late_game:\n  turn_threshold: 10.5\n", "'late_game.turn_threshold' must be an integer"),
        ("hybrid:\n  use_mcts_in_endgame: 1\n", "'hybrid.use_mcts_in_endgame' must be true or false"),
        ("weights: [1, 2]\n", "section 'weights' must be a mapping"),
        ("weights: {space: [\n", "not valid YAML"),
    ],
)
def test_bad_config_files_are_refused_naming_the_key(tmp_path: Path, content: str, expected: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    result = run_cli(["play", "--snake", "heuristic", "--config", str(config), "--games", "2"], cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "bad.yaml" in lines[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("weights:\n  space: lots\n", "go-battleclank cannot decode"),
        ("search:\n  use_astar: maybe\n", "go-battleclank cannot decode"),
        ("weights: {space: [\n", "not valid YAML"),
    ],
)
def test_a_config_go_battleclank_cannot_read_is_refused_in_one_line(
    tmp_path: Path, content: str, expected: str
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    result = run_cli(["play", "--config", str(config), "--games", "2"], cwd=tmp_path)  # --snake gbc, the default
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "bad.yaml" in lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--opponent", "baselin"], "unknown opponent 'baselin'"),
        (["--opponent", "cmd:./no-such-bot"], "no-such-bot is not an executable file"),
        (["--opponent", "cmd:sh -c 'echo no config here >&2; exit 3'"], "exited with status 3"),
        (["--device", "cuda:7"], "no CUDA device is visible"),
        (["--device", "tpu"], "unknown device"),
        (["--config", "missing.yaml"], "cannot read config file"),
        (["--processes", "0"], "must be at least 1"),
    ],
)
def test_bad_play_options_exit_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = run_cli(["play", "--games", "2", *args], cwd=tmp_path)
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr


def test_play_shares_its_games_between_processes_with_the_same_results(tmp_path: Path) -> None:
    common = ["play", "--games", "600", "--board-size", "7", "--max-turns", "100", "--seed", "5", "--json"]
    split = run_cli([*common, "--processes", "2"], cwd=tmp_path)
    alone = run_cli([*common, "--processes", "1"], cwd=tmp_path)
    assert split.returncode == alone.returncode == 0, split.stderr + alone.stderr
    split_summary, alone_summary = json.loads(split.stdout), json.loads(alone.stdout)
    assert split_summary["processes"] == 2 and alone_summary["processes"] == 1
    for key in ("wins", "losses", "draws", "avg_turns", "death_causes", "opponent_death_causes"):
        assert split_summary[key] == alone_summary[key], key
    assert split_summary["torch_threads"] == 1


def test_params_lists_every_tunable_parameter(tmp_path: Path) -> None:
    result = run_cli(["params", "--json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == [p.name for p in TUNABLE_PARAMS]
    assert all(r["low"] <= r["default"] <= r["high"] for r in rows)


def test_help_explains_every_command(tmp_path: Path) -> None:
    result = run_cli(["--help"], cwd=tmp_path)
    assert result.returncode == 0
    for command in ("play", "optimize", "worker", "validate", "status", "export", "dashboard", "params"):
        assert command in result.stdout
    optimize = run_cli(["optimize", "--help"], cwd=tmp_path)
    for option in ("--n-trials", "--storage", "--n-jobs", "--use-llm", "--llm-model", "--checkpoint-interval"):
        assert option in optimize.stdout
