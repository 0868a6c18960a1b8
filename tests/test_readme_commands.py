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

from optuna_clank.cli import build_parser

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
        "--games": ["10"],
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
    source = (Path(__file__).resolve().parents[1] / "optuna_clank" / "_cli_study.py").read_text()
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
