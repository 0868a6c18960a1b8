"""Human-readable text for match results and study status (the CLI's non-JSON output)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PHASES = ("early", "mid", "late")


def percent(value: float) -> str:
    """``0.4567`` -> ``"45.7%"``."""
    return f"{100 * value:.1f}%"


def interval(low: float, high: float) -> str:
    """A 95% interval as ``[41.2%, 50.3%]``."""
    return f"[{percent(low)}, {percent(high)}]"


def death_table(causes: Mapping[str, Mapping[str, int]], *, indent: str = "  ") -> list[str]:
    """Rows of a cause x phase table (early < 50 turns, mid < 150, late)."""
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
        "  deaths of the candidate:",
        *death_table(summary["death_causes"], indent="    "),
        *_fault_lines(summary),
        f"  speed       {summary['games_per_second']:.1f} games/s, "
        f"{summary['turns_per_second']:,.0f} turns/s ({summary['seconds']:.2f} s"
        + (f", {summary['torch_threads']} torch thread(s))" if "torch_threads" in summary else ")"),
    ]
    return "\n".join(lines)
