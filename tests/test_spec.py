"""Tests for study specs: the shipped specs, finding specs, every error, overrides, defaults.

Each error case is a small TOML file on disk; the test checks that loading it fails with a
one-line SpecError naming the file, the section or key, and what is wrong.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from _configs import V1_PARAM_NAMES
from optuna.distributions import FloatDistribution, IntDistribution

from optuna_clank.arena.params import PARAMS_BY_NAME, TUNABLE_PARAMS
from optuna_clank.arena.served.bot_spec import gbc_base_config, shipped_gbc_config_path
from optuna_clank.arena.snakes.gbc.schema import GBC_KEY_BY_NAME, GREEDY_DEAD_KEYS, GREEDY_INERT_KEYS
from optuna_clank.spec import (
    OVERRIDES,
    BenchmarkSpec,
    CheckpointSpec,
    ParallelSpec,
    ParamSpec,
    PrunerSpec,
    SamplerSpec,
    SpecError,
    StorageSpec,
    ValidationSpec,
    find_spec,
    load_spec,
    shipped_spec_names,
)
from tests._shared import SHARED_DATA

REPO_STUDIES = Path(__file__).resolve().parent.parent / "studies"

MINIMAL = """
[study]
name = "t"

[search_space]
"weights.space" = {}
"""


def write_spec(folder: Path, text: str, name: str = "my.toml") -> Path:
    """A spec file made of ``text`` (dedented) in ``folder``."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def with_sections(extra: str, search_space: str = '"weights.space" = {}') -> str:
    """A valid minimal spec plus ``extra`` sections (or a replaced search space)."""
    return f'[study]\nname = "t"\n\n{textwrap.dedent(extra)}\n\n[search_space]\n{search_space}\n'


def load_error(folder: Path, text: str) -> str:
    """The message of the SpecError that loading ``text`` raises."""
    path = write_spec(folder, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return str(info.value)


# --------------------------------------------------------------------------- shipped specs


def test_v2_is_go_battleclank_from_its_shipped_config_against_the_rust_baseline() -> None:
    spec = load_spec(REPO_STUDIES / "v2.toml")
    assert spec.name == "v2"
    assert spec.snake.builtin == "gbc"
    assert spec.snake.base_config == shipped_gbc_config_path()
    assert spec.benchmark.opponents == ("baseline",)
    assert (spec.benchmark.mode, spec.benchmark.board_size) == ("duel", (11, 11))
    assert spec.sampler.name == "clank"
    assert spec.sampler.use_llm and spec.sampler.use_neural_net
    assert spec.parallel.n_jobs == "auto"
    assert spec.pruner.name == "wilcoxon"
    names = {p.name for p in spec.search_space}
    assert names and not names & set(GREEDY_DEAD_KEYS) and not names & GREEDY_INERT_KEYS
    for param in spec.search_space:
        assert param.is_int == (GBC_KEY_BY_NAME[param.name].kind is int)


def test_the_shipped_config_is_the_bots_own_with_its_source_and_licence() -> None:
    text = shipped_gbc_config_path().read_text()
    assert "ErwinsExpertise/go-battleclank" in text and "9c3d0b44940489a820993fafe49bd4a822aae50e" in text
    assert "MIT License" in text and "Copyright (c) 2025 Erwin" in text
    shared = SHARED_DATA / "go-battleclank-config.yaml"
    if not shared.is_file():
        pytest.skip(f"{shared} is absent: the bot's own config.yaml cannot be compared")
    assert yaml.safe_load(text) == yaml.safe_load(shared.read_text())


def test_heuristic_tunes_all_31_parameters_with_their_allowed_ranges() -> None:
    spec = load_spec(REPO_STUDIES / "heuristic.toml")
    assert spec.name == "heuristic"
    assert spec.snake.builtin == "heuristic"
    assert [p.name for p in spec.search_space] == [p.name for p in TUNABLE_PARAMS]
    assert len(spec.search_space) == 31
    for param in spec.search_space:
        allowed = PARAMS_BY_NAME[param.name]
        assert (param.low, param.high, param.log, param.is_int) == (
            allowed.low,
            allowed.high,
            allowed.log,
            allowed.is_int,
        )
    assert spec.sampler.name == "clank"
    assert spec.sampler.use_llm and spec.sampler.use_neural_net
    assert spec.sampler.llm_models == ("openai/gpt-4o-mini",)
    assert spec.parallel.n_jobs == "auto"
    assert spec.benchmark.games_per_trial == 30
    assert spec.benchmark.opponents == ("baseline",)
    assert spec.pruner.name == "wilcoxon"
    assert spec.study.n_trials == 200
    assert spec.checkpoint.interval == 10


def test_v1_tunes_the_old_loops_v1_keys_that_are_live_on_go_battleclank_with_plain_tpe() -> None:
    spec = load_spec(REPO_STUDIES / "v1.toml")
    assert spec.name == "v1"
    assert (spec.snake.builtin, spec.snake.base_config) == ("gbc", shipped_gbc_config_path())
    tuned = [p.name for p in spec.search_space]
    assert tuned == [name for name in V1_PARAM_NAMES if name in tuned]  # the old loop's keys, in its order
    left_out = set(V1_PARAM_NAMES) - set(tuned)
    # every key left out is never read by the bot's /move, or is weights.space, which the shipped config's
    # missing space multipliers (read as 0) zero out
    assert left_out == {name for name in V1_PARAM_NAMES if name in GREEDY_DEAD_KEYS} | {"weights.space"}
    shipped = gbc_base_config(shipped_gbc_config_path())
    assert all(shipped["weights"][m] == 0 for m in ("space_base_multiplier", "space_enemy_multiplier"))
    assert spec.sampler.name == "tpe"
    assert not spec.sampler.use_llm
    assert not spec.sampler.use_neural_net
    assert spec.parallel.n_jobs == 1
    assert spec.benchmark.games_per_trial == 30
    assert spec.benchmark.opponents == ("baseline",)
    assert spec.pruner.name == "wilcoxon"


def test_distributions_have_the_right_type_scale_and_bounds() -> None:
    distributions = load_spec(REPO_STUDIES / "heuristic.toml").distributions()
    assert list(distributions) == [p.name for p in TUNABLE_PARAMS]
    turn = distributions["late_game.turn_threshold"]
    assert isinstance(turn, IntDistribution)
    assert (turn.low, turn.high, turn.log) == (50, 300, False)
    space = distributions["weights.space"]
    assert isinstance(space, FloatDistribution)
    assert (space.low, space.high, space.log) == (0.1, 1000.0, True)
    tactics = distributions["tactics.predictive_avoidance_weight"]
    assert isinstance(tactics, FloatDistribution)
    assert not tactics.log


def test_param_spec_distribution_honours_int_and_log() -> None:
    distribution = ParamSpec("x.y", 2.0, 64.0, log=True, is_int=True).distribution()
    assert distribution == IntDistribution(2, 64, log=True)


# --------------------------------------------------------------------------- finding specs


def test_shipped_spec_names_include_v1_and_v2() -> None:
    assert {"v1", "v2"} <= set(shipped_spec_names())


def test_find_spec_prefers_the_working_folder(tmp_path: Path) -> None:
    local = write_spec(tmp_path / "studies", MINIMAL, name="v2.toml")
    assert find_spec("v2", cwd=tmp_path) == local


def test_find_spec_falls_back_to_the_shipped_specs(tmp_path: Path) -> None:
    found = find_spec("v1", cwd=tmp_path)
    assert found.resolve() == (REPO_STUDIES / "v1.toml").resolve()


def test_find_spec_finds_a_study_only_present_locally(tmp_path: Path) -> None:
    local = write_spec(tmp_path / "studies", MINIMAL, name="mine.toml")
    assert find_spec("mine", cwd=tmp_path) == local


def test_find_spec_takes_a_toml_name_as_a_path(tmp_path: Path) -> None:
    path = write_spec(tmp_path / "elsewhere", MINIMAL, name="x.toml")
    assert find_spec("elsewhere/x.toml", cwd=tmp_path) == path


def test_find_spec_lists_the_known_names_for_an_unknown_one(tmp_path: Path) -> None:
    write_spec(tmp_path / "studies", MINIMAL, name="mine.toml")
    with pytest.raises(SpecError) as info:
        find_spec("v3", cwd=tmp_path)
    message = str(info.value)
    assert "'v3'" in message
    assert "mine, v1, v2" in message
    assert "\n" not in message


# --------------------------------------------------------------------------- errors

ERROR_CASES: dict[str, tuple[str, list[str]]] = {
    "invalid_toml": ('[study]\nname = "t"\nn_trials = = 3\n', ["line 3", "invalid TOML"]),
    "unknown_section": (
        with_sections("[sampeler]\nname = 'tpe'"),
        ["[sampeler]", "unknown section", "did you mean [sampler]"],
    ),
    "unknown_key": (
        with_sections("[sampler]\nuse_lm = false"),
        ["[sampler] 'use_lm'", "unknown key", "did you mean 'use_llm'"],
    ),
    "key_outside_section": ('name = "t"\n' + MINIMAL, ["'name'", "put it under [study]"]),
    "missing_study": ('[search_space]\n"weights.space" = {}\n', ["[study]", "missing section"]),
    "missing_study_name": (
        '[study]\nn_trials = 3\n[search_space]\n"weights.space" = {}\n',
        ["[study] name", "missing"],
    ),
    "bad_study_name": (
        MINIMAL.replace('name = "t"', 'name = "my study"'),
        ["[study] name", "'my study'", "letters"],
    ),
    "string_for_number": (
        with_sections("[benchmark]\ngames_per_trial = 'thirty'"),
        ["[benchmark] games_per_trial", "expected an integer", "'thirty'"],
    ),
    "bool_for_number": (
        with_sections("[sampler]\nllm_timeout = true"),
        ["[sampler] llm_timeout", "expected a number", "true"],
    ),
    "fraction_for_int": (
        with_sections("[parallel]\nn_jobs = 2.5"),
        ["[parallel] n_jobs", "expected an integer", "2.5"],
    ),
    "number_for_bool": (
        with_sections("[sampler]\nuse_llm = 1"),
        ["[sampler] use_llm", "expected true or false"],
    ),
    "unknown_parameter": (
        with_sections("", '"weights.spce" = {}'),
        ["[search_space] 'weights.spce'", "unknown parameter", "did you mean 'weights.space'"],
    ),
    "bare_parameter_name": (
        with_sections("", '"space" = {}'),
        ["[search_space] 'space'", "did you mean 'weights.space'"],
    ),
    "low_below_minimum": (
        with_sections("", '"traps.critical" = { low = 0.5 }'),
        ["[search_space] 'traps.critical'", "low 0.5 is below the allowed minimum 1.0"],
    ),
    "high_above_maximum": (
        with_sections("", '"weights.food" = { high = 5000 }'),
        ["[search_space] 'weights.food'", "high 5000 is above the allowed maximum 1000.0"],
    ),
    "low_not_below_high": (
        with_sections("", '"weights.food" = { low = 10, high = 10 }'),
        ["'weights.food'", "low 10 must be below high 10"],
    ),
    "log_needs_positive_low": (
        with_sections("", '"tactics.predictive_avoidance_weight" = { log = true }'),
        ["'tactics.predictive_avoidance_weight'", "log = true needs low > 0"],
    ),
    "int_on_float_parameter": (
        with_sections("", '"weights.space" = { int = true }'),
        ["'weights.space'", "int = true", "not an integer"],
    ),
    "fractional_int_bound": (
        with_sections("", '"late_game.turn_threshold" = { low = 50.5 }'),
        ["'late_game.turn_threshold'", "low: expected an integer, got 50.5"],
    ),
    "unknown_entry_key": (
        with_sections("", '"weights.space" = { step = 1.0 }'),
        ["'weights.space'", "unknown key 'step'"],
    ),
    "entry_not_a_table": (
        with_sections("", '"weights.space" = 5'),
        ["'weights.space'", "expected a table"],
    ),
    "empty_search_space": (with_sections("", ""), ["[search_space]", "empty"]),
    "missing_search_space": ('[study]\nname = "t"\n', ["[search_space]", "missing section"]),
    "zero_games": (
        with_sections("[benchmark]\ngames_per_trial = 0"),
        ["[benchmark] games_per_trial", "at least 1"],
    ),
    "round_bigger_than_games": (
        with_sections("[benchmark]\ngames_per_trial = 20\nround_size = 30"),
        ["[benchmark] round_size", "30 is more than games_per_trial (20)"],
    ),
    "zero_trials": (
        MINIMAL.replace('name = "t"', 'name = "t"\nn_trials = 0'),
        ["[study] n_trials", "at least 1"],
    ),
    "zero_jobs": (with_sections("[parallel]\nn_jobs = 0"), ["[parallel] n_jobs", "at least 1"]),
    "p_threshold_one": (
        with_sections("[pruner]\np_threshold = 1.0"),
        ["[pruner] p_threshold", "between 0 and 1"],
    ),
    "fallback_share_above_one": (
        with_sections("[sampler]\nfallback_share = 1.5"),
        ["[sampler] fallback_share", "at most 1.0"],
    ),
    "objectives_directions_mismatch": (
        MINIMAL.replace('name = "t"', 'name = "t"\ndirections = ["maximize", "minimize"]'),
        ["[study] objectives", "1 objective(s) for 2 direction(s)"],
    ),
    "both_direction_keys": (
        MINIMAL.replace('name = "t"', 'name = "t"\ndirection = "maximize"\ndirections = ["maximize"]'),
        ["[study] direction", "not both"],
    ),
    "unknown_objective": (
        MINIMAL.replace('name = "t"', 'name = "t"\nobjectives = ["wins"]'),
        ["[study] objectives", "unknown value 'wins'"],
    ),
    "multi_objective_with_pruner": (
        with_sections("[pruner]\nname = 'wilcoxon'").replace(
            'name = "t"',
            'name = "t"\ndirections = ["maximize", "minimize"]\nobjectives = ["score", "avg_turns"]',
        ),
        ["[pruner] name", "'wilcoxon' cannot prune", "2 objectives"],
    ),
    "multi_objective_cmaes": (
        with_sections("[sampler]\nname = 'cmaes'\n[pruner]\nname = 'none'").replace(
            'name = "t"',
            'name = "t"\ndirections = ["maximize", "maximize"]\nobjectives = ["score", "survival"]',
        ),
        ["[sampler] name", "'cmaes' handles one objective only"],
    ),
    "unknown_sampler": (
        with_sections("[sampler]\nname = 'tpee'"),
        ["[sampler] name", "unknown value 'tpee'", "did you mean 'tpe'"],
    ),
    "unknown_opponent": (
        with_sections("[benchmark]\nopponents = ['baselin']"),
        ["[benchmark] opponents", "unknown opponent 'baselin'", "did you mean 'baseline'"],
    ),
    "missing_opponent_config": (
        with_sections("[benchmark]\nopponents = ['rivals/nope.yaml']"),
        ["[benchmark] opponents", "nope.yaml", "cannot read config file"],
    ),
    "missing_opponent_command": (
        with_sections("[benchmark]\nopponents = ['cmd:./bots/nope --port {port}']"),
        ["[benchmark] opponents", "bots/nope is not an executable file"],
    ),
    "empty_opponents": (
        with_sections("[benchmark]\nopponents = []"),
        ["[benchmark] opponents", "must not be empty"],
    ),
    "missing_base_config": (
        with_sections("[benchmark]\nbase_config = 'nope.yaml'"),
        ["[benchmark] base_config", "nope.yaml", "cannot read config file"],
    ),
    "board_too_big": (
        with_sections("[benchmark]\nboard_size = [11, 26]"),
        ["[benchmark] board_size", "7..25", "26"],
    ),
    "storage_url_not_a_url": (
        with_sections("[storage]\nurl = 'storage/x.db'"),
        ["[storage] url", "not a database URL"],
    ),
    "grace_not_longer_than_heartbeat": (
        with_sections("[storage]\nheartbeat_interval = 30\ngrace_period = 30"),
        ["[storage] grace_period", "longer than heartbeat_interval"],
    ),
    "validation_on_the_study_seeds": (
        with_sections("[benchmark]\nseed = 7\n[validation]\nseed = 7"),
        ["[validation] seed", "fresh games"],
    ),
    "llm_without_models": (
        with_sections("[sampler]\nllm_models = []"),
        ["[sampler] llm_models", "use_llm = true"],
    ),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_each_mistake_is_one_line_naming_file_and_key(case: str, tmp_path: Path) -> None:
    text, fragments = ERROR_CASES[case]
    message = load_error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'my.toml'}: ")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_invalid_opponent_config_becomes_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("weights:\n  space: [1,\n  food: 2\n")
    message = load_error(tmp_path, with_sections("[benchmark]\nopponents = ['bad.yaml']"))
    assert "[benchmark] opponents" in message
    assert "not valid YAML" in message
    assert "\n" not in message


def test_a_command_opponent_is_found_from_the_spec_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = tmp_path / "specs" / "bots" / "my bot"
    bot.parent.mkdir(parents=True)
    bot.write_text("#!/bin/sh\n")
    bot.chmod(0o755)
    opponents = "[benchmark]\nopponents = ['cmd:\"./bots/my bot\" -p {port}']"
    spec_path = write_spec(tmp_path / "specs", with_sections(opponents))
    monkeypatch.chdir(tmp_path)  # not the spec's folder
    spec = load_spec(spec_path)
    assert spec.benchmark.opponents == (f"cmd:'{bot}' -p '{{port}}'",)  # absolute: means the same from anywhere
    assert load_spec(spec_path).benchmark.opponents == spec.benchmark.opponents


def test_unreadable_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"nope\.toml: cannot read spec file"):
        load_spec(tmp_path / "nope.toml")


# --------------------------------------------------------------------------- accepted forms


def test_defaults_fill_every_optional_section(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, MINIMAL))
    assert spec.path == tmp_path / "my.toml"
    assert spec.study.directions == ("maximize",)
    assert spec.study.objectives == ("score",)
    assert spec.study.n_trials == 200
    assert spec.study.timeout == 0.0
    assert spec.benchmark == BenchmarkSpec()
    assert spec.sampler == SamplerSpec()
    assert spec.pruner == PrunerSpec()
    assert spec.parallel == ParallelSpec()
    assert spec.storage == StorageSpec()
    assert spec.checkpoint == CheckpointSpec()
    assert spec.validation == ValidationSpec()
    assert spec.benchmark.board_size == (11, 11)
    assert spec.benchmark.base_config is None
    assert spec.benchmark.seed == 20261125
    assert spec.sampler.seed is None


def test_defaults_that_depend_on_other_keys_adapt(tmp_path: Path) -> None:
    text = with_sections("[benchmark]\ngames_per_trial = 4\n[storage]\nheartbeat_interval = 60")
    spec = load_spec(write_spec(tmp_path, text))
    assert spec.benchmark.round_size == 4
    assert spec.storage.grace_period == 120


def test_integral_floats_are_accepted_for_integers(tmp_path: Path) -> None:
    text = with_sections("[parallel]\nn_jobs = 2.0", '"late_game.turn_threshold" = { low = 60.0, high = 200 }')
    spec = load_spec(write_spec(tmp_path, text))
    assert spec.parallel.n_jobs == 2
    assert isinstance(spec.parallel.n_jobs, int)
    assert spec.distributions()["late_game.turn_threshold"] == IntDistribution(60, 200)


def test_board_size_and_single_direction_forms(tmp_path: Path) -> None:
    text = with_sections("[benchmark]\nboard_size = [7, 19]").replace(
        'name = "t"', 'name = "t"\ndirection = "minimize"\nobjectives = ["avg_turns"]'
    )
    spec = load_spec(write_spec(tmp_path, text))
    assert spec.benchmark.board_size == (7, 19)
    assert spec.study.directions == ("minimize",)


def test_multi_objective_without_pruner_loads(tmp_path: Path) -> None:
    text = with_sections("[pruner]\nname = 'none'").replace(
        'name = "t"',
        'name = "t"\ndirections = ["maximize", "maximize"]\nobjectives = ["win_rate", "survival"]',
    )
    spec = load_spec(write_spec(tmp_path, text))
    assert spec.study.objectives == ("win_rate", "survival")


def test_multi_objective_turns_the_default_pruner_off(tmp_path: Path) -> None:
    """Optuna cannot prune several objectives: the default pruner becomes none; a named one is refused."""
    text = MINIMAL.replace(
        'name = "t"', 'name = "t"\ndirections = ["maximize", "minimize"]\nobjectives = ["win_rate", "avg_turns"]'
    )
    spec = load_spec(write_spec(tmp_path, text))
    assert spec.pruner.name == "none"
    assert load_spec(write_spec(tmp_path, MINIMAL)).pruner.name == "wilcoxon"


def test_narrowed_range_and_scale_override(tmp_path: Path) -> None:
    text = with_sections("", '"weights.space" = { low = 1, high = 100, log = false }')
    (param,) = load_spec(write_spec(tmp_path, text)).search_space
    assert param == ParamSpec("weights.space", 1.0, 100.0, log=False, is_int=False)


def test_search_space_accepts_dotted_keys_and_sub_tables(tmp_path: Path) -> None:
    text = (
        '[study]\nname = "t"\n\n[search_space]\nweights.space = {}\n'
        '"weights.food" = { high = 10 }\n\n[search_space.traps]\ncritical = { low = 5 }\n'
    )
    spec = load_spec(write_spec(tmp_path, text))
    assert [p.name for p in spec.search_space] == [
        "weights.space",
        "weights.food",
        "traps.critical",
    ]
    assert spec.search_space[2].low == 5.0


def test_config_paths_are_resolved_against_the_spec_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "specs"
    (folder / "rivals").mkdir(parents=True)
    (folder / "rivals" / "r.yaml").write_text("weights:\n  space: 5.0\n")
    (folder / "base.yaml").write_text("weights:\n  food: 3.0\n")
    text = with_sections(
        "[benchmark]\nopponents = ['baseline', 'rivals/r.yaml', 'config:rivals/r.yaml']\nbase_config = 'base.yaml'"
    )
    path = write_spec(folder, text)
    monkeypatch.chdir(tmp_path)
    spec = load_spec(Path("specs/my.toml"))
    resolved = str((folder / "rivals" / "r.yaml").resolve())
    assert spec.benchmark.opponents == ("baseline", resolved, f"config:{resolved}")
    assert spec.benchmark.base_config == (folder / "base.yaml").resolve()
    assert spec.path == Path("specs/my.toml")
    assert path.is_file()


# --------------------------------------------------------------------------- overrides


def test_overrides_replace_values_and_keep_the_original(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, MINIMAL))
    changed = spec.with_overrides(
        n_trials=7,
        n_jobs=2,
        use_llm=False,
        llm_models=("a/b", "c/d"),
        llm_api_base="http://127.0.0.1:9",
        use_neural_net=False,
        storage_url="sqlite:///x.db",
        timeout=60,
        checkpoint_interval=0,
        sampler_name="random",
        pruner_name="none",
        seed=5,
    )
    assert changed.study.n_trials == 7
    assert changed.parallel.n_jobs == 2
    assert not changed.sampler.use_llm
    assert changed.sampler.llm_models == ("a/b", "c/d")
    assert changed.sampler.llm_api_base == "http://127.0.0.1:9"
    assert not changed.sampler.use_neural_net
    assert changed.storage.url == "sqlite:///x.db"
    assert changed.study.timeout == 60.0
    assert changed.checkpoint.interval == 0
    assert changed.sampler.name == "random"
    assert changed.pruner.name == "none"
    assert changed.benchmark.seed == 5
    assert changed.search_space == spec.search_space
    assert spec.study.n_trials == 200
    assert spec.parallel.n_jobs == "auto"


def test_override_none_keeps_the_value(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, MINIMAL))
    assert spec.with_overrides(n_trials=None, n_jobs=None) == spec


def test_fewer_games_lower_the_round_size(tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, MINIMAL))
    changed = spec.with_overrides(games_per_trial=4)
    assert (changed.benchmark.games_per_trial, changed.benchmark.round_size) == (4, 4)


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"n_jobs": 0}, ["n_jobs=0", "[parallel] n_jobs", "at least 1"]),
        ({"games_per_trial": "many"}, ["games_per_trial='many'", "expected an integer"]),
        ({"sampler_name": "tpee"}, ["sampler_name='tpee'", "unknown value 'tpee'"]),
        ({"storage_url": "x.db"}, ["storage_url='x.db'", "not a database URL"]),
        ({"round_size": 50}, ["round_size=50", "more than games_per_trial"]),
        ({"n_jobz": 2}, ["'n_jobz'", "unknown option", "did you mean 'n_jobs'"]),
    ],
)
def test_invalid_override_names_the_option(changes: dict[str, object], fragments: list[str], tmp_path: Path) -> None:
    spec = load_spec(write_spec(tmp_path, MINIMAL))
    with pytest.raises(SpecError) as info:
        spec.with_overrides(**changes)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'my.toml'}: override ")
    for fragment in fragments:
        assert fragment in message


def test_override_paths_are_relative_to_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = load_spec(write_spec(tmp_path / "specs", MINIMAL))
    (tmp_path / "rival.yaml").write_text("weights:\n  space: 5.0\n")
    monkeypatch.chdir(tmp_path)
    changed = spec.with_overrides(opponents=["rival.yaml"], base_config="rival.yaml")
    assert changed.benchmark.opponents == (str(tmp_path / "rival.yaml"),)
    assert changed.benchmark.base_config == tmp_path / "rival.yaml"


def test_every_override_option_maps_to_a_spec_field() -> None:
    spec = load_spec(REPO_STUDIES / "v2.toml")
    for option, (section, key) in OVERRIDES.items():
        assert hasattr(getattr(spec, section), key), option
