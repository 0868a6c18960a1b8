"""Tuning go-battleclank through ``gbc``: its ``[snake]`` spec, a real study and export, and probe's dead keys.

The bot's own YAML is read in place from ``../shared/data/go-battleclank-config.yaml`` (skipped where absent).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from _shared import SHARED_DATA

from optuna_clank.arena.snakes.gbc.player import UNMODELLED_KEYS
from optuna_clank.arena.snakes.gbc.schema import (
    GBC_KEYS,
    GREEDY_DEAD_KEYS,
    GREEDY_INERT_KEYS,
    GREEDY_READ_KEYS,
    inert_keys,
    load_gbc_yaml,
)
from optuna_clank.inspect.positions import recorded_positions
from optuna_clank.inspect.probe import probe, probe_keys_of
from optuna_clank.inspect.snake_target import BuiltinTarget
from optuna_clank.spec import SpecError, load_spec
from tests._study import cli_env, run_cli

REPO = Path(__file__).resolve().parents[1]
BOT_YAML = SHARED_DATA / "go-battleclank-config.yaml"

SPEC = """
[study]
name = "gbc-t"
n_trials = {trials}
[benchmark]
opponents = ["baseline"]
games_per_trial = 2
[sampler]
name = "random"
seed = 3
[parallel]
n_jobs = 1
backend = "threading"
[checkpoint]
interval = 1
[snake]
builtin = "gbc"
{base}
[search_space]
{space}
"""
SPACE = (
    '"weights.straight_movement" = { low = 5.0, high = 500.0, log = true }\n'
    '"search.max_depth" = { low = 20, high = 121 }'
)


def write_spec(folder: Path, *, base: str = 'base_config = "bot.yaml"', space: str = SPACE, trials: int = 2) -> Path:
    path = folder / "gbc-t.toml"
    path.write_text(SPEC.format(base=base, space=space, trials=trials))
    return path


def test_a_gbc_spec_reads_the_bots_keys_with_their_types(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text("weights:\n  straight_movement: 40\n")
    spec = load_spec(write_spec(tmp_path))

    assert spec.snake.builtin == "gbc" and spec.snake.base_config == tmp_path / "bot.yaml"
    by_name = {p.name: p for p in spec.search_space}
    assert not by_name["weights.straight_movement"].is_int
    assert by_name["search.max_depth"].is_int  # an int field of the bot's struct is tuned as an int
    assert load_spec(write_spec(tmp_path, base="")).snake.base_config is None  # the bot's defaults


@pytest.mark.parametrize(
    ("base", "space", "expected"),
    [
        ("", '"weights.straight_move" = { low = 1.0, high = 2.0 }', "(did you mean 'weights.straight_movement'?)"),
        ("", '"search.use_astar" = { low = 0, high = 1 }', "is a bool in go-battleclank's config"),
        ("", '"search.max_depth" = { low = 20, high = 121, int = false }', "go-battleclank reads it as an integer"),
        ("", '"weights.space" = { low = 1, high = 2, int = true }', "go-battleclank reads it as a float"),
        ("", '"weights.space" = { low = 1.0 }', "needs high"),
        ('base_config = "missing.yaml"', SPACE, "[snake] base_config:"),
        ('base_config = "typo.yaml"', SPACE, "go-battleclank cannot decode weights.space"),
    ],
)
def test_a_gbc_spec_refuses_what_the_bot_cannot_take(tmp_path: Path, base: str, space: str, expected: str) -> None:
    (tmp_path / "typo.yaml").write_text("weights:\n  space: lots\n")
    with pytest.raises(SpecError) as err:
        load_spec(write_spec(tmp_path, base=base, space=space))
    assert expected in str(err.value)


def test_a_gbc_base_config_is_the_snake_sections_and_overrides_go_there(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text("weights:\n  space: 3\n")
    (tmp_path / "other.yaml").write_text("weights:\n  space: 4\n")
    spec_path = write_spec(tmp_path)
    text = spec_path.read_text().replace("[benchmark]\n", '[benchmark]\nbase_config = "bot.yaml"\n')
    spec_path.write_text(text)
    with pytest.raises(SpecError, match=r"\[benchmark\] base_config: .*gbc's base config is \[snake\] base_config"):
        load_spec(spec_path)

    spec = load_spec(write_spec(tmp_path))
    assert spec.with_overrides(base_config=str(tmp_path / "other.yaml")).snake.base_config == tmp_path / "other.yaml"
    assert spec.with_overrides(base_config="default").snake.base_config is None


def test_a_gbc_study_exports_a_yaml_naming_every_key_of_the_bot(tmp_path: Path) -> None:
    # The base lacks most keys: the bot reads them as 0, and the export must say so explicitly.
    (tmp_path / "bot.yaml").write_text("weights:\n  space: 7.5\n  straight_movement: 40\nsearch:\n  max_depth: 90\n")
    spec = write_spec(tmp_path)

    run = run_cli(["optimize", "--spec", str(spec), "--quiet"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "tuned.yaml"
    run = run_cli(["export", "--spec", str(spec), "-o", str(out)], cwd=tmp_path)
    assert run.returncode == 0, run.stderr

    exported = yaml.safe_load(out.read_text())
    assert sorted(f"{s}.{k}" for s, body in exported.items() for k in body) == sorted(k.name for k in GBC_KEYS)
    read = load_gbc_yaml(out.read_text())
    assert not read.type_errors and not read.unknown_keys
    base = load_gbc_yaml((tmp_path / "bot.yaml").read_text())
    tuned = {"weights.straight_movement", "search.max_depth"}
    assert all(read[k.name] == base[k.name] for k in GBC_KEYS if k.name not in tuned)
    assert read["weights.space"] == 7.5 and read["traps.food_trap"] == 0.0  # kept; missing read as 0
    assert isinstance(read["search.max_depth"], int) and 20 <= read["search.max_depth"] <= 121
    assert 5.0 <= read["weights.straight_movement"] <= 500.0
    # The checkpoint (every finished trial here) is a full YAML too.
    checkpoints = list((tmp_path / "storage" / "gbc-t").glob("best-*.yaml"))
    assert len(checkpoints) == 1
    assert dict(load_gbc_yaml(checkpoints[0].read_text())) == dict(read)

    # Validated, with no trial shown better on 4 games, the best is the base config: all its keys, as read.
    run = run_cli(["validate", "--spec", str(spec), "--top", "1", "--games", "4"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    run = run_cli(["export", "--spec", str(spec), "-o", str(out)], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "the base config" in run.stderr
    assert dict(load_gbc_yaml(out.read_text())) == dict(base)


def test_probe_on_gbc_finds_dead_exactly_the_keys_the_source_says(tmp_path: Path) -> None:
    if not BOT_YAML.is_file():
        pytest.skip(f"the bot's config is not here: {BOT_YAML}")
    config = load_gbc_yaml(BOT_YAML.read_text())
    target = BuiltinTarget("gbc", BOT_YAML)
    requests = recorded_positions(200, seed=1, board_size=(11, 11), opponents=["baseline"])
    keys = probe_keys_of(target, None)
    results, _ = probe(target, keys, requests)
    dead = {r.key.name for r in results if not r.live}
    live = {r.key.name for r in results if r.live}
    numeric = {k.name for k in GBC_KEYS if k.kind in (int, float)}
    assert dead | live == numeric

    assert live <= GREEDY_READ_KEYS  # nothing the bot's /move never reads changes a move
    assert numeric & set(GREEDY_DEAD_KEYS) <= dead
    inert = inert_keys(config)
    # The documented inert cases under the bot's own YAML: the space_reduction keys (under any config);
    # weights.space and the healthy multiplier, since the YAML lacks the base and enemy multipliers (0);
    # the ceiling weight, since its healthy_ceiling of 359 is never reached; and A*'s node budget.
    expected = GREEDY_INERT_KEYS | {
        "weights.space",
        "weights.space_healthy_multiplier",
        "food_weights.healthy_ceiling_weight",
    }
    assert inert == expected
    assert inert | UNMODELLED_KEYS <= dead
    # read as 0, live once set (probe pushes it to 1); it only matters with no enemy near and low health or
    # little space, which 200 positions of games against the Rust baseline do not hold: 800 do
    more = recorded_positions(800, seed=1, board_size=(11, 11), opponents=["baseline"])
    (base_multiplier,), _ = probe(target, probe_keys_of(target, ["weights.space_base_multiplier"]), more)
    assert base_multiplier.live

    # Set a multiplier, and weights.space is no longer inert: it changes moves.
    with_multiplier = tmp_path / "with-multiplier.yaml"
    own = BOT_YAML.read_text()
    with_multiplier.write_text(own.replace("\nweights:\n", "\nweights:\n  space_base_multiplier: 1.5\n"))
    assert "weights.space" not in inert_keys(load_gbc_yaml(with_multiplier.read_text()))
    other = BuiltinTarget("gbc", with_multiplier)
    (space,), _ = probe(other, probe_keys_of(other, ["weights.space"]), more)
    assert space.live


def test_probe_command_on_gbc_with_the_bots_config_lists_its_dead_keys(tmp_path: Path) -> None:
    if not BOT_YAML.is_file():
        pytest.skip(f"the bot's config is not here: {BOT_YAML}")
    keys = ["weights.straight_movement", "pursuit.distance_2", "weights.space", "traps.space_reduction_60"]
    run = run_cli(
        ["probe", "--snake", "gbc", "--config", str(BOT_YAML), "--keys", *keys, "--positions", "60", "--json"],
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["live"] == ["weights.straight_movement"]
    assert report["dead"] == keys[1:]
    assert '"weights.straight_movement" = { low = 0.0, high = 209.6 }' in report["search_space"]


def test_moves_answers_with_gbc_under_a_yaml_of_the_bots(tmp_path: Path) -> None:
    from optuna_clank.arena.move_oracle import answer_moves
    from optuna_clank.arena.opponents import make_opponent

    (tmp_path / "bot.yaml").write_text("weights:\n  straight_movement: 400\n  center_control: 1\n")
    requests = recorded_positions(12, seed=2, board_size=(11, 11), opponents=["baseline"])
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    run = subprocess.run(
        [sys.executable, "-m", "optuna_clank", "moves", "--snake", "gbc", "--config", "bot.yaml"],
        input=lines,
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    mine = answer_moves(make_opponent(f"gbc:{tmp_path / 'bot.yaml'}"), requests)
    defaults = answer_moves("gbc", requests)
    assert run.stdout.split() == mine
    assert mine != defaults  # the YAML was read (missing keys 0), not the bot's defaults
