"""Names shared by several modules, each defined once: stop reasons, board bounds, ParamInfo."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optuna_clank.arena.bounds import BOARD_MAX, BOARD_MIN, within_bounds
from optuna_clank.cli.argtypes import board_size
from optuna_clank.core.control import CLEAN_STOPS, StopReason
from optuna_clank.run.pool import _read_report
from optuna_clank.run.worker import SlotPlan, SlotReport
from optuna_clank.spec.values import BadValue
from optuna_clank.spec.values import board_size as spec_board_size


def _plan(tmp_path: Path) -> SlotPlan:
    return SlotPlan(
        spec_path="unused.toml",
        storage_url="sqlite:///unused.db",
        target=1,
        slot=3,
        n_slots=4,
        device="cpu",
        control_dir=str(tmp_path),
    )


@pytest.mark.parametrize("reason", list(StopReason))
def test_a_stop_reason_reads_back_from_the_slot_report_as_the_same_string(tmp_path: Path, reason: StopReason) -> None:
    SlotReport(slot=3, device="cpu", stopped=reason).save(str(tmp_path))
    (saved,) = tmp_path.glob("slot-3-*.json")
    assert json.loads(saved.read_text())["stopped"] == reason.value  # the file holds the plain string
    back = _read_report(_plan(tmp_path), os.getpid())
    assert type(back.stopped) is str and back.stopped == reason
    assert (back.stopped in CLEAN_STOPS) == (reason in {"target reached", "stop requested", "timeout"})


def test_stop_reasons_keep_their_strings_and_a_missing_report_says_so(tmp_path: Path) -> None:
    assert [str(r) for r in StopReason] == ["target reached", "stop requested", "timeout", "aborted", "no report"]
    assert _read_report(_plan(tmp_path), os.getpid()).stopped == StopReason.NO_REPORT
    assert "5 failed trials in a row" not in CLEAN_STOPS


@pytest.mark.parametrize(
    ("width", "height", "ok"),
    [(6, 11, False), (7, 7, True), (11, 25, True), (25, 25, True), (11, 26, False), (26, 7, False), (0, 0, False)],
)
def test_the_command_line_the_spec_and_play_match_agree_on_board_bounds(width: int, height: int, ok: bool) -> None:
    assert (BOARD_MIN, BOARD_MAX) == (7, 25)
    assert within_bounds(width, height) is ok
    if ok:
        assert board_size(f"{width}x{height}") == (width, height)
        assert spec_board_size([width, height]) == (width, height)
        return
    with pytest.raises(argparse.ArgumentTypeError, match=r"7\.\.25"):
        board_size(f"{width}x{height}")
    with pytest.raises(BadValue, match=r"7\.\.25"):
        spec_board_size([width, height])


def test_play_match_refuses_boards_out_of_bounds_and_plays_the_edges() -> None:
    from optuna_clank.arena.match import play_match

    for size in ((6, 7), (7, 26)):
        with pytest.raises(ValueError, match=r"within 7\.\.25"):
            play_match(None, "baseline", games=1, board_size=size, max_turns=1)
    for size in ((7, 7), (25, 25)):
        assert play_match(None, "baseline", games=1, board_size=size, max_turns=1).games == 1


def test_the_codec_describes_parameters_without_loading_the_llm_advisor() -> None:
    script = textwrap.dedent(
        """
        import sys
        from optuna.distributions import FloatDistribution, IntDistribution
        from optuna_clank.sampler._codec import ParamCodec
        from optuna_clank.sampler._param_info import ParamInfo
        assert "optuna_clank.sampler._llm" not in sys.modules, "the codec imported the LLM advisor"
        codec = ParamCodec({"x": FloatDistribution(0.1, 10.0, log=True), "k": IntDistribution(1, 9)})
        infos = codec.param_infos(base={"x": 1.0, "k": 3}, best={"k": 5})
        assert infos == (
            ParamInfo("x", 0.1, 10.0, log=True, is_int=False, best=None, base=1.0),
            ParamInfo("k", 1, 9, log=False, is_int=True, best=5.0, base=3.0),
        ), infos
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
