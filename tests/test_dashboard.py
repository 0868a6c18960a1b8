"""The dashboard command serves optuna-dashboard's API for the study, trial attributes included."""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

from _study import run_cli, start_cli, wait_for, write_spec


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_dashboard_shows_the_study_and_its_trial_attributes(tmp_path: Path, sqlite_url: str) -> None:
    spec = write_spec(tmp_path, "shown", n_trials=2)
    assert run_cli(["optimize", "--spec", str(spec), "--storage", sqlite_url, "--quiet"], cwd=tmp_path).returncode == 0
    port = _free_port()
    server = start_cli(["dashboard", "--spec", str(spec), "--storage", sqlite_url, "--port", str(port)], cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:

        def answering() -> bool:
            try:
                _get(f"{base}/api/studies")
            except OSError:
                return False
            return True

        wait_for(answering, timeout=60, what="optuna-dashboard to answer")
        studies = _get(f"{base}/api/studies")["study_summaries"]
        (study,) = [s for s in studies if s["study_name"] == "shown"]
        detail = _get(f"{base}/api/studies/{study['study_id']}")
        trials = detail["trials"]
        assert len(trials) == 2
        keys = {attr["key"] for attr in trials[0]["user_attrs"]}
        assert {"win_rate_ci", "death_causes", "proposal_source", "slot"} <= keys
    finally:
        server.terminate()
        server.communicate(timeout=30)
