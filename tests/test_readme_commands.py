"""Every command and flag the README shows is one the command line accepts.

The README is what a new user copies from; a flag it names that the parser rejects
("unrecognized arguments: --no-llm") is a broken first ten minutes. The commands are parsed
by the real parser (``build_parser().parse_args``), so nothing runs.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from optuna_clank.cli.main import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"
PREFIX = "python -m optuna_clank "
_SHELL_OPERATOR = re.compile(r"\s(?:&&|\|\||\||;|<|>|2>)(?=\s)")


def _joined_lines(text: str) -> list[str]:
    """README lines with shell continuations (a trailing backslash) joined."""
    return text.replace("\\\n", " ").splitlines()


def readme_commands() -> list[str]:
    """The argument part of every ``python -m optuna_clank ...`` command and usage-table row."""
    commands: list[str] = []
    for line in _joined_lines(README.read_text()):
        for part in line.split(PREFIX)[1:]:  # every command of the line, e.g. both sides of `&&`
            rest = part.split("`", 1)[0].split("#", 1)[0]
            rest = _SHELL_OPERATOR.split(rest, maxsplit=1)[0]  # redirections and pipes are the shell's
            commands.append(rest.strip())
        row = re.match(r"^\| `([a-z]+(?: [^`]*)?)` \|", line)
        if row:
            commands.append(row[1].replace("[", "").replace("]", "").strip())
    return commands


def readme_optimize_flags() -> list[str]:
    """The flags listed in the README's "`optimize` options override the spec" paragraph."""
    text = " ".join(README.read_text().split())
    paragraph = re.search(r"`optimize` options override the spec:(.*?)\.\s", text)
    assert paragraph, "the README lists optimize's options"
    flags: list[str] = []
    for code in re.findall(r"`([^`]+)`", paragraph[1]):
        flags.extend(part.split()[0] for part in code.split("/"))
    return flags


def test_the_readme_shows_commands_and_flags() -> None:
    commands = readme_commands()
    assert len(commands) >= 15
    assert {c.split()[0] for c in commands} >= {"optimize", "status", "validate", "export", "play", "worker"}
    assert "--no-llm" in readme_optimize_flags() and "--no-neural-net" in readme_optimize_flags()


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_parses(command: str) -> None:
    try:
        build_parser().parse_args(shlex.split(command))
    except SystemExit as exc:
        pytest.fail(f"the README's `python -m optuna_clank {command}` is rejected (exit {exc.code})")


@pytest.mark.parametrize("flag", readme_optimize_flags())
def test_every_optimize_flag_in_the_readme_is_accepted(flag: str) -> None:
    values = {
        "--storage": ["sqlite:///x.db"],
        "--n-trials": ["5"],
        "--timeout": ["60"],
        "--n-jobs": ["2"],
        "--trials-in-flight": ["4"],
        "--games": ["10"],
        "--round-size": ["5"],
        "--base-config": ["my.yaml"],
        "--seed": ["3"],
        "--checkpoint-interval": ["5"],
        "--llm-model": ["openai/m"],
        "--llm-api-base": ["http://127.0.0.1:1/v1"],
        "--sampler": ["tpe"],
        "--pruner": ["none"],
        "--backend": ["threading"],
        "--dask-scheduler": ["tcp://127.0.0.1:8786"],
    }
    argv = ["optimize", "--study", "v2", flag, *values.get(flag, [])]
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"README flag {flag} is rejected by optimize (exit {exc.code})")


def test_both_spellings_of_the_switches_mean_the_same() -> None:
    parser = build_parser()
    for short, long in (("--no-llm", "--no-use-llm"), ("--no-neural-net", "--no-use-neural-net")):
        a = parser.parse_args(["optimize", "--study", "v2", short])
        b = parser.parse_args(["optimize", "--study", "v2", long])
        assert vars(a) == vars(b)
    args = parser.parse_args(["optimize", "--study", "v2", "--no-llm", "--no-neural-net"])
    assert args.use_llm is False and args.use_neural_net is False


def test_the_no_llm_warning_names_a_flag_the_parser_accepts() -> None:
    source = (Path(__file__).resolve().parents[1] / "optuna_clank" / "cli" / "optimize.py").read_text()
    advised = re.findall(r"pass (--[a-z-]+)", source)
    assert advised
    for flag in advised:
        build_parser().parse_args(["optimize", "--study", "v2", flag])


def test_help_texts_show_no_doubled_percent_signs() -> None:
    parser = build_parser()
    commands = ["play", "params", "optimize", "worker", "validate", "status", "export", "dashboard"]
    texts = [parser.format_help()]
    for name in commands:
        subparser = parser._subparsers._group_actions[0].choices[name]  # type: ignore[union-attr]
        texts.append(subparser.format_help())
    for name, text in zip(["main", *commands], texts, strict=True):
        assert "%%" not in text, name
    assert "95% interval" in texts[1]


def test_worker_has_no_options_that_do_nothing() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["worker", "--study", "v2", "--checkpoint-interval", "5"])


def test_the_cpu_build_comes_before_the_set_up_command() -> None:
    """A newcomer without a GPU reads the torch choice before pasting the set-up line."""
    text = README.read_text()
    setup = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[dev]' "
        "&& python -m optuna_clank optimize --study v2"
    )
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    assert blocks[0].strip() == setup and blocks[1].strip() == "nox -s tests"
    cpu_hint = text.find("+cpu")
    assert 0 <= cpu_hint < text.find(setup)


def test_every_environment_variable_the_tests_read_is_documented() -> None:
    tests = Path(__file__).resolve().parent
    names = {name for path in tests.glob("*.py") for name in re.findall(r"OPTUNA_CLANK_[A-Z_]+", path.read_text())}
    names.discard("OPTUNA_CLANK_")
    text = README.read_text()
    assert {"OPTUNA_CLANK_RULES_CASES", "OPTUNA_CLANK_SHARED_DATA"} <= names
    assert sorted(name for name in names if name not in text) == []


# --------------------------------------------------------------------------- the go-battleclank section, run

GBC_SECTION = "### Your config, from `init` to the real binary"
TEST_SIZES = {
    "optimize": ["--n-trials", "2", "--games", "4", "--n-jobs", "1"],
    "validate": ["--games", "4", "--top", "1"],
    "probe": ["--positions", "20"],
    "fidelity": ["--positions", "40"],
}
"""Appended to a command (the last flag wins) so that the section runs in minutes; nothing else changes."""
_SHELL_PART = re.compile(r"\s(?=(?:<|>|\||&&|;|#))")

STUB_BINARY = '''#!{python}
"""Stands in for the go-battleclank binary: a loopback snake server on $PORT that plays the gbc stand-in
with the YAML named by $BATTLESNAKE_CONFIG, as the real bot reads both."""
import os
import sys

os.execv(sys.executable, [sys.executable, "-m", "optuna_clank", "serve", "--snake", "gbc",
                          "--config", os.environ["BATTLESNAKE_CONFIG"], "--port", os.environ["PORT"]])
'''


def gbc_section_commands() -> list[str]:
    """The ``python -m optuna_clank`` lines of the go-battleclank section's shell blocks, in order."""
    section = README.read_text().split(GBC_SECTION, 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    return [line.strip() for block in blocks for line in _joined_lines(block) if line.strip().startswith(PREFIX)]


def _sized(line: str, extra: list[str]) -> str:
    """``line`` with ``extra`` flags after the command's own arguments (before redirections and comments)."""
    command, *rest = _SHELL_PART.split(line, maxsplit=1)
    return " ".join([command, *extra, *rest])


def _bot_config(folder: Path) -> Path:
    """The bot's own YAML where the shared data has it, else its built-in defaults written out."""
    from _shared import SHARED_DATA

    from optuna_clank.arena.snakes.gbc.schema import default_gbc_config, dump_gbc_yaml

    path = folder / "config.yaml"
    shared = SHARED_DATA / "go-battleclank-config.yaml"
    path.write_text(shared.read_text() if shared.is_file() else dump_gbc_yaml(default_gbc_config()))
    return path


@pytest.mark.slow  # the section's commands in subprocesses, a server per config: nox -s e2e
def test_the_go_battleclank_section_runs_as_written_against_a_stub_binary(tmp_path: Path) -> None:
    import json
    import os
    import stat
    import subprocess
    import sys

    from _study import cli_env

    from optuna_clank.inspect.positions import recorded_positions

    commands = gbc_section_commands()
    names = [command.split()[3] for command in commands]
    assert names[:4] == ["init", "optimize", "validate", "export"]  # the section starts from init
    assert {"fidelity", "moves", "probe"} <= set(names)
    bot = tmp_path / "go-battleclank"
    bot.write_text(STUB_BINARY.format(python=sys.executable))
    bot.chmod(bot.stat().st_mode | stat.S_IXUSR)
    _bot_config(tmp_path)
    requests = recorded_positions(12, seed=3)
    (tmp_path / "requests.jsonl").write_text("".join(json.dumps(r) + "\n" for r in requests))
    env = cli_env()
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # `python` is this one

    out: dict[str, str] = {}
    for command, name in zip(commands, names, strict=True):
        line = _sized(command, TEST_SIZES.get(name, []))
        run = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert run.returncode == 0, f"{line}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
        out[name] = run.stdout

    assert "python -m optuna_clank validate --study go-battleclank --snake snakes/go-battleclank.toml" in out["init"]
    assert f"played by server {bot} (one process per config)" in out["validate"]
    assert "{port}" not in out["validate"] + out["fidelity"]
    assert (tmp_path / "tuned.yaml").is_file() and not (tmp_path / "snakes" / "go-battleclank").exists()
    assert re.search(r"^  all\s+100\.0%", out["fidelity"], re.MULTILINE), out["fidelity"]  # the stub is the stand-in
    assert len(out["moves"].split()) == len(requests)
