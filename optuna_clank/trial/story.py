"""Each finished trial's story for optuna-dashboard: a markdown note, a replay and a picture.

A trial's value says *how well* a config played; the note says where the config came from
(sampler, LLM rationale, winning patterns), what it changed against the base config, and how
its snake died; the replay and the picture of its key moment show *how* it loses.

The objective asks a :class:`TrialStory` which games of its first round to record (a few, so
the cost stays at one short game's history per trial), hands it every match result, and calls
:meth:`TrialStory.tell` before the trial returns or is pruned: ``save_note`` and
``upload_artifact`` need the live trial. Telling the story must never cost the trial its
value, so a failure to write it is logged and the trial goes on; without the dashboard extra
(optuna-dashboard) no story is told at all.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.board_svg import board_svg
from optuna_clank.arena.match import GameOutcome, MatchResult
from optuna_clank.arena.replay import key_moment, snake_ids
from optuna_clank.arena.served.faults import count_faults, describe_faults, servers_involved
from optuna_clank.core.attributes import (
    BASE_TRIAL_KEY,
    LLM_MODELS_KEY,
    LLM_RATIONALE_KEY,
    NN_PATTERNS_KEY,
    PROPOSAL_SOURCE_KEY,
    REJECTED_PROPOSALS_KEY,
)
from optuna_clank.core.extras import MissingExtraError, require
from optuna_clank.core.optuna_private import trial_id_of
from optuna_clank.core.paths import DEFAULT_STORAGE_DIR
from optuna_clank.core.stats import PHASE_TURNS, wilson_interval
from optuna_clank.trial.artifacts import replay_name, save_trial_artifact
from optuna_clank.trial.base_trial import base_trial_params

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import StudySpec

_LOG = logging.getLogger("optuna_clank")

RECORDED_GAMES = 3
"""Games of a trial's first round recorded turn by turn; one of them is kept (a loss if any)."""

_MAX_CHANGED_ROWS = 15
_PHASES = ("early", "mid", "late")


def artifact_dir(study_name: str, *, root: Path | None = None) -> Path:
    """``<root>/storage/<study>/artifacts`` (absolute): the folder the dashboard serves artifacts from."""
    return (root if root is not None else Path.cwd()).absolute() / DEFAULT_STORAGE_DIR / study_name / "artifacts"


class StoryTeller:
    """Makes a :class:`TrialStory` per trial of one study; holds what every story needs."""

    def __init__(
        self,
        *,
        base_params: Mapping[str, float],
        artifacts: Path | None,
        servers: bool = False,
        server_snake: bool = False,
    ) -> None:
        self.base_params = dict(base_params)
        self.artifacts = artifacts
        self.servers = servers
        """Whether the games ask snake servers (the tuned snake's or an opponent's): notes count their faults."""
        self.server_snake = server_snake
        self.tells = _dashboard_installed()
        """Whether stories are told: optuna-dashboard (the dashboard extra) saves the notes."""

    @classmethod
    def for_spec(cls, spec: StudySpec, *, artifacts: Path | None = None) -> StoryTeller:
        """Stories against the spec's base config, artifacts under :func:`artifact_dir` by default."""

        return cls(
            base_params=base_trial_params(spec),
            artifacts=artifacts or artifact_dir(spec.name),
            servers=servers_involved(spec.snake.is_server, spec.benchmark.opponents),
            server_snake=spec.snake.is_server,
        )

    def begin(self) -> TrialStory:
        return TrialStory(self)


class TrialStory:
    """One trial's recorded games, and the note and artifacts made from them."""

    def __init__(self, teller: StoryTeller) -> None:
        self.teller = teller
        self.frames: dict[int, list[dict[str, Any]]] = {}
        self._recording_asked = False

    def games_to_record(self, games: Sequence[int]) -> list[int]:
        """The games of this round to record: a few of the first round, none afterwards."""
        if self._recording_asked or not self.teller.tells:
            return []
        self._recording_asked = True
        return list(games[:RECORDED_GAMES])

    def keep(self, result: MatchResult) -> None:
        self.frames.update(result.history)

    def tell(
        self,
        trial: optuna.Trial,
        params: Mapping[str, Any],
        outcomes: Sequence[GameOutcome],
        *,
        planned: int,
        failure: str | None = None,
    ) -> None:
        """Save the trial's note and upload its replay and picture (logged, never raised, on failure).

        ``failure``: why the trial fails (a snake server's trouble), told at the top of its note.
        """
        if not self.teller.tells:
            return
        try:
            self._tell(trial, params, outcomes, planned=planned, failure=failure)
        except Exception as exc:  # the story is a report; the trial's value matters more
            _LOG.warning("trial %d: no note or artifacts saved: %s: %s", trial.number, type(exc).__name__, exc)

    def _tell(
        self,
        trial: optuna.Trial,
        params: Mapping[str, Any],
        outcomes: Sequence[GameOutcome],
        *,
        planned: int,
        failure: str | None,
    ) -> None:
        import optuna_dashboard  # noqa: PLC0415 - deferred: loads optuna_dashboard

        attrs = trial.storage.get_trial(trial_id_of(trial)).user_attrs  # fresh: the sampler wrote some
        shown = featured_game(outcomes, self.frames)
        files: list[str] = []
        if shown is not None and self.teller.artifacts is not None:
            try:
                files = self._upload(trial, shown, self.frames[shown.game])
            except OSError as exc:  # e.g. an artifact folder that cannot be written: the note still helps
                _LOG.warning("trial %d: replay not saved under %s: %s", trial.number, self.teller.artifacts, exc)
        note = trial_note(
            trial.number,
            params=params,
            base_params=self.teller.base_params,
            attrs=attrs,
            outcomes=outcomes,
            planned=planned,
            featured=shown,
            files=files,
            study=trial.study.study_name,
            servers=self.teller.servers,
            server_snake=self.teller.server_snake,
            failure=failure,
        )
        optuna_dashboard.save_note(trial, note)

    def _upload(self, trial: optuna.Trial, outcome: GameOutcome, frames: list[dict[str, Any]]) -> list[str]:
        """The replay and the key-moment picture as artifacts, also under readable names (:mod:`.artifacts`)."""

        assert self.teller.artifacts is not None
        moment = frames[key_moment(frames)]
        caption = f"trial {trial.number}, game {outcome.game} ({outcome.result}), turn {moment['turn']}\n"
        caption += _moment_text(outcome)
        folder = self.teller.artifacts
        replay = save_trial_artifact(folder, trial, replay_name(trial.number, outcome.game), json.dumps(frames))
        picture = board_svg(moment, ids=snake_ids(frames), caption=caption)
        name = f"trial-{trial.number}-game-{outcome.game}-turn-{moment['turn']}.svg"
        shown = save_trial_artifact(folder, trial, name, picture, mimetype="image/svg+xml")
        return [_shown_path(replay), _shown_path(shown)]


def _shown_path(path: Path) -> str:
    """A file as the note names it: relative to where the run started, when it lies below."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _dashboard_installed() -> bool:
    """Whether optuna-dashboard can be imported; when not, said at INFO (the study note warns)."""
    try:
        require("dashboard", "saving the study and trial notes")
    except MissingExtraError as exc:
        _LOG.info("%s; trials run without notes", exc)
        return False
    return True


def featured_game(outcomes: Sequence[GameOutcome], frames: Mapping[int, Any]) -> GameOutcome | None:
    """The recorded game to show: a loss first (how the config loses), then a draw, then a win."""
    recorded = [o for o in outcomes if frames.get(o.game)]
    for result in ("loss", "draw", "win"):
        for outcome in recorded:
            if outcome.result == result:
                return outcome
    return None


def _moment_text(outcome: GameOutcome) -> str:
    """What the key-moment picture shows, as its second caption line."""
    snake = outcome.candidate
    if snake.cause:
        killer = f" with {snake.eliminated_by}" if snake.eliminated_by and snake.eliminated_by != "candidate" else ""
        return f"next move: the candidate dies ({snake.cause}{killer})"
    return "the last turn" + (" (turn cap reached)" if outcome.capped else "")


def trial_note(
    number: int,
    *,
    params: Mapping[str, Any],
    base_params: Mapping[str, Any],
    attrs: Mapping[str, Any],
    outcomes: Sequence[GameOutcome],
    planned: int,
    featured: GameOutcome | None = None,
    files: Sequence[str] = (),
    study: str = "",
    servers: bool = False,
    server_snake: bool = False,
    failure: str | None = None,
) -> str:
    """The trial's note as markdown (see the module docstring for what it tells).

    ``files``: the replay and the picture as paths a reader can open (``storage/<study>/artifacts/...``).
    ``servers``: the games asked snake servers (``server_snake``: the tuned snake is one), whose faults
    the note counts; ``failure``: why the trial failed.
    """
    source = attrs.get(PROPOSAL_SOURCE_KEY) or "sampler"
    lines = [f"## Trial {number}: proposed by {source}", ""]
    if failure:
        lines += [f"**Failed, not a measurement of its config:** {failure}", ""]
    lines.append(_result_line(outcomes, planned))
    if servers or server_snake:
        lines += ["", "### Server faults", "", *_fault_lines(outcomes, snake=server_snake)]
    origin = []
    if attrs.get(BASE_TRIAL_KEY) is not None:
        origin.append(f"built from trial {attrs[BASE_TRIAL_KEY]}")
    if attrs.get(LLM_MODELS_KEY):
        origin.append(f"LLM: {', '.join(attrs[LLM_MODELS_KEY])}")
    if attrs.get(REJECTED_PROPOSALS_KEY):
        origin.append(f"{attrs[REJECTED_PROPOSALS_KEY]} proposal(s) rejected as too close to earlier trials")
    if origin:
        lines += ["", f"Proposal: {'; '.join(origin)}."]
    lines += ["", "### Changed parameters (vs the base config)", "", *_changes_table(params, base_params)]
    if attrs.get(LLM_RATIONALE_KEY):
        lines += ["", "### LLM rationale", "", *(f"> {line}" for line in str(attrs[LLM_RATIONALE_KEY]).splitlines())]
    if attrs.get(NN_PATTERNS_KEY):
        lines += ["", "### Winning patterns the sampler used", "", "```", str(attrs[NN_PATTERNS_KEY]), "```"]
    lines += ["", "### Deaths of the tuned snake", "", f"By game phase ({PHASE_TURNS}).", "", *_deaths_table(outcomes)]
    if featured is not None:
        lines += ["", "### Replay", "", _featured_line(featured, files, number=number, study=study)]
    return "\n".join(lines) + "\n"


def _fault_lines(outcomes: Sequence[GameOutcome], *, snake: bool) -> list[str]:
    """The servers' failed answers: late, failed, invalid or disconnected (the arena repeated a move instead)."""

    count = count_faults(outcomes)
    lines = []
    if snake:
        failed = count.candidate
        shown = describe_faults(failed)
        lines.append(f"- The tuned snake's server: {failed.total:,} of {count.asked:,} answers failed ({shown}).")
    for name, faults in sorted(count.opponents.items()):
        lines.append(f"- Opponent `{name}`: {faults.total:,} answers failed ({describe_faults(faults)}).")
    return lines or ["- The opponents' servers: no answer failed."]


def _result_line(outcomes: Sequence[GameOutcome], planned: int) -> str:

    n = len(outcomes)
    if n == 0:
        return "No game played."
    wins = sum(o.result == "win" for o in outcomes)
    losses = sum(o.result == "loss" for o in outcomes)
    low, high = wilson_interval(wins, n)
    score = sum(o.score for o in outcomes) / n
    text = (
        f"**Win rate {100 * wins / n:.1f}%** (95% CI {100 * low:.1f}–{100 * high:.1f}%) over {n} games: "
        f"{wins} wins, {losses} losses, {n - wins - losses} draws; score {score:.3f}."
    )
    if n < planned:
        text += f" Pruned after {n} of {planned} games."
    return text


def _changes_table(params: Mapping[str, Any], base: Mapping[str, Any]) -> list[str]:
    changed = [
        (name, base.get(name), value)
        for name, value in params.items()
        if name not in base or not math.isclose(float(value), float(base[name]), rel_tol=1e-6, abs_tol=1e-9)
    ]
    if not changed:
        return ["None: this trial plays the base config."]

    def weight(row: tuple[str, Any, Any]) -> float:
        _, old, new = row
        if old is None:
            return math.inf
        return abs(float(new) - float(old)) / max(abs(float(old)), 1e-9)

    changed.sort(key=weight, reverse=True)
    rows = ["| parameter | base | trial | change |", "|---|---:|---:|---:|"]
    for name, old, new in changed[:_MAX_CHANGED_ROWS]:
        if old is None:
            rows.append(f"| `{name}` | - | {_num(new)} | |")
            continue
        relative = f"{100 * (float(new) - float(old)) / abs(float(old)):+.0f}%" if float(old) else ""
        rows.append(f"| `{name}` | {_num(old)} | {_num(new)} | {relative} |")
    if len(changed) > _MAX_CHANGED_ROWS:
        rows += ["", f"…and {len(changed) - _MAX_CHANGED_ROWS} more (largest relative changes shown)."]
    return rows


def _num(value: Any) -> str:
    return f"{value:d}" if isinstance(value, int) else f"{float(value):.4g}"


def _deaths_table(outcomes: Sequence[GameOutcome]) -> list[str]:

    table = MatchResult(tuple(outcomes), 0.0).death_causes()
    if not table:
        return ["It never died."]
    rows = ["| cause | " + " | ".join(_PHASES) + " | total |", "|---|" + "---:|" * (len(_PHASES) + 1)]
    for cause, by_phase in sorted(table.items(), key=lambda item: -sum(item[1].values())):
        cells = " | ".join(str(by_phase.get(phase, 0)) for phase in _PHASES)
        rows.append(f"| {cause} | {cells} | {sum(by_phase.values())} |")
    return rows


def _featured_line(outcome: GameOutcome, files: Sequence[str], *, number: int, study: str) -> str:
    turns = f"{outcome.turns} turns"
    text = f"Game {outcome.game} ({outcome.result} vs {', '.join(outcome.opponents)}, {turns})"
    if files:
        command = "python -m optuna_clank replay " + (f"--study {study} --trial {number}" if study else "FILE")
        text += f": replay `{files[0]}` (show it with `{command}`), picture `{files[1]}`."
    else:
        text += ": its replay could not be saved (see the run's log)."
    return text
