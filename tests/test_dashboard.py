"""optuna-dashboard on a real study: its JSON API, the dashboard command, optimize --dashboard, and a real browser.

One short CLI run (``optimize`` then ``validate``) builds the study every test here looks at;
the dashboard must show its study note, every trial's note and every trial's replay and picture.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from _study import load, run_cli, start_cli, write_spec

STUDY = "shown"


@dataclass(frozen=True)
class BuiltStudy:
    folder: Path
    spec: Path
    storage_url: str
    artifacts: Path
    validated: int


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltStudy:
    """``optimize`` (3 trials, default storage) then ``validate --top 1``, run as a user would."""
    folder = tmp_path_factory.mktemp("dashboard")
    spec = write_spec(folder, STUDY, n_trials=3, games=4)
    optimized = run_cli(["optimize", "--spec", str(spec), "--quiet"], cwd=folder)
    assert optimized.returncode == 0, optimized.stderr
    validated = run_cli(["validate", "--spec", str(spec), "--top", "1", "--games", "10", "--json"], cwd=folder)
    assert validated.returncode == 0, validated.stderr
    (label,) = [key for key in json.loads(validated.stdout)["records"] if key.startswith("trial ")]
    return BuiltStudy(
        folder=folder,
        spec=spec,
        storage_url=f"sqlite:///{folder / 'storage' / f'{STUDY}.db'}",
        artifacts=folder / "storage" / STUDY / "artifacts",
        validated=int(label.split()[1]),
    )


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        del args


@pytest.fixture(scope="module")
def served(built: BuiltStudy) -> Iterator[str]:
    """optuna-dashboard's own WSGI app on the study, served by wsgiref in a thread; yields its base URL."""
    import optuna_dashboard
    from optuna.artifacts import FileSystemArtifactStore

    from optuna_clank.study.storage import open_storage

    app = optuna_dashboard.wsgi(
        open_storage(built.storage_url, heartbeat=None), artifact_store=FileSystemArtifactStore(built.artifacts)
    )
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def _artifact_url(base: str, trial: dict[str, Any], artifact: dict[str, Any]) -> str:
    """Where optuna-dashboard serves a trial's artifact (what the page's links point at)."""
    return f"{base}artifacts/{trial['study_id']}/{trial['trial_id']}/{artifact['artifact_id']}"


def _study_detail(base: str) -> dict[str, Any]:
    studies = json.loads(_get(f"{base}api/studies"))["study_summaries"]
    (summary,) = [s for s in studies if s["study_name"] == STUDY]
    return json.loads(_get(f"{base}api/studies/{summary['study_id']}"))


def test_api_shows_the_study_note_metric_names_trial_notes_and_artifacts(built: BuiltStudy, served: str) -> None:
    detail = _study_detail(served)
    assert detail["objective_names"] == ["score"]
    note = detail["note"]["body"]
    for text in ("### Benchmark", "`baseline`", "7x7", "**Games per trial**: 4", "seed 7", "### Sampler", "`clank`"):
        assert text in note
    validation = note.split("### Validation", 1)[1]
    assert f"| trial {built.validated} |" in validation
    assert "| base config |" in validation
    assert " points (" in validation and ", paired, " in validation  # validate's paired difference and interval

    stored = {t.number: t for t in load(STUDY, built.storage_url).trials}
    trials = detail["trials"]
    assert sorted(t["number"] for t in trials) == [0, 1, 2]
    for trial in trials:
        attrs = stored[trial["number"]].user_attrs
        body = trial["note"]["body"]
        assert body.startswith(f"## Trial {trial['number']}: proposed by {attrs['proposal_source']}")
        assert f"over {attrs['games_played']} games: {attrs['wins']} wins" in body
        assert "### Changed parameters (vs the base config)" in body
        assert "### Deaths of the tuned snake" in body
        names = sorted(a["filename"] for a in trial["artifacts"])
        assert len(names) == 2
        replay_name, picture_name = names
        assert replay_name.endswith("-replay.json") and picture_name.endswith(".svg")
        # The note names the files as they lie on disk, under these readable names, and how to show the replay.
        assert f"`storage/{STUDY}/replays/{replay_name}`" in body
        assert f"`storage/{STUDY}/replays/{picture_name}`" in body
        assert f"`python -m optuna_clank replay --study {STUDY} --trial {trial['number']}`" in body
        readable = built.folder / "storage" / STUDY / "replays"
        assert (readable / replay_name).is_file() and (readable / picture_name).is_file()
        by_name = {a["filename"]: a for a in trial["artifacts"]}
        assert by_name[picture_name]["mimetype"] == "image/svg+xml"

        replay = json.loads(_get(_artifact_url(served, trial, by_name[replay_name])))
        assert replay[0]["turn"] == 0
        assert "candidate" in {s["id"] for s in replay[0]["board"]["snakes"]}
        turn = int(picture_name.rsplit("-turn-", 1)[1].removesuffix(".svg"))
        assert turn in {frame["turn"] for frame in replay}
        picture = _get(_artifact_url(served, trial, by_name[picture_name]))
        assert ET.fromstring(picture).tag == "{http://www.w3.org/2000/svg}svg"


def _first_url(stream: Any, marker: str) -> str:
    """Read lines until one holds ``marker``; return the URL on it (fails if the process ends first)."""
    seen = []
    for line in stream:
        seen.append(line)
        if marker in line:
            return "http" + line.split("http", 1)[1].split()[0]
    raise AssertionError(f"no {marker!r} line; the process printed: {''.join(seen)!r}")


def test_dashboard_command_serves_the_study_on_the_default_storage(built: BuiltStudy) -> None:
    server = start_cli(["dashboard", "--spec", str(built.spec), "--port", "0"], cwd=built.folder)
    try:
        base = _first_url(server.stdout, "optuna-dashboard for")
        assert base.startswith("http://127.0.0.1:")
        detail = _study_detail(base)
        trial = detail["trials"][0]
        keys = {attr["key"] for attr in trial["user_attrs"]}
        assert {"win_rate_ci", "death_causes", "proposal_source", "slot"} <= keys
        assert "Trial 0" in trial["note"]["body"]
        artifact = trial["artifacts"][0]
        assert _get(_artifact_url(base, trial, artifact))
        assert "### Validation" in detail["note"]["body"]
        server.send_signal(signal.SIGINT)  # Ctrl-C: the normal way to stop it
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0
    assert stderr.endswith("optuna-dashboard stopped\n")


def test_dashboard_command_says_when_the_port_is_taken_or_the_storage_unreachable(built: BuiltStudy) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        taken = run_cli(["dashboard", "--spec", str(built.spec), "--port", str(port)], cwd=built.folder, timeout=60)
    assert taken.returncode == 2
    assert (
        taken.stderr == f"error: port {port} on 127.0.0.1 is taken (another dashboard?); choose another with --port\n"
    )

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    url = f"postgresql://postgres@127.0.0.1:{closed}/test"
    unreachable = run_cli(["dashboard", "--spec", str(built.spec), "--storage", url], cwd=built.folder, timeout=60)
    assert unreachable.returncode == 2
    assert unreachable.stderr.count("\n") == 1
    assert unreachable.stderr.startswith(
        f"error: cannot connect to PostgreSQL at postgresql+psycopg://postgres@127.0.0.1:{closed}"
    )


def test_dashboard_server_refuses_a_taken_port_with_one_line(built: BuiltStudy) -> None:
    from optuna_clank.core.errors import UserError
    from optuna_clank.study.dashboard import DashboardServer

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(UserError, match=f"^port {port} on 127.0.0.1 is taken"):
            DashboardServer(built.storage_url, built.artifacts, port=port)
    with DashboardServer(built.storage_url, built.artifacts, port=0) as server:
        assert STUDY in _get(f"{server.url}api/studies").decode()
    with pytest.raises(urllib.error.URLError):
        _get(f"{server.url}api/studies")


@pytest.mark.slow
def test_optimize_dashboard_serves_while_the_run_lasts_and_stops_with_it(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, "live", n_trials=500, games=4)
    run = start_cli(["optimize", "--spec", str(spec), "--quiet", "--dashboard", "--dashboard-port", "0"], cwd=tmp_path)
    try:
        base = _first_url(run.stderr, "optuna-dashboard:")
        studies = json.loads(_get(f"{base}api/studies"))["study_summaries"]
        assert [s["study_name"] for s in studies] == ["live"]
        assert "### Benchmark" in _study_detail_named(base, "live")["note"]["body"]
        run.send_signal(signal.SIGINT)  # once: finish the running trial, then stop
        run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0
    with pytest.raises(urllib.error.URLError):
        _get(f"{base}api/studies")


def _study_detail_named(base: str, name: str) -> dict[str, Any]:
    studies = json.loads(_get(f"{base}api/studies"))["study_summaries"]
    (summary,) = [s for s in studies if s["study_name"] == name]
    return json.loads(_get(f"{base}api/studies/{summary['study_id']}"))


# --------------------------------------------------------------------------- a real browser

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def _chromium() -> tuple[str, str]:
    """Paths of chromium and chromedriver; FAILS without them unless OPTUNA_CLANK_SKIP_BROWSER=1."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.environ.get("OPTUNA_CLANK_SKIP_BROWSER") == "1":
        pytest.skip("browser test skipped (OPTUNA_CLANK_SKIP_BROWSER=1; chromium or chromedriver not found)")
    pytest.fail(
        "chromium and chromedriver are needed for the browser test: apt-get install chromium chromium-driver "
        "(.ci/run does), or set OPTUNA_CLANK_SKIP_BROWSER=1 to skip it",
        pytrace=False,
    )


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    browser_path, driver_path = _chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_path
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def _wait_for_text(driver: Any, texts: tuple[str, ...], what: str) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def body_text(d: Any) -> str | bool:
        text = d.find_element(By.TAG_NAME, "body").text
        return text if all(t in text for t in texts) else False

    try:
        return WebDriverWait(driver, 60, poll_frequency=0.5).until(body_text)
    except Exception as exc:  # selenium's TimeoutException: say what was missing
        shown = driver.find_element(By.TAG_NAME, "body").text
        missing = [t for t in texts if t not in shown]
        raise AssertionError(f"{what}: {missing} not on the page; it shows {shown[:800]!r}") from exc


@pytest.mark.slow
def test_browser_shows_the_study_page_and_a_trial_with_its_note_and_artifacts(
    built: BuiltStudy, served: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    detail = _study_detail(served)
    trial = next(t for t in detail["trials"] if t["number"] == built.validated)
    study_id = trial["study_id"]

    browser.get(f"{served}dashboard/studies/{study_id}")
    _wait_for_text(browser, (STUDY, "History"), "study page")
    study_shot = tmp_path / "study.png"
    assert browser.save_screenshot(str(study_shot))

    browser.get(f"{served}dashboard/studies/{study_id}/note")
    _wait_for_text(browser, ("Benchmark", "Games per trial", "Validation", f"trial {built.validated}"), "study note")
    note_shot = tmp_path / "note.png"
    assert browser.save_screenshot(str(note_shot))

    browser.get(f"{served}dashboard/studies/{study_id}/trials?numbers={trial['number']}")
    picture = next(a for a in trial["artifacts"] if a["filename"].endswith(".svg"))
    replay = next(a for a in trial["artifacts"] if a["filename"].endswith(".json"))
    heading = f"Trial {trial['number']}: proposed by"
    _wait_for_text(
        browser,
        (
            heading,
            "Changed parameters",
            "Deaths of the tuned snake",
            "Artifacts",
            picture["filename"],
            replay["filename"],
        ),
        "trial page",
    )
    image = browser.find_element(By.CSS_SELECTOR, f"img[src*='{picture['artifact_id']}']")
    browser.execute_script("arguments[0].scrollIntoView();", image)
    WebDriverWait(browser, 60, poll_frequency=0.5).until(
        lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0;", image),
        "the key-moment picture did not load in the browser",
    )
    trial_shot = tmp_path / "trial.png"
    assert browser.save_screenshot(str(trial_shot))
    shots = (study_shot, note_shot, trial_shot)
    assert all(shot.stat().st_size > 10_000 for shot in shots)
    if os.environ.get("OPTUNA_CLANK_KEEP_SCREENSHOTS"):
        keep = Path(os.environ["OPTUNA_CLANK_KEEP_SCREENSHOTS"])
        keep.mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, keep / shot.name)
