"""Hostile and broken input files: one ``error:`` line, exit status 2, and nothing else.

Every case runs the real command line in a subprocess. The subprocess timeout is only a
safety net for the hangs these tests guard against (an alias bomb used to build the repr of
a 387-million-element list); no assertion depends on how fast anything runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _study import run_cli

from optuna_clank.core.userfiles import MAX_FILE_BYTES, UserFileError, parse_yaml, short_repr

SAFETY_TIMEOUT_S = 120


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """A few hundred bytes of YAML under ``weights.food`` that expand to width**levels values."""
    rows = ["&a0 [" + ",".join(["x"] * width) + "]"]
    for level in range(1, levels):
        rows.append(f"&a{level} [" + ",".join([f"*a{level - 1}"] * width) + "]")
    return "weights:\n  food: [" + ",".join(rows) + "]\n"


def one_error_line(result: object) -> str:
    """The single stderr line of a refused command (asserting that it is one, exit 2)."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    return lines[0]


def spec_text(name: str, benchmark: str) -> str:
    return f'[study]\nname = "{name}"\nn_trials = 2\n\n[benchmark]\n{benchmark}\n'


def test_alias_bomb_is_small_and_huge() -> None:
    """The fixture really is the issue's bomb: a few hundred bytes, and plain PyYAML expands it."""
    import yaml

    assert len(alias_bomb()) < 400
    food = yaml.safe_load(alias_bomb())["weights"]["food"]  # shared references: cheap to build
    assert len(food[-1]) == 9 and len(food[-1][0][0][0][0][0][0][0]) == 9


def test_alias_bomb_in_play_config(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    result = run_cli(["play", "--config", "bomb.yaml", "--games", "2"], cwd=tmp_path, timeout=SAFETY_TIMEOUT_S)
    line = one_error_line(result)
    assert "bomb.yaml" in line and "aliases expand" in line


def test_alias_bomb_as_spec_base_config_and_opponent(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    (tmp_path / "base.toml").write_text(spec_text("b1", 'base_config = "bomb.yaml"'))
    (tmp_path / "opp.toml").write_text(spec_text("b2", 'opponents = ["bomb.yaml"]'))
    for spec in ("base.toml", "opp.toml"):
        result = run_cli(["status", "--spec", spec], cwd=tmp_path, timeout=SAFETY_TIMEOUT_S)
        line = one_error_line(result)
        assert spec in line and "aliases expand" in line


def test_alias_bomb_as_play_opponent(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    result = run_cli(["play", "--opponent", "bomb.yaml", "--games", "2"], cwd=tmp_path, timeout=SAFETY_TIMEOUT_S)
    assert "aliases expand" in one_error_line(result)


def test_modest_aliases_still_work() -> None:
    """Anchors are legitimate YAML; only expansion beyond the budget is refused."""
    data = parse_yaml("weights:\n  space: &s 3.5\n  food: *s\n")
    assert data == {"weights": {"space": 3.5, "food": 3.5}}
    with pytest.raises(UserFileError, match="aliases expand"):
        parse_yaml(alias_bomb(levels=6, width=9))  # 531,441 values


def test_a_value_shown_in_a_message_is_bounded() -> None:
    huge = [list(range(1000))] * 1000
    shown = short_repr(huge)
    assert len(shown) < 200 and shown.startswith("[[0, 1, 2, 3, ...")
    assert len(short_repr("k" * 10_000)) < 100


def test_wrong_type_from_a_long_list_shows_a_short_value(tmp_path: Path) -> None:
    (tmp_path / "long.yaml").write_text("weights:\n  food: [" + ", ".join(["1"] * 50_000) + "]\n")
    line = one_error_line(run_cli(["play", "--snake", "heuristic", "--config", "long.yaml"], cwd=tmp_path))
    assert "'weights.food' must be a number" in line and len(line) < 300
    line = one_error_line(run_cli(["play", "--config", "long.yaml"], cwd=tmp_path))  # go-battleclank's reading
    assert "go-battleclank cannot decode" in line and "weights.food" in line and len(line) < 300


def test_binary_config_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bin.yaml").write_bytes(bytes(range(256)) * 4)
    line = one_error_line(run_cli(["play", "--config", "bin.yaml"], cwd=tmp_path))
    assert "bin.yaml" in line and "not UTF-8 text" in line


def test_binary_spec_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00garbage" * 100)
    line = one_error_line(run_cli(["status", "--spec", "bin.toml"], cwd=tmp_path))
    assert "bin.toml" in line and "not UTF-8 text" in line


def test_oversized_config_and_spec_are_refused_before_parsing(tmp_path: Path) -> None:
    keys = "".join(f"k{i}: {i}\n" for i in range(MAX_FILE_BYTES // 8))
    assert len(keys) > MAX_FILE_BYTES
    (tmp_path / "big.yaml").write_text(keys)
    (tmp_path / "big.toml").write_text(keys.replace(":", " ="))
    line = one_error_line(run_cli(["play", "--config", "big.yaml"], cwd=tmp_path))
    assert "big.yaml" in line and "larger than 1 MiB" in line
    line = one_error_line(run_cli(["status", "--spec", "big.toml"], cwd=tmp_path))
    assert "big.toml" in line and "larger than 1 MiB" in line


@pytest.mark.parametrize("content", ["", "\n# only a comment\n", "---\n"])
def test_empty_config_is_refused_not_played_as_the_default(tmp_path: Path, content: str) -> None:
    (tmp_path / "empty.yaml").write_text(content)
    line = one_error_line(run_cli(["play", "--config", "empty.yaml", "--games", "2"], cwd=tmp_path))
    assert "empty.yaml" in line and "empty config" in line


def test_explicit_empty_mapping_plays_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "defaults.yaml").write_text("{}\n")
    result = run_cli(["play", "--config", "defaults.yaml", "--games", "2", "--json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_deeply_nested_yaml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("weights:\n  food: " + "[" * 5000 + "]" * 5000 + "\n")
    line = one_error_line(run_cli(["play", "--config", "deep.yaml"], cwd=tmp_path))
    assert "deep.yaml" in line


def test_a_long_opponent_name_is_shown_short(tmp_path: Path) -> None:
    line = one_error_line(run_cli(["play", "--opponent", "x" * 5000, "--games", "2"], cwd=tmp_path))
    assert "unknown opponent 'xxx" in line and len(line) < 300
