"""The study's note for optuna-dashboard: what the benchmark is, how trials are proposed, what held up.

A value on the dashboard means little without its benchmark (which opponents, how many games,
which board, whether every trial played the same games), and the best raw value is flattered
by luck. So the note states the benchmark and the sampler setup, and once ``validate`` has run,
the validated comparison against the base config: the difference and its interval.

The note is rebuilt from the spec and the study's user attributes each time it is written
(every ``optimize`` and ``validate``), so it always matches what the storage holds; what the last
run did (slots, LLM on or off and why, games per trial) comes from its record
(:mod:`optuna_clank.study.run_record`), not from the spec, which may wish for more than a machine gives.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.opponents import short_name
from optuna_clank.arena.served.faults import describe_faults
from optuna_clank.core.attributes import VALIDATED_BASE_KEY, VALIDATION_PREFIX
from optuna_clank.core.extras import MissingExtraError, require
from optuna_clank.study.run_record import last_run, run_markdown
from optuna_clank.study.verdict import REFUSED_KEY, judge

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import StudySpec
    from optuna_clank.study.verdict import Comparison

_LOG = logging.getLogger(__name__)
_OBJECTIVE_TEXT = {
    "score": "score (win 1, draw 0.5, loss 0, averaged over games)",
    "win_rate": "win rate",
    "survival": "survival (share of the turn cap alive)",
    "avg_turns": "average game length in turns",
}


def write_study_note(study: optuna.Study, spec: StudySpec) -> str:
    """Save the study's note (benchmark, sampler, validation) and return its markdown.

    Without the dashboard extra the note is not saved (one warning): it is read in the
    dashboard only, and a run must not stop for it.
    """
    note = study_note(spec, study.user_attrs)
    try:
        optuna_dashboard = require("dashboard", "saving the study and trial notes")
    except MissingExtraError as exc:
        _LOG.warning("%s; the run goes on without them", exc)
        return note
    optuna_dashboard.save_note(study, note)
    return note


def study_note(spec: StudySpec, study_attrs: Mapping[str, Any]) -> str:
    """The study note's markdown from the spec and the study's user attributes."""

    lines = [f"## {spec.name}", ""]
    if spec.study.description:
        lines += [spec.study.description, ""]
    lines += ["### What ran", "", *run_markdown(study_attrs), ""]
    run = last_run(study_attrs)
    llm = str(run["llm"]) if run and run.get("llm") else None
    bench = _benchmark_lines(spec, run_games=run.get("games_per_trial") if run else None)
    lines += ["### Benchmark", "", *bench, "", "### Sampler", "", *_sampler_lines(spec, llm=llm)]
    lines += ["", "### Validation", "", *validation_markdown(study_attrs)]
    return "\n".join(lines) + "\n"


def _benchmark_lines(spec: StudySpec, *, run_games: Any = None) -> list[str]:
    """The spec's benchmark; ``run_games``: the games per trial the last run played, said where it differs."""
    bench = spec.benchmark
    width, height = bench.board_size
    goals = ", ".join(
        f"{direction} {_OBJECTIVE_TEXT.get(name, name)}"
        for direction, name in zip(spec.study.directions, spec.study.objectives, strict=True)
    )
    opponents = ", ".join(f"`{short_name(o)}`" for o in bench.opponents)
    base = f"`{bench.base_config}`" if bench.base_config else "the built-in default config"
    if spec.snake.reads_own_yaml:  # a server's or gbc's own YAML ([snake] base_config)
        own = spec.snake.base_config
        empty = "an empty YAML" if spec.snake.is_server else "go-battleclank's built-in defaults"
        base = f"`{own}`" if own else empty
    return [
        f"- **Objective**: {goals}.",
        f"- **Opponents**: {opponents} ({bench.mode}"
        + (
            ", a tournament: every opponent plays the same games; the value is the weighted mean"
            + (f" (weights {', '.join(f'{w:g}' for w in bench.opponent_weights)})" if bench.opponent_weights else "")
            if bench.mode == "duel" and len(bench.opponents) > 1
            else ""
        )
        + ").",
        f"- **Board**: {width}x{height}, turn cap {bench.max_turns} (a capped game is a draw).",
        f"- **Games per trial**: {bench.games_per_trial}, in rounds of {bench.round_size}, each trial in its own "
        "shuffled order"
        + (
            f" (the last run played {run_games}: see above)." if run_games not in (None, bench.games_per_trial) else "."
        ),
        f"- **Seeds**: every trial plays the same games (seed {bench.seed}): game *i* has the same start, seats and "
        "food for every config, and seats rotate between games. Validation replays the top trials on fresh games "
        "under another seed.",
        f"- **Base config**: {base}; trial parameters are set on it.",
    ]


def _sampler_lines(spec: StudySpec, *, llm: str | None = None) -> list[str]:
    """The sampler setup; ``llm``: what the last run did with the LLM (``off: missing OPENAI_API_KEY``)."""
    options = spec.sampler
    lines = [f"- **Sampler**: `{options.name}`" + (f", seed {options.seed}" if options.seed is not None else "") + "."]
    if options.name == "clank":
        wished = f"LLM {', '.join(f'`{m}`' for m in options.llm_models)}" if options.use_llm else "no LLM"
        llm = f"LLM in the last run: {llm}" if llm is not None else wished
        net = "winning-pattern autoencoder" if options.use_neural_net else "no pattern network"
        lines.append(
            f"- **Proposals**: {llm}; {net}; {options.n_startup_trials} startup trials around the base config; "
            f"{100 * options.fallback_share:.0f}% of trials from the TPE fallback; proposals closer than "
            f"{options.min_distance:g} (normalised) to an earlier trial are rejected."
        )
    else:
        lines.append(f"- **Startup trials**: {options.n_startup_trials}; the base config is the first trial.")
    pruner = spec.pruner
    if pruner.name == "wilcoxon" and len(spec.study.directions) == 1:
        lines.append(
            f"- **Pruner**: Wilcoxon signed-rank on the same games as the best trial (p < {pruner.p_threshold:g}, "
            f"after {pruner.n_startup_steps} games)."
        )
    elif pruner.name == "median" and len(spec.study.directions) == 1:
        lines.append(f"- **Pruner**: median (after {pruner.n_startup_trials} trials).")
    else:
        lines.append("- **Pruner**: none.")
    names = ", ".join(f"`{p.name}`" for p in spec.search_space)
    lines.append(f"- **Search space**: {len(spec.search_space)} parameters: {names}.")
    return lines


def validation_markdown(study_attrs: Mapping[str, Any]) -> list[str]:
    """The validated comparison against the base config, from the study's user attributes.

    Reads ``validated:<trial>`` records and ``validated_base``. Records played on the base's
    games carry per-game results, so the difference is validate's own paired verdict
    (:func:`optuna_clank.study.verdict.judge`: the interval and the "better" call that ``status`` and
    ``export`` use). Older records without per-game results fall back to a win-rate difference
    from the two Wilson intervals (Newcombe's method, unpaired and therefore conservative).
    """

    trials = {
        int(key[len(VALIDATION_PREFIX) :]): value
        for key, value in study_attrs.items()
        if key.startswith(VALIDATION_PREFIX) and key[len(VALIDATION_PREFIX) :].isdigit() and isinstance(value, dict)
    }
    base = study_attrs.get(VALIDATED_BASE_KEY)
    if not trials:
        return [
            "Not validated yet. The best value above comes from the study's own games and is flattered by luck; "
            "run `python -m optuna_clank validate` to replay the top trials on fresh games."
        ]
    lines = ["Replayed on fresh games the study never used; the same games for every config of one run.", ""]
    lines += [
        "| config | games (seed) | win rate (95% CI) | score | difference vs base (interval) |",
        "|---|---|---|---:|---|",
    ]
    if isinstance(base, dict):
        mark = f"{_refused_cell(base)} " if base.get(REFUSED_KEY) else ""
        lines.append(f"| base config | {_games(base)} | {_rate(base)} | {_score(base)} | {mark}|")
    verdict = judge(base if isinstance(base, dict) else None, trials)
    paired = {c.trial: c for c in verdict.comparisons} if verdict else {}
    ranked = sorted(trials.items(), key=lambda item: -float(item[1].get("score", item[1].get("win_rate")) or 0.0))
    for number, record in ranked:
        comparison = paired.get(number)
        difference = _paired_text(comparison) if comparison else _refused_cell(record) or _difference(record, base)
        lines.append(f"| trial {number} | {_games(record)} | {_rate(record)} | {_score(record)} | {difference} |")
    if isinstance(base, dict):
        lines += ["", "An interval that contains 0 is no evidence that the trial beats the base config."]
    else:
        lines += ["", "The base config was not replayed (`validate --no-base`): no comparison."]
    refused = [(f"trial {n}", r) for n, r in ranked if r.get(REFUSED_KEY)]
    refused += [("base config", base)] if isinstance(base, dict) and base.get(REFUSED_KEY) else []
    if refused:
        lines += ["", "Refused for the verdict (their snake servers failed answers, so they measure no config):", ""]
        lines += [f"- {label}: {record[REFUSED_KEY]}" for label, record in refused]
    return lines


def _refused_cell(record: Mapping[str, Any]) -> str:
    """A refused record's mark in the table: its faults instead of a difference."""
    if not record.get(REFUSED_KEY):
        return ""

    faults = {k: record.get("faults", {}).get(k, 0) + record.get("opponent_faults", {}).get(k, 0) for k in _KINDS}
    return f"refused: server faults ({describe_faults(faults)})"


_KINDS = ("timeouts", "errors", "invalid", "disconnects")


def _games(record: Mapping[str, Any]) -> str:
    return f"{record.get('games', '?')} ({record.get('seed', '?')})"


def _rate(record: Mapping[str, Any]) -> str:
    low, high = record.get("ci", (math.nan, math.nan))
    return f"{100 * record['win_rate']:.1f}% ({100 * low:.1f}–{100 * high:.1f}%)"


def _score(record: Mapping[str, Any]) -> str:
    return f"{record['score']:.3f}" if "score" in record else "-"


def _difference(record: Mapping[str, Any], base: Any) -> str:
    stored = _stored_difference(record)
    if stored is not None:
        value, (low, high), label = stored
        return f"{_signed(value)} ({_signed(low)} to {_signed(high)}){label}"
    if not isinstance(base, dict) or "ci" not in record or "ci" not in base:
        return "-"
    if (base.get("seed"), base.get("games")) != (record.get("seed"), record.get("games")):
        return "- (the base was replayed on other games)"
    value, low, high = newcombe_difference(record["win_rate"], record["ci"], base["win_rate"], base["ci"])
    verdict = ", better" if low > 0 else (", worse" if high < 0 else "")
    return f"{_signed(value)} ({_signed(low)} to {_signed(high)}) win rate, unpaired{verdict}"


def _paired_text(comparison: Comparison) -> str:
    """validate's paired verdict: score points with the Bonferroni-adjusted interval."""
    d = comparison.difference
    call = "better" if comparison.better else ("worse" if d.high < 0 else "not better")
    return (
        f"{100 * d.mean:+.1f} points ({100 * d.low:+.1f} to {100 * d.high:+.1f}), paired, "
        f"{100 * d.confidence:.1f}% interval, {call}"
    )


def _stored_difference(record: Mapping[str, Any]) -> tuple[float, tuple[float, float], str] | None:
    """A difference against the base that validation computed itself (e.g. a paired test)."""
    value = record.get("difference")
    interval = record.get("difference_ci")
    if isinstance(value, int | float) and isinstance(interval, list | tuple) and len(interval) == 2:
        details = [str(record[k]) for k in ("difference_of", "metric", "test") if record.get(k)]
        low, high = float(interval[0]), float(interval[1])
        verdict = ["better"] if low > 0 else (["worse"] if high < 0 else [])
        return float(value), (low, high), "".join(f", {d}" for d in [*details, *verdict])
    return None


def newcombe_difference(
    p1: float, ci1: tuple[float, float] | list[float], p2: float, ci2: tuple[float, float] | list[float]
) -> tuple[float, float, float]:
    """``p1 - p2`` and its 95% interval from the two proportions' Wilson intervals (Newcombe 1998)."""
    low1, high1 = ci1
    low2, high2 = ci2
    difference = p1 - p2
    low = difference - math.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2)
    high = difference + math.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2)
    return difference, low, high


def _signed(share: float) -> str:
    """A difference of shares as signed percentage points."""
    return f"{100 * share:+.1f} pp"
