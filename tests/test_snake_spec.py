"""The ``[snake]`` spec section and server snakes' search spaces: what is accepted, and every one-line error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from optuna.distributions import FloatDistribution, IntDistribution

from optuna_clank.arena.served.bot_spec import with_dotted_values
from optuna_clank.spec import SpecError, load_spec

SERVER = """
[snake]
command = ["./my-bot", "--port", "{port}"]
env = { BOT_CONFIG = "{config}", THREADS = 2 }
url = "http://127.0.0.1:{port}"
"""


def spec_text(snake: str, search_space: str = '"weights.space" = { low = 1, high = 10 }', extra: str = "") -> str:
    head = f'[study]\nname = "t"\n{textwrap.dedent(extra)}\n{textwrap.dedent(snake)}\n'
    return f"{head}\n[search_space]\n{search_space}\n"


def load_text(folder: Path, text: str) -> object:
    path = folder / "my.toml"
    path.write_text(text)
    return load_spec(path)


def load_error(folder: Path, text: str) -> str:
    with pytest.raises(SpecError) as info:
        load_text(folder, text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(folder / "my.toml") + ":")
    return message


def test_no_snake_section_tunes_the_built_in_heuristic_snake(tmp_path: Path) -> None:
    spec = load_text(tmp_path, spec_text(""))
    assert not spec.snake.is_server
    assert spec.snake.builtin == "heuristic"


def test_a_server_snake_is_read_with_its_command_env_url_and_the_spec_folder(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text("weights:\n  space: 3\n")
    snake = SERVER + 'base_config = "bot.yaml"\nstartup_timeout = 5\nmove_timeout_ms = 200\n'
    spec = load_text(tmp_path, spec_text(snake))
    assert spec.snake.is_server and spec.snake.starts_server
    assert spec.snake.command == ("./my-bot", "--port", "{port}")
    assert dict(spec.snake.env) == {"BOT_CONFIG": "{config}", "THREADS": "2"}
    assert spec.snake.url == "http://127.0.0.1:{port}"
    assert spec.snake.base_config == tmp_path / "bot.yaml"
    assert spec.snake.cwd == tmp_path
    assert (spec.snake.startup_timeout, spec.snake.move_timeout_ms) == (5.0, 200)


def test_a_server_snake_may_tune_any_key_at_any_depth_with_explicit_bounds(tmp_path: Path) -> None:
    space = """
"bot.aggression" = { low = 0.5, high = 2.0 }
depth = { low = 1, high = 9, int = true, step = 2 }
grid = { low = 0.0, high = 1.0, step = 0.25 }
[search_space.deep.nested]
weight = { low = 1.0, high = 100.0, log = true }
"""
    spec = load_text(tmp_path, spec_text(SERVER, space))
    distributions = spec.distributions()
    assert list(distributions) == ["bot.aggression", "depth", "grid", "deep.nested.weight"]
    assert distributions["depth"] == IntDistribution(1, 9, step=2)
    assert distributions["grid"] == FloatDistribution(0.0, 1.0, step=0.25)
    assert distributions["deep.nested.weight"] == FloatDistribution(1.0, 100.0, log=True)


def test_overrides_keep_the_snake_and_the_steps(tmp_path: Path) -> None:
    spec = load_text(tmp_path, spec_text(SERVER, "depth = { low = 1, high = 9, int = true, step = 2 }"))
    changed = spec.with_overrides(n_trials=7)
    assert changed.study.n_trials == 7
    assert changed.snake == spec.snake
    assert changed.search_space == spec.search_space


@pytest.mark.parametrize(
    ("snake", "space", "expected"),
    [
        ('[snake]\nbuiltn = "heuristic"', None, "[snake] 'builtn': unknown key (did you mean 'builtin'?)"),
        ('[snake]\nbuiltin = "heuristc"', None, "unknown built-in snake 'heuristc' (did you mean 'heuristic'?)"),
        ('[snake]\nbuiltin = "heuristic"\nbase_config = "x.yaml"', None, "[benchmark] base_config"),
        ('[snake]\nurl = "http://127.0.0.1:8000"', None, "[snake] command: missing"),
        ('[snake]\ncommand = ["bot"]', None, "name a built-in snake"),
        ('[snake]\nurl = "ftp://x"\ncommand = ["bot"]', None, "[snake] url: 'ftp://x' is not an http:// URL"),
        (
            '[snake]\nurl = "http://127.0.0.1:8000"\ncommand = ["bot", "{port}", "{config}"]',
            None,
            "[snake] url: must contain {port}",
        ),
        (
            '[snake]\nurl = "http://127.0.0.1:{port}"\ncommand = ["bot", "{config}"]',
            None,
            "[snake] command: neither command nor env passes {port}",
        ),
        (
            '[snake]\nurl = "http://127.0.0.1:{port}"\ncommand = ["bot", "{port}"]',
            None,
            "passes {config} (or {workspace})",
        ),
        (
            '[snake]\nurl = "http://127.0.0.1:{port}"\ncommand = ["bot", "{prot}", "{config}"]',
            None,
            "[snake] command: unknown placeholder {prot} (did you mean 'port'?)",
        ),
        ('[snake]\nurl = "http://127.0.0.1:{port}"\ncommand = []', None, "[snake] command: must not be empty"),
        (SERVER + 'base_config = "missing.yaml"', None, "[snake] base_config:"),
        (SERVER + "startup_timeout = 0", None, "[snake] startup_timeout: expected a positive number"),
        (SERVER, '"weights.space" = {}', "[search_space] 'weights.space': needs low and high"),
        (SERVER, '"a.b" = { low = 1 }', "[search_space] 'a.b': needs high"),
        (SERVER, '"a.b" = { low = 1, hihg = 2 }', "unknown key 'hihg' (did you mean 'high'?)"),
        (SERVER, '"a.b" = { low = 2, high = 1 }', "low 2 must be below high 1"),
        (SERVER, '"a.b" = { low = 0, high = 1, log = true }', "log = true needs low > 0"),
        (SERVER, '"a.b" = { low = 0, high = 1, step = 0.3 }', "is not a multiple of step 0.3"),
        (SERVER, '"a.b" = { low = 1, high = 2, step = 0.5, log = true }', "step and log = true cannot be combined"),
        (SERVER, '"a.b" = { low = 0.5, high = 2, int = true }', "low: expected an integer"),
        (SERVER, '"a..b" = { low = 0, high = 1 }', "a key path has an empty part"),
        (SERVER, '"a.b" = { low = -1.7e308, high = 1.7e308 }', "the range high - low (1.7e+308 - -1.7e+308) is not"),
        (SERVER, '"a.b" = { low = -inf, high = 1 }', "low: expected a finite number"),
        (SERVER, '"a.b" = { low = 0, high = nan }', "high: expected a finite number"),
        (SERVER + "max_in_flight = 0", None, "[snake] max_in_flight: expected a whole number of at least 1"),
        (SERVER + 'pass_env = "HOME"', None, "[snake] pass_env: expected a list of environment variable names"),
        (SERVER + 'pass_env = ["NOT A NAME"]', None, "[snake] pass_env: expected a list"),
        ('[snake]\nbuiltin = "gbc"\nbase_config = "empty.yaml"', None, "empty.yaml: empty config (no keys)"),
        (SERVER + 'base_config = "empty.yaml"', None, "[snake] base_config: "),
    ],
)
def test_snake_section_errors_are_one_line_naming_the_key(
    tmp_path: Path, snake: str, space: str | None, expected: str
) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing here yet\n")
    text = spec_text(snake) if space is None else spec_text(snake, space)
    assert expected in load_error(tmp_path, text)


def test_an_empty_base_config_is_refused_like_every_empty_config_and_an_empty_mapping_is_not(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("")
    message = load_error(tmp_path, spec_text(SERVER + 'base_config = "empty.yaml"\n'))
    assert message.endswith(
        "empty config (no keys); write {} to start from an empty one on purpose, or leave base_config out"
    )
    (tmp_path / "empty.yaml").write_text("{}\n")
    load_text(tmp_path, spec_text(SERVER + 'base_config = "empty.yaml"\n'))
    load_text(tmp_path, spec_text('[snake]\nbuiltin = "gbc"\nbase_config = "empty.yaml"\n', _GBC_KEY))


_GBC_KEY = '"weights.space" = { low = 1.0, high = 10.0 }'


def test_a_server_snake_reads_max_in_flight_and_pass_env(tmp_path: Path) -> None:
    spec = load_text(tmp_path, spec_text(SERVER + 'max_in_flight = 8\npass_env = ["GOMAXPROCS"]\n'))
    snake = spec.snake  # type: ignore[attr-defined]
    assert (snake.max_in_flight, snake.pass_env) == (8, ("GOMAXPROCS",))
    again = spec.with_overrides(n_trials=3)  # type: ignore[attr-defined]
    assert (again.snake.max_in_flight, again.snake.pass_env) == (8, ("GOMAXPROCS",))


def test_a_key_below_a_scalar_of_the_base_yaml_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bot.yaml").write_text("weights: 3\n")
    text = spec_text(SERVER + 'base_config = "bot.yaml"\n', '"weights.space" = { low = 1, high = 2 }')
    message = load_error(tmp_path, text)
    assert "[search_space] 'weights.space': cannot set 'weights.space': 'weights' is 3, not a mapping" in message


def test_a_built_in_snake_still_refuses_keys_it_does_not_have(tmp_path: Path) -> None:
    message = load_error(tmp_path, spec_text("", '"bot.aggression" = { low = 0.5, high = 2.0 }'))
    assert "[search_space] 'bot.aggression': unknown parameter" in message


def test_a_server_snake_takes_its_base_config_from_the_snake_section(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("weights:\n  space: 3\n")
    extra = '[benchmark]\nbase_config = "base.yaml"\n'
    message = load_error(tmp_path, spec_text(SERVER, extra=extra))
    assert "[benchmark] base_config: is the built-in snake's base config" in message


def test_trial_values_go_into_a_copy_of_the_base_adding_missing_keys() -> None:
    base = {"weights": {"space": 3, "food": 1.5}, "name": "bot"}
    config = with_dotted_values(base, {"weights.space": 7, "tactics.new.deep": 0.25})
    assert config == {"weights": {"space": 7, "food": 1.5}, "name": "bot", "tactics": {"new": {"deep": 0.25}}}
    assert base == {"weights": {"space": 3, "food": 1.5}, "name": "bot"}  # the base is untouched
    assert yaml.safe_load(yaml.safe_dump(config)) == config


def test_a_server_study_starts_from_its_own_yaml_missing_keys_read_as_zero(tmp_path: Path) -> None:
    from optuna_clank.trial.base_trial import base_range_notes, base_ranges, base_trial_params

    (tmp_path / "bot.yaml").write_text("a:\n  b: 0.37\n  n: 7\n  far: 50\n")
    space = """
"a.b" = { low = 0.0, high = 1.0, step = 0.25 }
"a.n" = { low = 1, high = 9, int = true, step = 2 }
"a.far" = { low = 0.0, high = 10.0 }
"a.missing" = { low = -1.0, high = 1.0 }
"""
    spec = load_text(tmp_path, spec_text(SERVER + 'base_config = "bot.yaml"\n', space))

    # 0.37 is off the grid of step 0.25: the nearest point; 50 lies outside [0, 10]: kept, the base
    # trial's range is widened to hold it (never clipped silently: both are said when the run starts)
    assert base_trial_params(spec) == {"a.b": 0.25, "a.n": 7, "a.far": 50.0, "a.missing": 0.0}
    ranges = base_ranges(spec)
    assert list(ranges) == ["a.far"] and (ranges["a.far"].low, ranges["a.far"].high) == (0.0, 50.0)
    notes = base_range_notes(spec)
    assert len(notes) == 2
    assert notes[0].startswith("base config: a.b = 0.37 cannot be played in [0, 1] (it is off the range's grid")
    assert "the base trial plays 0.25; validate and export keep 0.37" in notes[0]
    assert notes[1].startswith("base config: a.far = 50 lies outside the search range [0, 10]: the base trial plays 50")
