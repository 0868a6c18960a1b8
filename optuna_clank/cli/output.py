"""Human-readable text for match results, study status and runs (the CLI's non-JSON output)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.core.control import CLEAN_STOPS
from optuna_clank.core.stats import PHASE_TURNS

if TYPE_CHECKING:
    from optuna_clank.run.runner import StudyRun
    from optuna_clank.spec import StudySpec
    from optuna_clank.study.results import StudyStatus

PHASES = ("early", "mid", "late")


def relative_to_or_whole(path: Path, base: Path) -> Path:
    """``path`` relative to ``base`` when it lies inside it (shorter to read), else as it is."""
    try:
        return path.relative_to(base)
    except ValueError:
        return path


def percent(value: float) -> str:
    """``0.4567`` -> ``"45.7%"``."""
    return f"{100 * value:.1f}%"


def interval(low: float, high: float) -> str:
    """A 95% interval as ``[41.2%, 50.3%]``."""
    return f"[{percent(low)}, {percent(high)}]"


def death_table(causes: Mapping[str, Mapping[str, int]], *, indent: str = "  ") -> list[str]:
    """Rows of a cause x phase table (see :data:`optuna_clank.core.stats.PHASE_TURNS`)."""
    if not causes:
        return [f"{indent}(no deaths)"]
    width = max(len(cause) for cause in causes)
    header = f"{indent}{'cause':<{width}}  " + "  ".join(f"{p:>5}" for p in PHASES) + "  total"
    rows = [header]
    for cause, phases in sorted(causes.items(), key=lambda item: -sum(item[1].values())):
        counts = "  ".join(f"{phases.get(p, 0):>5}" for p in PHASES)
        rows.append(f"{indent}{cause:<{width}}  {counts}  {sum(phases.values()):>5}")
    return rows


def _fault_lines(summary: Mapping[str, Any]) -> list[str]:
    """Faults of snake servers (none for built-in snakes: no line).

    A late, failed or invalid answer repeated the snake's last move; a disconnect forfeited the game.
    """
    lines = []
    for key, who in (("faults", "candidate"), ("opponent_faults", "opponents")):
        faults = summary.get(key) or {}
        if any(faults.values()):
            counts = ", ".join(f"{count} {kind}" for kind, count in faults.items() if count)
            lines.append(f"  server faults of the {who}: {counts}")
    return lines


def record_fault_lines(record: Mapping[str, Any], *, indent: str) -> list[str]:
    """A validation record's server faults (records that asked no server have none: no line)."""
    from optuna_clank.arena.served.faults import describe_faults, servers_involved
    from optuna_clank.study.verdict import REFUSED_KEY

    if "faults" not in record:
        return []
    parts = []
    if str(record.get("snake", "")).startswith("server"):
        faults = record["faults"]
        failed = sum(int(count) for count in faults.values())
        parts.append(f"{failed:,} of the snake's {record.get('answers', 0):,} answers ({describe_faults(faults)})")
    if servers_involved(False, record.get("opponents") or []):
        parts.append(f"the opponents {describe_faults(record.get('opponent_faults') or {})}")
    lines = [f"{indent}server faults: {'; '.join(parts)}"]
    if record.get(REFUSED_KEY):
        lines.append(f"{indent}REFUSED for the verdict (see the error line below)")
    return lines


def match_summary(summary: Mapping[str, Any], *, title: str) -> str:
    """The readable report of ``play``: result, interval, draws, turns, deaths, speed."""
    lines = [
        title,
        f"  win rate    {percent(summary['win_rate'])}  95% CI {interval(summary['ci_low'], summary['ci_high'])}"
        f"  ({summary['wins']} wins, {summary['losses']} losses, {summary['draws']} draws"
        f" of {summary['games']} games)",
        f"  mean score  {summary['mean_score']:.3f}  (win 1, draw 0.5, loss 0)",
        f"  mean turns  {summary['avg_turns']:.1f}"
        + (f"  ({summary['capped_games']} games hit the turn cap)" if summary["capped_games"] else ""),
        f"  deaths of the candidate by phase ({PHASE_TURNS}):",
        *death_table(summary["death_causes"], indent="    "),
        *_fault_lines(summary),
        f"  speed       {summary['games_per_second']:.1f} games/s, "
        f"{summary['turns_per_second']:,.0f} turns/s ({summary['seconds']:.2f} s"
        + (f", {summary['processes']} process(es)" if summary.get("processes", 1) > 1 else "")
        + (f", {summary['torch_threads']} torch thread(s) each)" if "torch_threads" in summary else ")"),
    ]
    return "\n".join(lines)


def opponent_lines(attrs: Mapping[str, Any], *, indent: str) -> list[str]:
    """A tournament's per-opponent win rates with their Wilson intervals (none for one opponent)."""
    from optuna_clank.core.attributes import OPPONENTS_KEY
    from optuna_clank.trial.tournament import describe_opponents

    return [f"{indent}vs {line}" for line in describe_opponents(attrs.get(OPPONENTS_KEY) or [])]


def status_text(report: StudyStatus, spec: StudySpec, *, storage: str) -> str:
    """The readable report of ``status``: counts, the best with its evidence, speed, the last trials."""
    counts, best = report.trials, report.best
    lines = [
        f"study {spec.name} on {storage}",
        f"  trials      {counts.complete} complete, {counts.pruned} pruned, {counts.running} running, "
        f"{counts.waiting} waiting, {counts.failed} failed"
        + (f", {counts.skipped} skipped (surplus, not played)" if counts.skipped else ""),
        f"  best        {best.describe() if best else '-'}",
        *opponent_lines(best.trial.user_attrs if best and best.trial else {}, indent="              "),
        *_front_lines(report, spec),
    ]
    refused = report.validation_records_refused
    if best is not None and best.kind == "raw":
        lines.append(
            "              (validation records refused: see below)"
            if refused
            else "              (run 'validate' to re-play the top trials and the base config on fresh games)"
        )
    base = report.validated_base
    if base and (best is None or best.kind != "base"):
        low, high = base["ci"]
        lines.append(
            f"  base config validated win rate {100 * base['win_rate']:.1f}% [{100 * low:.1f}%, {100 * high:.1f}%] "
            f"over {base['games']:,} games" + (" (refused)" if "base config" in refused else "")
        )
    if report.validation_records_ignored:
        lines.append(
            f"              ({report.validation_records_ignored} validation record(s) of other games not compared)"
        )
    for label, reason in refused.items():
        lines.append(f"  refused     {label}'s validation record, for the verdict: {reason}")
    raw = report.best_raw
    if raw and raw.values and best and (best.trial is None or raw.number != best.trial.number):
        from optuna_clank.core.attributes import ProposalSource

        mark = " (the base config)" if raw.proposal_source == ProposalSource.BASE else ""
        lines.append(f"  best raw    trial {raw.number}{mark}: value {raw.values[0]:.3f} (study games only)")
    rate = report.trials_per_hour
    lines.append(f"  speed       {rate:.1f} trials/hour" if rate else "  speed       -")
    if report.last_run is not None:  # what ran, which may differ from what the spec asks for
        from optuna_clank.study.run_record import run_summary

        first, *rest = run_summary(report.last_run)
        lines += [f"  last run    {first}", *(f"              {line}" for line in rest)]
    if report.last_trials:
        lines.append("  last trials:")
    for t in report.last_trials:
        label, value = "value", f"{t.values[0]:.3f}" if t.values else "-"
        if t.state == "pruned":  # its mean over the games it played, never one game's score
            label, value = "mean ", f"{t.mean_score:.3f}" if t.mean_score is not None else "?"
        games = t.games_played if t.games_played is not None else "-"
        lines.append(
            f"    #{t.number:<5} {t.state:<9} {label} {value:>6}  games {games!s:>4}  "
            f"source {t.proposal_source or '-':<13} slot {t.slot if t.slot is not None else '-'}"
            + _trial_fault_text(t.faults)
        )
        if t.error:
            lines.append(f"           failed: {t.error}")
    return "\n".join(lines)


def _trial_fault_text(faults: Mapping[str, Any] | None) -> str:
    """``"  faults: snake 27 timeouts"``: a trial's servers' failed answers (nothing without servers)."""
    from optuna_clank.arena.served.faults import describe_faults

    if not faults:
        return ""
    return "  faults: " + "; ".join(f"{who} {describe_faults(counts)}" for who, counts in faults.items())


def _front_lines(report: StudyStatus, spec: StudySpec) -> list[str]:
    """A multi-objective study's Pareto front: no single best, so every trial on it."""
    if report.pareto_front is None:
        return []
    objectives = spec.study.objectives
    goals = ", ".join(f"{d} {o}" for d, o in zip(spec.study.directions, objectives, strict=True))
    size = len(report.pareto_front)
    lines = [f"  pareto front {size} trial(s) ({goals}); no single best: pick one with export --pick"]
    for t in report.pareto_front:
        values = ", ".join(f"{o} {v:.3f}" for o, v in zip(objectives, t.values or (), strict=True))
        lines.append(f"    #{t.number:<5} {values}")
    return lines


def run_lines(run: StudyRun) -> list[str]:
    """The end of an ``optimize`` or ``worker`` run: the study's counts, this run's pace, slots that gave up."""
    after, hours = run.after, run.seconds / 3600
    lines = [
        f"study {run.spec.name}: {after.finished} finished ({after.complete} complete, {after.pruned} pruned), "
        f"{after.failed} failed, {after.skipped} skipped, {after.running} running"
        + (f", {after.waiting} queued (the next run plays them first)" if after.waiting else "")
        + f"; this run: {run.ran} trial(s) "
        f"at {run.ran / hours if hours > 0 else 0:.0f}/hour"
    ]
    for slot in run.slots:
        if slot.errors or (slot.stopped and slot.stopped not in CLEAN_STOPS):
            lines.append(f"  slot {slot.slot} ({slot.device}): {slot.stopped}; {len(slot.errors)} error(s)")
    return lines
