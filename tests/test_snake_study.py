"""Studies that tune a snake server started per trial: real ``optimize`` runs, real servers, real HTTP.

The snake is ``python -m optuna_clank serve --config {config}``, so each trial's games can be
compared with the same config played in-process: equal results prove the server played the
trial's own config. Workspaces go under the test's folder (``TMPDIR``), so the test can also
prove that no server process and no workspace outlives the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from optuna_clank.arena.config import default_config, with_values
from optuna_clank.arena.match import play_match
from optuna_clank.core.attributes import SNAKE_ERROR_KEY, SNAKE_STDERR_KEY
from optuna_clank.study.storage import StorageError
from tests._study import cli_env, load, wait_for

BENCHMARK = {"games": 2, "board": 7, "max_turns": 60, "seed": 11}


def study_spec(
    folder: Path, name: str, command: list[str], *, n_trials: int, checkpoint: int = 0, move_timeout_ms: int = 10000
) -> Path:
    """A tiny spec whose [snake] is ``command``; trials play 2 short games each on a 7x7 board."""
    path = folder / f"{name}.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [study]
            name = "{name}"
            n_trials = {n_trials}

            [benchmark]
            opponents = ["baseline"]
            games_per_trial = {BENCHMARK["games"]}
            round_size = {BENCHMARK["games"]}
            board_size = {BENCHMARK["board"]}
            max_turns = {BENCHMARK["max_turns"]}
            seed = {BENCHMARK["seed"]}

            [sampler]
            name = "random"
            seed = 5

            [pruner]
            name = "none"

            [parallel]
            n_jobs = 1

            [checkpoint]
            interval = {checkpoint}

            [snake]
            command = {json.dumps(command)}
            url = "http://127.0.0.1:{{port}}"
            startup_timeout = 120
            move_timeout_ms = {move_timeout_ms}

            [search_space]
            "weights.food" = {{ low = 0.1, high = 1000.0, log = true }}
            "weights.center_control" = {{ low = 0.1, high = 1000.0, log = true }}
            "weights.straight_movement" = {{ low = 0.1, high = 1000.0, log = true }}
            """
        )
    )
    return path


def optimize(spec: Path, workspaces: Path) -> subprocess.CompletedProcess[str]:
    """``optimize`` in a subprocess whose temporary folders (the trials' workspaces) are ``workspaces``."""
    workspaces.mkdir(exist_ok=True)
    env = cli_env() | {"TMPDIR": str(workspaces)}
    return subprocess.run(
        [sys.executable, "-m", "optuna_clank", "optimize", "--spec", str(spec), "--quiet"],
        cwd=spec.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def processes_mentioning(text: str) -> list[str]:
    """Command lines of live processes that mention ``text`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(cmdline)
    return found


def in_process(params: dict[str, float]) -> tuple[dict[int, float], float]:
    """The trial's games played in-process with the same config: scores by game and mean turns."""
    config = with_values(default_config(), params)
    result = play_match(
        config,
        "baseline",
        games=BENCHMARK["games"],
        seed=BENCHMARK["seed"],
        board_size=BENCHMARK["board"],
        max_turns=BENCHMARK["max_turns"],
    )
    return {o.game: o.score for o in result.outcomes}, round(result.avg_turns, 2)


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_each_trial_starts_its_own_server_with_its_config_and_stops_it(tmp_path: Path) -> None:
    # The first start is refused on purpose: that trial fails with the server's stderr, the study goes on.
    marker = tmp_path / "refused-once"
    wrapper = tmp_path / "refuse_first_start.py"
    wrapper.write_text(
        f"MARKER = {str(marker)!r}\n"
        + textwrap.dedent(
            """
            import os, sys
            from pathlib import Path
            if not Path(MARKER).exists():
                Path(MARKER).write_text(sys.argv[sys.argv.index("--config") + 1])
                print("refusing the first start on purpose", file=sys.stderr)
                sys.exit(3)
            os.execv(sys.executable, [sys.executable, "-m", "optuna_clank", "serve", *sys.argv[1:]])
            """
        )
    )
    command = [sys.executable, str(wrapper), "--port", "{port}", "--config", "{config}"]
    spec = study_spec(tmp_path, "served", command, n_trials=3, checkpoint=1)
    workspaces = tmp_path / "workspaces"

    run = optimize(spec, workspaces)

    assert run.returncode == 0, run.stderr
    study = load("served", f"sqlite:///{tmp_path / 'storage' / 'served.db'}")
    trials = study.get_trials(deepcopy=False)
    failed = [t for t in trials if t.state == TrialState.FAIL]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(failed) == 1 and len(complete) == 3
    assert "exited with status 3" in failed[0].user_attrs[SNAKE_ERROR_KEY]
    assert "refusing the first start on purpose" in failed[0].user_attrs[SNAKE_STDERR_KEY]

    default_turns = in_process({})[1]
    turns_seen = set()
    for trial in complete:
        scores, avg_turns = in_process(trial.params)
        assert trial.intermediate_values == scores, f"trial {trial.number} did not play its own config"
        assert trial.user_attrs["avg_turns"] == avg_turns, f"trial {trial.number} did not play its own config"
        assert trial.user_attrs["http_timeouts"] == 0
        assert trial.user_attrs["http_errors"] == 0
        turns_seen.add(avg_turns)
    assert len(turns_seen | {default_turns}) > 1, "the configs must change play, or the check above proves nothing"

    for trial in trials:
        if "snake_pid" in trial.user_attrs:
            assert not _alive(trial.user_attrs["snake_pid"]), f"trial {trial.number}'s server is still running"
    assert Path(marker.read_text()).is_relative_to(workspaces)  # so the two checks below look in the right place
    assert processes_mentioning(str(tmp_path)) == []
    assert trial_workspaces(workspaces) == []

    # The best config is exported in the server's own YAML: its base's keys kept, the tuned ones set.
    best = max(complete, key=lambda t: (t.value, -t.number))
    tuned = {"weights": {key.split(".")[1]: value for key, value in best.params.items()}}
    (checkpoint,) = (tmp_path / "storage" / "served").glob("best-*.yaml")  # one per study and storage
    assert yaml.safe_load(checkpoint.read_text()) == tuned
    base = tmp_path / "bot.yaml"
    base.write_text("bot:\n  name: mine\nweights:\n  space: 3\n")
    exported = subprocess.run(
        [sys.executable, "-m", "optuna_clank", "export", "--spec", str(spec), "--base", str(base)],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    assert yaml.safe_load(exported.stdout) == {"bot": {"name": "mine"}, "weights": {"space": 3, **tuned["weights"]}}


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_a_snake_that_exits_at_once_fails_its_trials_and_the_run_fails_saying_why(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('cannot open {config}: no bot here', file=sys.stderr); exit(4)"]
    spec = study_spec(tmp_path, "broken", [*command, "{port}"], n_trials=2)

    run = optimize(spec, tmp_path / "workspaces")

    assert run.returncode == 1, run.stderr  # every slot gave up with the target unmet: not a success
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: study broken holds 0 of its 2 finished trials: every slot gave up (slot 0: ")
    assert "5 failed trials in a row" in last and "exited with status 4" in last
    assert "Traceback" not in run.stderr
    assert "each trial starts server " in run.stderr
    study = load("broken", f"sqlite:///{tmp_path / 'storage' / 'broken.db'}")
    trials = study.get_trials(deepcopy=False)
    assert trials and all(t.state == TrialState.FAIL for t in trials)
    for trial in trials:
        assert "no bot here" in trial.user_attrs[SNAKE_STDERR_KEY]
        assert "exited with status 4" in trial.user_attrs[SNAKE_ERROR_KEY]
    assert "0 finished" in run.stderr and f"{len(trials)} failed" in run.stderr
    assert trial_workspaces(tmp_path / "workspaces") == []


def trial_workspaces(folder: Path) -> list[Path]:
    """Trial workspaces left in ``folder`` (SnakeServer names them ``clank-<label>-...``)."""
    return [path for path in folder.iterdir() if path.name.startswith("clank-")]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_validate_on_the_real_server_replays_a_stand_in_study_there(tmp_path: Path) -> None:
    served = study_spec(
        tmp_path,
        "real",
        [sys.executable, "-m", "optuna_clank", "serve", "--port", "{port}", "--config", "{config}"],
        n_trials=2,  # trial 0 plays the base config itself: validate compares trial 1 with the base
    )
    stand_in = tmp_path / "standin.toml"
    text = served.read_text().replace('name = "real"', 'name = "standin"')
    stand_in.write_text(text[: text.index("[snake]")] + text[text.index("[search_space]") :])
    tuned = subprocess.run(
        [sys.executable, "-m", "optuna_clank", "optimize", "--spec", str(stand_in), "--quiet"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tuned.returncode == 0, tuned.stderr

    args = [
        "validate",
        "--spec",
        str(stand_in),
        "--snake",
        str(served),
        "--top",
        "1",
        "--games",
        "4",
        "--seed",
        "99",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "optuna_clank", *args, "--json"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    records = json.loads(run.stdout)["records"]
    assert records["base config"]["snake"] == records[next(k for k in records if k.startswith("trial"))]["snake"]
    study = load("standin", f"sqlite:///{tmp_path / 'storage' / 'standin.db'}")
    (label,) = [key for key in records if key.startswith("trial")]
    trial = study.trials[int(label.split()[1])]
    config = with_values(default_config(), trial.params)
    expected = play_match(
        config, "baseline", games=4, seed=99, board_size=BENCHMARK["board"], max_turns=BENCHMARK["max_turns"]
    )
    assert records[label]["snake"].startswith("server ")
    assert (records[label]["wins"], records[label]["draws"]) == (expected.wins, expected.draws)
    text_run = subprocess.run(
        [sys.executable, "-m", "optuna_clank", *args],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "played by server" in text_run.stdout and "tuned on built-in heuristic" in text_run.stdout


CRASHING_SERVER = """
import http.server, json, sys

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"apiversion": "1"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path == "/move":
            print("crashing at the first move on purpose", file=sys.stderr, flush=True)
            sys.stderr.flush()
            import os
            os._exit(5)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_a_server_that_dies_mid_trial_fails_that_trial_with_its_stderr(tmp_path: Path) -> None:
    script = tmp_path / "crashing_server.py"
    script.write_text(CRASHING_SERVER)
    spec = study_spec(tmp_path, "crashing", [sys.executable, str(script), "{port}", "{config}"], n_trials=1)

    run = optimize(spec, tmp_path / "workspaces")

    assert run.returncode == 1, run.stderr  # no trial finished: the run says why and fails
    assert run.stderr.strip().splitlines()[-1].startswith("error: study crashing holds 0 of its 1 finished trials")
    study = load("crashing", f"sqlite:///{tmp_path / 'storage' / 'crashing.db'}")
    trials = study.get_trials(deepcopy=False)
    assert trials and all(t.state == TrialState.FAIL for t in trials)
    first = trials[0]
    assert "exited with status 5 while playing" in first.user_attrs[SNAKE_ERROR_KEY]
    assert "crashing at the first move on purpose" in first.user_attrs[SNAKE_STDERR_KEY]
    assert first.user_attrs["http_disconnects"] + first.user_attrs["http_errors"] > 0
    assert trial_workspaces(tmp_path / "workspaces") == []


FAULTY_SERVER = """
import http.server, json, sys

MODE = sys.argv[2]

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self._reply(200, json.dumps({"apiversion": "1"}).encode())

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/move":
            self._reply(200, b"{}")
        elif MODE == "garbage":
            self._reply(200, b"<html>not a move</html>")
        elif MODE == "500":
            self._reply(500, b'{"error": "boom"}')
        else:  # "nothing": holds the request without a word
            self.rfile.read()

    def _reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

print("faulty snake up, mode", MODE, file=sys.stderr, flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


@pytest.mark.parametrize(
    ("mode", "fault"),
    [
        ("garbage", "invalid answers"),
        pytest.param("500", "errors", marks=pytest.mark.slow),
        pytest.param("nothing", "timeouts", marks=pytest.mark.slow),
    ],
)
def test_a_server_that_answers_garbage_500_or_nothing_fails_its_trials_and_the_run_says_so(
    tmp_path: Path, mode: str, fault: str
) -> None:
    script = tmp_path / "faulty_server.py"
    script.write_text(FAULTY_SERVER)
    command = [sys.executable, str(script), "{port}", mode, "{config}"]
    spec = study_spec(tmp_path, "faulty", command, n_trials=2, move_timeout_ms=300)

    run = optimize(spec, tmp_path / "workspaces")

    assert run.returncode == 1, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: study faulty holds 0 of its 2 finished trials: every slot gave up")
    assert "ServerFaultsError: the tuned snake's server failed" in last and fault in last
    study = load("faulty", f"sqlite:///{tmp_path / 'storage' / 'faulty.db'}")
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 5 and all(t.state == TrialState.FAIL for t in trials)  # no retry, no queued copy
    for trial in trials:
        reason = trial.user_attrs[SNAKE_ERROR_KEY]
        assert "the tuned snake's server failed" in reason and f" {fault})" in reason
        assert "more than [benchmark] max_faults = 0 allows" in reason
        assert "faulty snake up, mode " + mode in trial.user_attrs[SNAKE_STDERR_KEY]
        assert sum(trial.user_attrs[f"http_{kind}"] for kind in ("timeouts", "errors", "invalid", "disconnects")) > 0
    status = subprocess.run(
        [sys.executable, "-m", "optuna_clank", "status", "--spec", str(spec)],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert status.returncode == 0, status.stderr
    assert "faults: snake " in status.stdout and "failed: the tuned snake's server failed" in status.stdout
    assert trial_workspaces(tmp_path / "workspaces") == []


@pytest.mark.slow  # an end-to-end run: nox -s e2e
def test_a_run_killed_with_sigkill_takes_its_trial_server_down_too(tmp_path: Path) -> None:
    script = tmp_path / "hanging_server.py"
    script.write_text(CRASHING_SERVER.replace("os._exit(5)", "import time; time.sleep(3600)"))
    command = [sys.executable, str(script), "{port}", "{config}"]
    spec = study_spec(tmp_path, "killed", command, n_trials=1, move_timeout_ms=3_600_000)
    (tmp_path / "workspaces").mkdir()
    log = tmp_path / "run.log"
    run = subprocess.Popen(
        [sys.executable, "-m", "optuna_clank", "optimize", "--spec", str(spec), "--quiet"],
        cwd=tmp_path,
        env=cli_env() | {"TMPDIR": str(tmp_path / "workspaces")},
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    url = f"sqlite:///{tmp_path / 'storage' / 'killed.db'}"
    server: list[int] = []

    def server_playing() -> bool:
        if not (tmp_path / "storage" / "killed.db").exists():
            return False
        try:
            running = load("killed", url).get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        except (KeyError, StorageError):  # not created yet, or its tables are being created right now
            return False
        server[:] = [t.user_attrs["snake_pid"] for t in running if "snake_pid" in t.user_attrs]
        return bool(server) and _alive(server[0])

    try:
        try:
            wait_for(server_playing, timeout=120, what="a trial whose server hangs on its first move")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the run said:\n{log.read_text()[-3000:]}") from None
        run.kill()  # SIGKILL: the run cannot stop the server itself
        run.wait(timeout=30)
        wait_for(lambda: not _alive(server[0]), timeout=30, what="the orphaned server to exit")
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
        if server and _alive(server[0]):  # the test failed: do not leave the orphan behind
            os.kill(server[0], signal.SIGKILL)


def test_validate_stores_but_refuses_the_records_of_a_server_that_answers_garbage(tmp_path: Path) -> None:
    script = tmp_path / "faulty_server.py"
    script.write_text(FAULTY_SERVER)
    faulty = study_spec(tmp_path, "faulty", [sys.executable, str(script), "{port}", "garbage", "{config}"], n_trials=1)
    stand_in = tmp_path / "standin.toml"
    text = faulty.read_text().replace('name = "faulty"', 'name = "standin"')
    stand_in.write_text(text[: text.index("[snake]")] + text[text.index("[search_space]") :])
    (tmp_path / "storage").mkdir()
    study = optuna.create_study(study_name="standin", storage=f"sqlite:///{tmp_path / 'storage' / 'standin.db'}")
    space = {name: optuna.distributions.FloatDistribution(0.1, 1000.0, log=True) for name in _SPACE}
    study.add_trial(optuna.trial.create_trial(params=dict.fromkeys(_SPACE, 5.0), distributions=space, value=0.5))
    args = ["validate", "--spec", str(stand_in), "--snake", str(faulty), "--top", "1", "--games", "2", "--seed", "9"]

    shown = _cli([*args, "--json"], cwd=tmp_path)
    text_run = _cli(args, cwd=tmp_path)

    assert shown.returncode == 1, shown.stderr
    records = json.loads(shown.stdout)["records"]
    assert set(records) == {"trial 0", "base config"}
    for record in records.values():
        assert record["faults"]["invalid"] > 0 and record["answers"] >= record["faults"]["invalid"]
        assert "the tuned snake's server failed" in record["refused"] and "check the bot" in record["refused"]
    assert json.loads(shown.stdout)["best_kind"] == "raw"  # refused records judge nothing
    assert text_run.returncode == 1
    assert "server faults: " in text_run.stdout and " of the snake's " in text_run.stdout
    assert "REFUSED for the verdict" in text_run.stdout
    errors = [line for line in text_run.stderr.splitlines() if line.startswith("error: ")]
    assert [line.split(":")[1] for line in errors] == [" trial 0", " base config"]
    assert all("refused for the verdict: the tuned snake's server failed" in line for line in errors)
    stored = load("standin", f"sqlite:///{tmp_path / 'storage' / 'standin.db'}").user_attrs
    assert stored["validated:0"]["refused"] and stored["validated_base"]["refused"]  # stored, with the reason
    status = _cli(["status", "--spec", str(stand_in), "--json"], cwd=tmp_path)
    assert set(json.loads(status.stdout)["validation_records_refused"]) == {"trial 0", "base config"}
    reused = _cli([*args, "--no-base"], cwd=tmp_path)
    assert reused.returncode == 2 and "the stored base-config record on these games was refused" in reused.stderr


_SPACE = ("weights.food", "weights.center_control", "weights.straight_movement")


def _cli(args: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "optuna_clank", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
