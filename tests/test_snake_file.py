"""A snake file is not a study: ``--snake FILE.toml`` takes a file with only ``[snake]`` (or a whole spec).

The snake here is a small loopback server (no torch: it answers ``up``) that keeps a copy of the config
it was started with, so the tests see exactly which values reached the bot: the validated trial's
parameters on the base config, whatever the file's own search space says.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from _servers import run_with_stdin
from _study import load, run_cli, write_spec
from test_bad_input import one_error_line

from optuna_clank.arena.config import default_config, with_values
from optuna_clank.core.errors import UserError
from optuna_clank.run.runner import run_study
from optuna_clank.spec import load_spec
from optuna_clank.trial.snake_file import load_snake_file

STUB = textwrap.dedent(
    """
    import http.server, json, os, shutil, sys

    seen, port = sys.argv[1], int(os.environ["PORT"])
    shutil.copy(os.environ["BATTLESNAKE_CONFIG"], os.path.join(seen, f"{port}.yaml"))

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, body):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._send({"apiversion": "1"})

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self._send({"move": "up"} if self.path == "/move" else {})

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)

SNAKE = """[snake]
command = {command}
env = {{ PORT = "{{port}}", BATTLESNAKE_CONFIG = "{{config}}" }}
url = "http://127.0.0.1:{{port}}"
{base}
"""


def _snake_file(folder: Path, *, base: str = "", extra: str = "") -> tuple[Path, Path]:
    """A snake file starting the stub, and the folder where the stub leaves each config it was given."""
    (folder / "stub.py").write_text(STUB)
    seen = folder / "seen"
    seen.mkdir(exist_ok=True)
    command = json.dumps([sys.executable, "stub.py", str(seen)])  # relative to the snake file's folder
    path = folder / "bot.toml"
    path.write_text(extra + SNAKE.format(command=command, base=base))
    return path, seen


def test_a_file_with_only_a_snake_section_is_read_and_others_are_refused_in_one_line(tmp_path: Path) -> None:
    path, _ = _snake_file(tmp_path)
    read = load_snake_file(path)
    assert read.snake.is_server and read.spec is None and read.search_space == ()
    assert read.snake.cwd == tmp_path  # the command is found from the file's folder
    assert "{port}" not in read.snake.describe() and read.snake.describe().startswith("server ")

    def refused(text: str) -> str:
        (tmp_path / "x.toml").write_text(text)
        with pytest.raises(UserError) as error:
            load_snake_file(tmp_path / "x.toml")
        return str(error.value)

    assert "a snake file holds only a [snake] section, found 'search_space'" in refused(
        path.read_text() + '[search_space]\n"a.b" = { low = 0, high = 1 }\n'
    )
    assert "no [snake] section" in refused("")
    assert "[snake] 'comand': unknown key (did you mean 'command'?)" in refused('[snake]\ncomand = "x"\n')
    with pytest.raises(UserError, match="no such snake file"):
        load_snake_file(tmp_path / "missing.toml")


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A tiny heuristic study with a few trials, run in-process; its spec and folder."""
    folder = tmp_path_factory.mktemp("snake-file")
    spec = write_spec(folder, "tuned", n_trials=3, games=2, sampler="random", pruner="none")
    run_study(load_spec(spec), storage_url=f"sqlite:///{folder / 'storage' / 'tuned.db'}")
    return spec, folder


def _validate(spec: Path, folder: Path, snake: Path) -> str:
    result = run_cli(
        ["validate", "--spec", str(spec), "--snake", str(snake), "--top", "3", "--games", "2", "--seed", "5"],
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _seen(seen: Path) -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted(seen.glob("*.yaml"))]


def test_validate_on_a_snake_only_file_plays_the_trials_parameters_on_the_studys_base(
    tuned: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, folder = tuned
    snake, seen = _snake_file(tmp_path)
    out = _validate(spec, folder, snake)
    assert "{port}" not in out and "{config}" not in out
    assert "played by server" in out and "(one process per config)" in out
    assert "each config: the trial's parameters set on the study's base config (the built-in default config)" in out
    numbers = [int(n) for n in re.findall(r"^  trial (\d+)\s+win rate", out, re.MULTILINE)]
    assert sorted(numbers) == [1, 2]  # of the 3 trials, trial 0 plays the base config's own values
    assert "trial 0 has the base config's parameters: it is the base config, not re-played as a trial" in out
    trials = load("tuned", f"sqlite:///{folder / 'storage' / 'tuned.db'}").trials
    configs = _seen(seen)
    assert len(configs) == 3  # one server per config: the base and the two trials
    assert default_config() in configs  # the base config itself
    for number in numbers:
        assert with_values(default_config(), trials[number].params) in configs


def test_a_study_spec_as_snake_file_sends_the_trials_values_whatever_its_search_space_says(
    tuned: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, folder = tuned
    (tmp_path / "base.yaml").write_text("mine:\n  kept: 7\nweights:\n  space: 3.0\n")
    whole_spec = '[study]\nname = "other"\n[search_space]\n"mine.other_key" = { low = 0.0, high = 1.0 }\n'
    snake, seen = _snake_file(tmp_path, base='base_config = "base.yaml"', extra=whole_spec)
    out = _validate(spec, folder, snake)
    assert f"each config: the trial's parameters set on {tmp_path / 'base.yaml'}; bot.toml's [search_space]" in out
    tuned_names = {p.name for p in load_spec(spec).search_space}
    configs = _seen(seen)
    base = {"mine": {"kept": 7}, "weights": {"space": 3.0}}
    assert base in configs  # the base as it is
    trials = [c for c in configs if c != base]
    assert len(trials) == 2
    for trial in trials:
        assert trial["mine"] == {"kept": 7}  # the file's own search space ("mine.other_key") reaches nothing
        flat = {f"{section}.{key}" for section, values in trial.items() for key in values}
        assert flat == tuned_names | {"mine.kept"}


def test_moves_takes_a_snake_file_and_a_bad_one_is_one_line(tmp_path: Path) -> None:
    from optuna_clank.inspect.positions import recorded_positions

    snake, seen = _snake_file(tmp_path, base='base_config = "base.yaml"')
    (tmp_path / "base.yaml").write_text("weights:\n  space: 3.0\n")
    requests = tmp_path / "requests.jsonl"
    requests.write_text("".join(json.dumps(r) + "\n" for r in recorded_positions(3, seed=1)))
    result = run_with_stdin(["moves", "--snake", str(snake)], requests, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["up", "up", "up"]
    assert _seen(seen) == [{"weights": {"space": 3.0}}]
    (tmp_path / "broken.toml").write_text('[snake]\nurl = "http://127.0.0.1:{port}"\n')
    line = one_error_line(run_with_stdin(["moves", "--snake", "broken.toml"], requests, cwd=tmp_path))
    assert "broken.toml: [snake] command: missing" in line


def test_probe_and_fidelity_take_a_snake_only_file(tmp_path: Path) -> None:
    _, seen = _snake_file(tmp_path, base='base_config = "base.yaml"')
    (tmp_path / "base.yaml").write_text("weights:\n  space: 3.0\n")
    probed = run_cli(["probe", "--snake", "bot.toml", "--positions", "10", "--json"], cwd=tmp_path)
    assert probed.returncode == 0, probed.stderr
    report = json.loads(probed.stdout)
    assert report["snake"].startswith("server ") and "{port}" not in report["snake"]
    assert report["dead"] == ["weights.space"]  # the base's numeric keys; the stub answers "up" whatever they are
    assert {0.0, 3.0, 6.0} <= {c["weights"]["space"] for c in _seen(seen)}  # the base and both bounds reached it
    same = run_cli(["fidelity", "--snake", "bot.toml", "--against", "bot.toml", "--positions", "10"], cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert re.search(r"^  all\s+100\.0%", same.stdout, re.MULTILINE), same.stdout
