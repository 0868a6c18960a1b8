"""The study runner end to end, through the real command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import yaml
from _openai_stub import OpenAIStub, Reply
from _shared import SHARED_DATA
from _study import finished_count, load, run_cli, start_cli, wait_for, write_spec
from optuna.trial import TrialState

from optuna_clank.arena.config import flatten, load_config

SHARED_GO_CONFIG = SHARED_DATA / "go-battleclank-config.yaml"


def _finished(study) -> list:
    return study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_study_runs_resumes_and_exports(tmp_path: Path, storage_url: str) -> None:
    spec = write_spec(tmp_path, "resume", n_trials=3)
    first = run_cli(
        ["optimize", "--spec", str(spec), "--storage", storage_url, "--checkpoint-interval", "2", "--quiet"],
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    study = load("resume", storage_url)
    assert len(_finished(study)) == 3
    (checkpoint,) = (tmp_path / "storage" / "resume").glob("best-*.yaml")
    assert "checkpoint:" in first.stderr
    assert flatten(load_config(checkpoint))["weights.space"] > 0
    for trial in _finished(study):
        attrs = trial.user_attrs
        assert attrs["games_played"] >= 2
        assert attrs["wins"] + attrs["losses"] + attrs["draws"] == attrs["games_played"]
        low, high = attrs["win_rate_ci"]
        assert 0 <= low <= attrs["wins"] / attrs["games_played"] <= high <= 1
        assert {"avg_turns", "death_causes", "seconds", "slot", "device", "proposal_source"} <= set(attrs)

    again = run_cli(
        ["optimize", "--spec", str(spec), "--storage", storage_url, "--n-trials", "5", "--quiet"], cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    numbers = [t.number for t in load("resume", storage_url).trials]
    assert len(numbers) == len(set(numbers)) == 5
    assert len(_finished(load("resume", storage_url))) == 5

    done = run_cli(["optimize", "--spec", str(spec), "--storage", storage_url, "--n-trials", "5"], cwd=tmp_path)
    assert done.returncode == 0 and "already has 5 finished trials" in done.stdout

    status = run_cli(["status", "--spec", str(spec), "--storage", storage_url, "--json"], cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["trials"]["complete"] + report["trials"]["pruned"] == 5
    assert report["best_kind"] == "raw" and report["best"]["number"] in numbers

    out = tmp_path / "best.yaml"
    exported = run_cli(["export", "--spec", str(spec), "--storage", storage_url, "-o", str(out)], cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    config = flatten(load_config(out))
    best = load("resume", storage_url).trials[report["best"]["number"]]
    for name, value in best.params.items():
        assert config[name] == pytest.approx(value)
    played = run_cli(["play", "--config", str(out), "--games", "4", "--board-size", "7", "--json"], cwd=tmp_path)
    assert played.returncode == 0, played.stderr
    assert json.loads(played.stdout)["games"] == 4


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_validate_pairs_the_top_trials_with_the_base_on_the_same_games(tmp_path: Path, storage_url: str) -> None:
    spec = write_spec(tmp_path, "checked", n_trials=4)
    assert run_cli(["optimize", "--spec", str(spec), "--storage", storage_url, "--quiet"], cwd=tmp_path).returncode == 0
    result = run_cli(
        ["validate", "--spec", str(spec), "--storage", storage_url, "--top", "2", "--games", "20", "--json"],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert len(output["records"]) == 3 and "base config" in output["records"]
    study = load("checked", storage_url)
    validated = {int(k.split(":")[1]): v for k, v in study.user_attrs.items() if k.startswith("validated:")}
    base = study.user_attrs["validated_base"]
    assert len(validated) == 2
    for record in [*validated.values(), base]:
        assert record["games"] == 20 and record["seed"] != 7 and record["seed"] == base["seed"]
        assert len(record["results"]) == 20 and set(record["results"]) <= set("WDL")
        wins = record["results"].count("W")
        assert wins == record["wins"] and record["results"].count("D") == record["draws"]
    status = json.loads(
        run_cli(["status", "--spec", str(spec), "--storage", storage_url, "--json"], cwd=tmp_path).stdout
    )
    assert status["best_kind"] in ("trial", "base")
    paired = status["best"]["paired"]
    assert paired["games"] == 20 and paired["compared"] == 2 and paired["alpha"] == 0.05
    assert paired["confidence"] == pytest.approx(1 - 0.05 / 2)
    trial_scores = [{"W": 1, "D": 0.5, "L": 0}[c] for c in validated[paired["trial"]]["results"]]
    base_scores = [{"W": 1, "D": 0.5, "L": 0}[c] for c in base["results"]]
    mean_difference = sum(trial_scores) / 20 - sum(base_scores) / 20
    assert paired["difference"] == pytest.approx(mean_difference, abs=1e-4)
    low, high = paired["interval"]
    assert low <= paired["difference"] <= high
    assert paired["better"] == (low > 0) == (status["best_kind"] == "trial")
    if status["best_kind"] == "trial":
        assert status["best"]["number"] == paired["trial"]
    else:
        assert status["best"]["number"] is None and status["best"]["config"] == "base"
    text = run_cli(["status", "--spec", str(spec), "--storage", storage_url], cwd=tmp_path).stdout
    assert "over the base on 20 games" in text


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_kill_9_mid_trial_loses_only_that_trial(tmp_path: Path, storage_url: str) -> None:
    spec = write_spec(tmp_path, "crash", n_trials=4, games=12)
    run = start_cli(["optimize", "--spec", str(spec), "--storage", storage_url, "--quiet"], cwd=tmp_path)

    def running_trial_with_games() -> bool:
        try:
            study = load("crash", storage_url)
        except KeyError:
            return False
        return any(t.state == TrialState.RUNNING and t.intermediate_values for t in study.trials)

    wait_for(running_trial_with_games, timeout=120, what="a trial in the middle of its games")
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    victim = next(t for t in load("crash", storage_url).trials if t.state == TrialState.RUNNING)
    time.sleep(4)  # past the grace period: the victim's heartbeat is stale

    resumed = run_cli(["optimize", "--spec", str(spec), "--storage", storage_url, "--quiet"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    study = load("crash", storage_url)
    assert study.trials[victim.number].state == TrialState.FAIL
    retries = [t for t in study.trials if t.number > victim.number and t.params == victim.params]
    assert retries and retries[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert len(_finished(study)) == 4
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]


def test_ctrl_c_finishes_the_running_trial_and_a_rerun_continues(tmp_path: Path, sqlite_url: str) -> None:
    spec = write_spec(tmp_path, "stop", n_trials=30)
    run = start_cli(["optimize", "--spec", str(spec), "--storage", sqlite_url, "--quiet"], cwd=tmp_path)
    wait_for(lambda: finished_count("stop", sqlite_url) >= 1, timeout=120, what="the first finished trial")
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 0, stderr
    assert "stopping after the running trials finish" in stderr
    study = load("stop", sqlite_url)
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]
    stopped_at = len(_finished(study))
    assert 1 <= stopped_at < 30
    more = run_cli(
        ["optimize", "--spec", str(spec), "--storage", sqlite_url, "--n-trials", str(stopped_at + 1), "--quiet"],
        cwd=tmp_path,
    )
    assert more.returncode == 0, more.stderr
    assert len(_finished(load("stop", sqlite_url))) == stopped_at + 1


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (('"weights.food" = {}', '"weights.fod" = {}'), "'weights.fod': unknown parameter"),
        (('"traps.critical" = {}', '"traps.critical" = { low = 0.5, high = 10 }'), "below the allowed minimum"),
        (('opponents = ["baseline"]', 'opponents = ["baselin"]'), "unknown opponent 'baselin'"),
        (("n_startup_trials = 3", "n_startup_trial = 3"), "'n_startup_trial': unknown key"),
    ],
    ids=["param-typo", "bound", "opponent", "key"],
)
def test_spec_mistakes_exit_2_with_one_line(tmp_path: Path, edit: tuple[str, str], expected: str) -> None:
    spec = write_spec(tmp_path, "bad")
    spec.write_text(spec.read_text().replace(*edit))
    result = run_cli(["optimize", "--spec", str(spec)], cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(spec) in lines[0] and expected in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:1/nowhere", "cannot connect to PostgreSQL"),
        ("sqlite:///{tmp}/a-file/sub/study.db", "cannot create SQLite database"),
        ("mysql+nodriver://x@y/z", "unknown storage URL scheme"),
    ],
    ids=["refused", "missing-folder", "scheme"],
)
def test_unusable_storage_exits_2_with_one_line(tmp_path: Path, storage: str, expected: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    spec = write_spec(tmp_path, "nostore")
    result = run_cli(["optimize", "--spec", str(spec), "--storage", storage.format(tmp=tmp_path)], cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in result.stderr


def test_study_name_finds_the_spec_in_the_current_folder_first(tmp_path: Path) -> None:
    (tmp_path / "studies").mkdir()
    write_spec(tmp_path / "studies", "v2", n_trials=1)
    result = run_cli(["optimize", "--study", "v2", "--quiet"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "storage" / "v2.db").exists()  # the default storage, next to the spec
    assert len(_finished(load("v2", f"sqlite:///{tmp_path / 'storage' / 'v2.db'}"))) == 1


@pytest.mark.skipif(not SHARED_GO_CONFIG.exists(), reason=f"go-battleclank config not found at {SHARED_GO_CONFIG}")
def test_exported_config_has_every_key_of_the_go_bot_config(tmp_path: Path, sqlite_url: str) -> None:
    spec = write_spec(tmp_path, "shape", n_trials=1)
    assert run_cli(["optimize", "--spec", str(spec), "--storage", sqlite_url, "--quiet"], cwd=tmp_path).returncode == 0
    out = tmp_path / "exported.yaml"
    assert (
        run_cli(["export", "--spec", str(spec), "--storage", sqlite_url, "-o", str(out)], cwd=tmp_path).returncode == 0
    )
    go_keys = set(flatten(yaml.safe_load(SHARED_GO_CONFIG.read_text())))
    exported_keys = set(flatten(yaml.safe_load(out.read_text())))
    assert go_keys <= exported_keys
    # the Go bot's own file is a valid base, and tuned values land on top of it
    merged = tmp_path / "onto-go.yaml"
    result = run_cli(
        ["export", "--spec", str(spec), "--storage", sqlite_url, "-o", str(merged), "--base", str(SHARED_GO_CONFIG)],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    values = flatten(yaml.safe_load(merged.read_text()))
    go_values = flatten(yaml.safe_load(SHARED_GO_CONFIG.read_text()))
    assert values["hybrid.mcts_iterations"] == go_values["hybrid.mcts_iterations"]


def test_every_sampler_starts_from_the_base_config(tmp_path: Path, sqlite_url: str) -> None:
    spec = write_spec(tmp_path, "based", n_trials=2, sampler="tpe")
    assert run_cli(["optimize", "--spec", str(spec), "--storage", sqlite_url, "--quiet"], cwd=tmp_path).returncode == 0
    first = load("based", sqlite_url).trials[0]
    assert first.user_attrs["proposal_source"] == "base"
    defaults = flatten(
        load_config(Path(__file__).resolve().parents[1] / "optuna_clank" / "arena" / "default_config.yaml")
    )
    assert first.params == {name: pytest.approx(defaults[name]) for name in first.params}


@pytest.mark.slow  # an end-to-end run: nox -s e2e (test_sampler covers sampler -> litellm -> HTTP in-process)
def test_llm_proposals_end_to_end_through_a_loopback_server(tmp_path: Path, sqlite_url: str) -> None:
    """CLI options -> spec -> ClankSampler -> litellm -> real HTTP -> trial provenance."""
    answer = '{"changes": [{"param": "weights.food", "delta_pct": 50}], "rationale": "eat more"}'
    spec = write_spec(tmp_path, "llm", n_trials=7)
    with OpenAIStub(Reply.answer(answer)) as stub:
        result = run_cli(
            [
                "optimize",
                "--spec",
                str(spec),
                "--storage",
                sqlite_url,
                "--llm-model",
                "openai/stub",
                "--llm-api-base",
                stub.api_base,
                "--quiet",
            ],
            cwd=tmp_path,
        )
        requests = stub.requests
    assert result.returncode == 0, result.stderr
    assert requests, "the LLM was never asked"
    prompt = "\n".join(m["content"] for m in requests[0]["messages"])
    assert "weights.food" in prompt and "Battlesnake" in prompt
    trials = load("llm", sqlite_url).trials
    sources = [t.user_attrs.get("proposal_source") for t in trials]
    assert sources[0] == "base"
    advised = [t for t in trials if t.user_attrs.get("proposal_source") in ("llm", "patterns+llm")]
    assert advised and all(t.user_attrs["llm_rationale"] == "eat more" for t in advised)
    assert all(t.user_attrs["llm_models"] == ["openai/stub"] for t in advised)


@pytest.mark.parametrize("command", ["status", "validate", "export", "dashboard"])
def test_read_commands_do_not_create_a_study(tmp_path: Path, command: str) -> None:
    spec = write_spec(tmp_path, "absent")
    result = run_cli([command, "--spec", str(spec)], cwd=tmp_path)
    assert result.returncode == 2
    assert "run optimize first" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "storage" / "absent.db").exists()


def test_checkpoints_belong_to_their_study_and_storage(tmp_path: Path, sqlite_url: str, postgres_url: str) -> None:
    spec = write_spec(tmp_path, "twice", n_trials=2)
    headers = {}
    for url in (sqlite_url, postgres_url):
        ran = run_cli(
            ["optimize", "--spec", str(spec), "--storage", url, "--checkpoint-interval", "1", "--quiet"], cwd=tmp_path
        )
        assert ran.returncode == 0, ran.stderr
        written = {line.rsplit(" -> ", 1)[1] for line in ran.stderr.splitlines() if line.startswith("checkpoint:")}
        (path,) = written
        headers[url] = [line for line in Path(path).read_text().splitlines() if line.startswith("#")]
    files = sorted((tmp_path / "storage" / "twice").glob("best-*.yaml"))
    assert len(files) == 2  # the PostgreSQL study did not overwrite the SQLite study's checkpoint
    sqlite_header, postgres_header = headers[sqlite_url], headers[postgres_url]
    assert "study twice on SQLite file" in sqlite_header[0]
    assert "study twice on PostgreSQL postgres@127.0.0.1:5432/" in postgres_header[0]
    for header in (sqlite_header, postgres_header):
        assert header[1].startswith("# holds trial ") and "(not validated)" in header[1]
