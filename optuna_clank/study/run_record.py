"""What a run did, stored on the study: the study note and ``status`` tell what ran, not what the spec wished.

A spec may ask for 8 slots and an LLM; the run may get 2 slots on a 2-core machine and no LLM because
``OPENAI_API_KEY`` is not set. Each ``optimize`` (and ``worker``) run appends one record to the study's
:data:`~optuna_clank.core.attributes.RUNS_KEY` attribute when it starts, and completes it when it ends: the
slots it used and why, the sampler, the LLM on or off and why, the snake, the opponents, the games per
trial (overrides applied), the trials it ran and how it ended. ``validate`` rewrites the study note
from the file's spec, so the note reads these records rather than the spec.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from optuna_clank.arena.opponents import short_name
from optuna_clank.core.attributes import HOST_KEY, RUNS_KEY

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import StudySpec

__all__ = ["begin_run", "end_run", "last_run", "llm_state", "run_markdown", "run_summary"]

MAX_RUNS = 50
"""Runs kept on the study (the oldest go first): a note lists the last few."""


def llm_state(spec: StudySpec, file_spec: StudySpec | None = None) -> str:
    """Whether the run's sampler asks an LLM, and why not (``on: openai/gpt-4o-mini``, ``off: missing OPENAI_API_KEY``).

    ``spec`` is the spec as run (overrides applied), ``file_spec`` as its file says: an LLM the file asks
    for and the run does not use was turned off by the command line, or by a missing key.
    """
    options = spec.sampler
    if options.name != "clank":
        return f"not used (sampler {options.name})"
    if not options.use_llm:
        wanted = file_spec.sampler if file_spec is not None else None
        if wanted is None or not wanted.use_llm:
            return "off: use_llm = false in the spec"
        problems = _problems(wanted.llm_models, wanted.llm_api_base)
        if problems and len(problems) == len(wanted.llm_models):
            return "off: " + "; ".join(dict.fromkeys(p for found in problems.values() for p in found))
        return "off: --no-llm"
    models = ", ".join(options.llm_models)
    if options.llm_api_base:
        return f"on: {models} at {options.llm_api_base}"
    problems = _problems(options.llm_models, "")
    if not problems:
        return f"on: {models}"
    usable = [m for m in options.llm_models if m not in problems]
    why = "; ".join(dict.fromkeys(p for found in problems.values() for p in found))
    if not usable:
        return f"off: {why}"
    return f"on: {', '.join(usable)} ({', '.join(problems)} left out: {why})"


def _problems(models: Sequence[str], api_base: str) -> dict[str, list[str]]:
    """The models that cannot be asked, with why (an API base skips the key check, as the sampler does)."""
    if api_base:
        return {}

    from optuna_clank.sampler import llm_environment_problems  # noqa: PLC0415 - deferred: loads optuna

    return {model: found for model, found in llm_environment_problems(list(models)).items() if found}


def begin_run(
    study: optuna.Study, spec: StudySpec, *, role: str, slots: int, slots_why: str, llm: str, target: int
) -> int:
    """Append this run's record to the study (what it is about to run); returns its index."""
    bench = spec.benchmark
    record: dict[str, Any] = {
        "role": role,
        HOST_KEY: socket.gethostname(),
        "started": _now(),
        "slots": slots,
        "slots_why": slots_why,
        "backend": spec.parallel.backend,
        "sampler": spec.sampler.name,
        "llm": llm,
        "neural_net": spec.sampler.use_neural_net if spec.sampler.name == "clank" else None,
        "pruner": spec.pruner.name,
        "snake": spec.snake.describe(),
        "opponents": [short_name(o) for o in bench.opponents],
        "mode": bench.mode,
        "games_per_trial": bench.games_per_trial,
        "board_size": list(bench.board_size),
        "max_turns": bench.max_turns,
        "target": target,
    }
    runs = [*_runs(study)[-(MAX_RUNS - 1) :], record]
    study.set_user_attr(RUNS_KEY, runs)
    return len(runs) - 1


def end_run(study: optuna.Study, index: int, *, ended: str, ran: int, seconds: float, slots_used: int | None) -> None:
    """Complete the run's record: how it ended, the trials it ran, the slots that ran any."""
    runs = _runs(study)
    if not 0 <= index < len(runs):
        return
    runs[index] = {**runs[index], "ended": ended, "trials": ran, "seconds": round(seconds, 1), "slots_used": slots_used}
    study.set_user_attr(RUNS_KEY, runs)


def _runs(study: optuna.Study) -> list[dict[str, Any]]:
    runs = study.user_attrs.get(RUNS_KEY)
    return [dict(r) for r in runs if isinstance(r, Mapping)] if isinstance(runs, list) else []


def last_run(study_attrs: Mapping[str, Any], *, role: str = "optimize") -> dict[str, Any] | None:
    """The newest record of ``role`` (``optimize``: the main run), or None before any run."""
    runs = study_attrs.get(RUNS_KEY)
    if not isinstance(runs, list):
        return None
    mine = [r for r in runs if isinstance(r, Mapping) and r.get("role") == role]
    return dict(mine[-1]) if mine else None


def run_summary(run: Mapping[str, Any]) -> list[str]:
    """The run in a few plain lines (``status``): slots, sampler and LLM, snake, games."""
    slots = f"{run.get('slots')} slot(s)"
    if run.get("slots_used") is not None and run.get("slots_used") != run.get("slots"):
        slots += f", {run['slots_used']} ran trials"
    if run.get("slots_why"):
        slots += f" ({run['slots_why']})"
    net = ""
    if run.get("neural_net") is not None:
        net = ", pattern network " + ("on" if run["neural_net"] else "off")
    ended = ""
    if run.get("ended"):
        ended = f"; ended: {run['ended']} after {run.get('trials', 0)} trial(s)"
    return [
        f"{run.get('started', '?')} on {run.get(HOST_KEY, '?')}: {slots}{ended}",
        f"sampler {run.get('sampler')}{net}; LLM {run.get('llm')}; pruner {run.get('pruner')}",
        f"snake {run.get('snake')} vs {', '.join(run.get('opponents') or [])} ({run.get('mode')}), "
        f"{run.get('games_per_trial')} games per trial",
    ]


def run_markdown(study_attrs: Mapping[str, Any]) -> list[str]:
    """The study note's "What ran" section: the main run's record, and how many workers joined."""
    run = last_run(study_attrs)
    if run is None:
        return ["No run recorded yet (the note states the spec; `optimize` records what it runs)."]
    first, second, third = run_summary(run)
    lines = [
        f"- **Last run**: {first}.",
        f"- **Proposals**: {second}.",
        f"- **Games**: {third}.",
    ]
    runs = study_attrs.get(RUNS_KEY) or []
    workers = [r for r in runs if isinstance(r, Mapping) and r.get("role") == "worker"]
    if workers:
        hosts = sorted({str(r.get(HOST_KEY)) for r in workers})
        lines.append(f"- **Workers**: {len(workers)} worker run(s) joined, from {', '.join(hosts)}.")
    return lines


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
