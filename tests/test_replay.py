"""Replays: recorded games drawn as text and SVG, the key moment of a lost game, the replay command."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from _study import run_cli

from optuna_clank.arena.board_svg import animated_svg, board_svg, snake_colors
from optuna_clank.arena.match import play_match
from optuna_clank.arena.replay import key_moment, load_replay, render_text, snake_ids, text_board
from optuna_clank.core.errors import UserError

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def games() -> tuple[dict[int, list[dict]], dict[int, str]]:
    """Six recorded 7x7 games against the baseline: frames and each game's result."""
    result = play_match(None, "baseline", games=6, seed=3, board_size=7, max_turns=150, record=range(6))
    return result.history, {o.game: o.result for o in result.outcomes}


def test_text_board_puts_heads_bodies_and_food_where_the_frame_says(games: tuple) -> None:
    history, _ = games
    frames = history[0]
    ids = snake_ids(frames)
    assert ids[0] == "candidate"
    frame = frames[len(frames) // 2]
    rows = text_board(frame, ids).splitlines()
    height = frame["board"]["height"]
    assert len(rows) == height
    cells = [row.split(" ") for row in rows]
    for snake in frame["board"]["snakes"]:
        letter = "ABCDEFGH"[ids.index(snake["id"])]
        head = snake["body"][0]
        assert cells[height - 1 - head["y"]][head["x"]] == letter
        for part in snake["body"][1:]:
            if part != head:
                assert cells[height - 1 - part["y"]][part["x"]] == letter.lower()
    for food in frame["board"]["food"]:
        assert cells[height - 1 - food["y"]][food["x"]] == "*"


def test_render_text_shows_every_turn_and_the_end(games: tuple) -> None:
    history, _ = games
    frames = history[1]
    text = render_text(frames)
    for frame in frames:
        assert f"turn {frame['turn']} " in text
    assert f"game over at turn {frames[-1]['turn']}" in text
    captions = [line.split()[1] for line in render_text(frames, every=5).splitlines() if line.startswith("turn ")]
    expected = [f["turn"] for i, f in enumerate(frames) if i % 5 == 0 or i == len(frames) - 1]
    assert captions == [str(turn) for turn in expected]


def test_key_moment_of_a_lost_game_is_the_last_turn_the_candidate_is_alive(games: tuple) -> None:
    history, results = games
    lost = [game for game, result in results.items() if result == "loss"]
    assert lost, "the default config should lose some of six games to the baseline"
    frames = history[lost[0]]
    moment = key_moment(frames)
    on_board = [any(s["id"] == "candidate" for s in f["board"]["snakes"]) for f in frames]
    assert on_board[moment]
    assert not any(on_board[moment + 1 :])
    won = [game for game, result in results.items() if result == "win"]
    if won:
        assert key_moment(history[won[0]]) == len(history[won[0]]) - 1


def test_board_svg_draws_each_snake_in_its_colour(games: tuple) -> None:
    history, _ = games
    frames = history[2]
    ids = snake_ids(frames)
    frame = frames[0]
    root = ET.fromstring(board_svg(frame, ids=ids, caption="first line\nsecond line"))
    fills = [rect.get("fill") for rect in root.iter(f"{SVG}rect")]
    colors = snake_colors(ids)
    for snake in frame["board"]["snakes"]:
        assert fills.count(colors[snake["id"]]) == len(snake["body"]) + 1  # cells + legend swatch
    heads = [r for r in root.iter(f"{SVG}rect") if r.get("stroke")]
    assert len(heads) == len(frame["board"]["snakes"])
    arrows = list(root.iter(f"{SVG}polygon"))
    assert len(arrows) == len(frame["moves"]) == len(frame["board"]["snakes"])  # each snake's next move
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts[:2] == ["first line", "second line"]
    assert colors["candidate"] != colors[ids[1]]


def test_animated_svg_has_one_animated_group_per_turn(games: tuple) -> None:
    history, _ = games
    frames = history[3]
    root = ET.fromstring(animated_svg(frames))
    groups = [g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}animate") is not None]
    assert len(groups) == len(frames)
    assert [g.get("visibility") for g in groups[:2]] == ["visible", "hidden"]


def test_load_replay_reads_both_shapes_and_rejects_other_json(tmp_path: Path, games: tuple) -> None:
    history, _ = games
    single = tmp_path / "one.json"
    single.write_text(json.dumps(history[0]))
    assert load_replay(single) == history[0]
    several = tmp_path / "history.json"
    several.write_text(json.dumps({str(k): v for k, v in history.items()}))
    assert load_replay(several, game=4) == history[4]
    with pytest.raises(UserError, match="has no game 9"):
        load_replay(several, game=9)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps([{"turn": 0}]))
    with pytest.raises(UserError, match="not a replay: frame 0 lacks"):
        load_replay(wrong)


@pytest.mark.slow
def test_replay_command_prints_boards_writes_svg_and_reports_mistakes(tmp_path: Path) -> None:
    recorded = tmp_path / "history.json"
    played = run_cli(
        ["play", "--games", "2", "--board-size", "7", "--max-turns", "60", "--history", str(recorded), "--json"],
        cwd=tmp_path,
    )
    assert played.returncode == 0, played.stderr
    frames = next(iter(json.loads(recorded.read_text()).values()))

    shown = run_cli(["replay", str(recorded), "--every", "10"], cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("turn 0 ")
    assert f"game over at turn {frames[-1]['turn']}" in shown.stdout

    picture = tmp_path / "out" / "game.svg"
    written = run_cli(["replay", str(recorded), "-o", str(picture)], cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    root = ET.fromstring(picture.read_text())
    assert len(list(root.iter(f"{SVG}animate"))) == len(frames)

    for args, message in (
        ([str(tmp_path / "missing.json")], "cannot read"),
        ([str(recorded), "-o", str(tmp_path / "game.gif")], "only animated SVG"),
        ([str(recorded), "--game", "7"], "has no game 7"),
    ):
        failed = run_cli(["replay", *args], cwd=tmp_path)
        assert failed.returncode == 2
        assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("error: ") and message in failed.stderr


# --------------------------------------------------------------------------- replays by trial


@pytest.fixture(scope="module")
def recorded_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny study run in-process in its own folder (its replays under storage/recorded/replays)."""
    import os

    from _study import write_spec

    from optuna_clank.run.runner import run_study
    from optuna_clank.spec import load_spec

    folder = tmp_path_factory.mktemp("recorded")
    spec = write_spec(folder, "recorded", n_trials=2, games=2, sampler="random", pruner="none")
    here = Path.cwd()
    os.chdir(folder)  # the artifact folders are the run folder's storage/<study>/, as for optimize
    try:
        run_study(load_spec(spec))
    finally:
        os.chdir(here)
    return folder


def test_replay_by_trial_finds_the_trials_game_under_its_readable_name(recorded_study: Path) -> None:
    folder = recorded_study
    listed = run_cli(["replay", "--spec", "recorded.toml", "--list"], cwd=folder)
    assert listed.returncode == 0, listed.stderr
    files = re.findall(r"(storage/recorded/replays/trial-(\d+)-game-\d+-replay\.json)", listed.stdout)
    assert sorted(int(number) for _, number in files) == [0, 1]
    for path, number in files:
        assert (folder / path).is_file()
        shown = run_cli(["replay", "--spec", "recorded.toml", "--trial", number, "--every", "1000"], cwd=folder)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout == render_text(load_replay(folder / path), every=1000)
        by_file = run_cli(["replay", path, "--every", "1000"], cwd=folder)  # the file itself, as before
        assert by_file.stdout == shown.stdout
    readable = sorted(p.name for p in (folder / "storage" / "recorded" / "replays").iterdir())
    assert [name for name in readable if name.endswith(".svg")] and all("." in name for name in readable)


def test_the_trial_note_names_files_that_exist(recorded_study: Path) -> None:
    import optuna
    from _optuna_private import study_id_of
    from optuna_dashboard._note import get_note_from_system_attrs

    from optuna_clank.core.optuna_private import storage_of, trial_id_of
    from optuna_clank.study.storage import open_storage

    study = optuna.load_study(
        study_name="recorded", storage=open_storage(f"sqlite:///{recorded_study / 'storage' / 'recorded.db'}")
    )
    attrs = storage_of(study).get_study_system_attrs(study_id_of(study))
    for trial in study.trials:
        note = get_note_from_system_attrs(attrs, trial_id_of(trial))["body"]
        named = re.findall(r"`(storage/recorded/replays/[^`]+)`", note)
        assert len(named) == 2 and all((recorded_study / name).is_file() for name in named), note
        assert f"`python -m optuna_clank replay --study recorded --trial {trial.number}`" in note


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--trial", "7"], "has no trial 7 (its trials are 0..1)"),
        ([], "give a replay FILE.json, or --study NAME with --trial N (or --list)"),
        (["--trial", "0", "--list"], "give a replay FILE.json, or --study NAME with --trial N (or --list)"),
        (["--trial", "0", "--game", "1"], "--game picks a game of a 'play --history' file"),
    ],
)
def test_replay_by_trial_mistakes_are_one_line(recorded_study: Path, args: list[str], expected: str) -> None:
    from test_bad_input import one_error_line

    assert expected in one_error_line(run_cli(["replay", "--spec", "recorded.toml", *args], cwd=recorded_study))
