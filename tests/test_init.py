"""``init``: a ready go-battleclank study and a snake file for the real binary, or one ``error:`` line.

The command runs as a user runs it (a subprocess in a fresh folder); the files it writes are then
read back by the same loaders ``optimize`` and ``validate --snake`` use.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from _study import run_cli
from test_bad_input import alias_bomb, one_error_line

from optuna_clank.cli.bot_init import TEMPLATE_STUDY, default_name, study_spec_text, template_spec
from optuna_clank.spec import find_spec, load_spec
from optuna_clank.trial.snake_file import load_snake_file

CONFIG = "weights:\n  space: 1000.0\n  head_collision: 500.0\nfood_weights:\n  healthy_ceiling: 359\n"


def _bot(folder: Path, name: str = "go-battleclank") -> Path:
    bot = folder / name
    bot.write_text("#!/bin/sh\nexit 0\n")
    bot.chmod(bot.stat().st_mode | stat.S_IXUSR)
    return bot


def test_init_writes_a_ready_study_and_a_snake_file_and_says_what_to_run(tmp_path: Path) -> None:
    bots = tmp_path / "bots"
    bots.mkdir()
    bot = _bot(bots)
    (bots / "config.yaml").write_text(CONFIG)
    work = tmp_path / "work"
    work.mkdir()

    result = run_cli(["init", "--bot", "../bots/go-battleclank", "--config", "../bots/config.yaml"], cwd=work)

    assert result.returncode == 0, result.stderr
    study_file, snake_file = work / "studies" / "go-battleclank.toml", work / "snakes" / "go-battleclank.toml"
    spec = load_spec(study_file)
    assert find_spec("go-battleclank", cwd=work) == study_file  # `--study go-battleclank` finds it
    assert spec.name == "go-battleclank" and spec.snake.builtin == "gbc"
    assert spec.snake.base_config == (bots / "config.yaml").resolve()  # absolute: the config where it is
    shipped = load_spec(template_spec())
    assert spec.search_space == shipped.search_space and spec.benchmark == shipped.benchmark
    assert spec.parallel.n_jobs == "auto"
    snake = load_snake_file(snake_file).snake
    assert snake.command == (str(bot.resolve()),)  # the binary where it is: nothing copied
    assert dict(snake.env) == {"PORT": "{port}", "BATTLESNAKE_CONFIG": "{config}"}
    assert snake.base_config == (bots / "config.yaml").resolve()
    assert not (work / "go-battleclank").exists()
    lines = result.stdout.splitlines()
    start = lines.index("next:")
    assert [line.strip() for line in lines[start + 1 :]] == [
        "python -m optuna_clank optimize --study go-battleclank",
        "python -m optuna_clank validate --study go-battleclank --snake snakes/go-battleclank.toml --games 200",
        "python -m optuna_clank export --study go-battleclank -o tuned.yaml",
    ]

    again = run_cli(["init", "--bot", "../bots/go-battleclank", "--config", "../bots/config.yaml"], cwd=work)
    assert "already exist; pass --force to overwrite" in one_error_line(again)
    forced = run_cli(
        ["init", "--bot", "../bots/go-battleclank", "--config", "../bots/config.yaml", "--force"], cwd=work
    )
    assert forced.returncode == 0, forced.stderr


def _refused(tmp_path: Path, args: list[str]) -> str:
    return one_error_line(run_cli(["init", *args], cwd=tmp_path))


def test_init_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    _bot(tmp_path)
    (tmp_path / "config.yaml").write_text(CONFIG)
    (tmp_path / "plain").write_text("not executable")
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "other.yaml").write_text("colour: green\nsize: 3\n")
    (tmp_path / "undecodable.yaml").write_text("weights:\n  space: lots\n")
    bot = ["--bot", "./go-battleclank"]

    assert "--bot missing: no such file" in _refused(tmp_path, ["--bot", "./missing", "--config", "config.yaml"])
    assert "not executable" in _refused(tmp_path, ["--bot", "plain", "--config", "config.yaml"])
    assert "--config nothere.yaml: no such file" in _refused(tmp_path, [*bot, "--config", "nothere.yaml"])
    assert "aliases expand" in _refused(tmp_path, [*bot, "--config", "bomb.yaml"])
    assert "is empty" in _refused(tmp_path, [*bot, "--config", "empty.yaml"])
    assert "not a mapping" in _refused(tmp_path, [*bot, "--config", "list.yaml"])
    assert "names none of go-battleclank's config keys" in _refused(tmp_path, [*bot, "--config", "other.yaml"])
    assert "go-battleclank cannot decode" in _refused(tmp_path, [*bot, "--config", "undecodable.yaml"])
    assert "a study name uses only" in _refused(tmp_path, [*bot, "--config", "config.yaml", "--name", "my bot"])
    assert not (tmp_path / "studies").exists() and not (tmp_path / "snakes").exists()  # nothing written


def test_the_study_is_the_shipped_template_with_three_edits(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    template = template_spec()
    assert template.stem == TEMPLATE_STUDY
    text = study_spec_text(template.read_text(), name="mine", config=config, bot=tmp_path / "bot", stamp="then")
    path = tmp_path / "mine.toml"
    path.write_text(text)
    spec, shipped = load_spec(path), load_spec(template)
    assert spec.name == "mine" and spec.snake.base_config == config
    for section in ("benchmark", "sampler", "pruner", "parallel", "validation", "checkpoint", "search_space"):
        assert getattr(spec, section) == getattr(shipped, section), section
    assert text.count("base_config =") == 1  # the template's commented examples are gone


@pytest.mark.parametrize(
    ("file", "name"),
    [("go-battleclank", "go-battleclank"), ("my bot!", "my-bot"), ("!!", "mybot"), ("bot.toml", "bot")],
)
def test_the_default_name_is_the_binarys(file: str, name: str) -> None:
    assert default_name(Path("/x") / file) == name
