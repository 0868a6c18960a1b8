"""Strict parsing of one model's answer into clipped parameter changes.

The old loop parsed "suggestions" out of the prompt the model echoed back, so every parameter
it mentioned got +15% and nothing ever went down. An answer is untrusted text: here any echo of
the prompt is cut out first, and only well-formed change entries for known parameters survive,
clipped to their bounds; everything else is dropped and counted, never raised.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from optuna_clank.sampler._redact import redact_secrets

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from optuna_clank.sampler._param_info import ParamInfo

__all__ = [
    "MAX_CHANGES",
    "MAX_RATIONALE_CHARS",
    "Change",
    "ParsedAnswer",
    "clip_to_param",
    "parse_answer",
    "same_value",
    "shorten",
    "strongest_changes",
]

_MAX_ANSWER_CHARS = 100_000  # longer answers are junk; cap the parsing work
_MAX_OBJECT_ATTEMPTS = 64  # '{' positions tried before giving up on finding JSON
_MAX_PROBLEMS = 20  # problems kept per answer (n_dropped still counts all)
MAX_RATIONALE_CHARS = 600  # one rationale's length; the vote shares it among the models
MAX_CHANGES = 6
"""Most changes kept from one answer (the prompt asks for 2-6): the largest, by normalised size."""


@dataclass(frozen=True)
class Change:
    """An absolute target for one parameter, already clipped to its bounds (ints rounded)."""

    param: str
    target: float


@dataclass(frozen=True)
class ParsedAnswer:
    """What one model's answer yields after strict parsing."""

    changes: tuple[Change, ...]
    rationale: str
    n_dropped: int
    problems: tuple[str, ...]


def parse_answer(text: str, params: Mapping[str, ParamInfo], *, prompt: str | None = None) -> ParsedAnswer:
    """Strictly parse one model answer; malformed parts are dropped and counted, never raised.

    With ``prompt`` given, any echo of it is cut out first, so nothing can be parsed out
    of the prompt's own text (the old loop's bug).
    """
    problems: list[str] = []
    if not isinstance(text, str):
        return ParsedAnswer((), "", 0, ("answer is not text",))
    if len(text) > _MAX_ANSWER_CHARS:
        problems.append(f"answer truncated to {_MAX_ANSWER_CHARS} characters")
        text = text[:_MAX_ANSWER_CHARS]
    if prompt:
        text, n_echoed = _strip_prompt_echo(text, prompt)
        if n_echoed:
            problems.append(f"echoed prompt ignored ({n_echoed} lines)")
    obj = _first_json_object(text)
    if obj is None:
        return ParsedAnswer((), "", 0, (*problems, "malformed JSON: no JSON object found"))
    rationale = _clean_rationale(obj.get("rationale"))
    raw_changes = obj.get("changes")
    if not isinstance(raw_changes, list):
        return ParsedAnswer((), rationale, 0, (*problems, "'changes' is missing or not a list"))
    changes, dropped = _parse_changes(raw_changes, params)
    problems.extend(dropped)
    if len(changes) > MAX_CHANGES:
        problems.append(
            f"{len(changes)} changes cut to the {MAX_CHANGES} largest (the prompt asks for 2-{MAX_CHANGES})"
        )
        changes = strongest_changes(changes, params)
    return ParsedAnswer(tuple(changes), rationale, len(dropped), _capped(problems))


def strongest_changes(changes: Sequence[Change], params: Mapping[str, ParamInfo]) -> list[Change]:
    """At most :data:`MAX_CHANGES` changes: the largest moves as a share of each range, in the given order.

    An answer that moves every parameter to its bound is not "a few changes"; keeping its
    strongest few keeps what the model stressed most and the proposal near the base.
    """
    if len(changes) <= MAX_CHANGES:
        return list(changes)
    ranked = sorted(changes, key=lambda change: -_normalised_size(change, params[change.param]))
    kept = {change.param for change in ranked[:MAX_CHANGES]}
    return [change for change in changes if change.param in kept]


def _normalised_size(change: Change, info: ParamInfo) -> float:
    """|target - base| as a share of the parameter's range (its log range for log parameters)."""
    if info.log and info.low > 0 and info.base > 0 and change.target > 0:
        span = math.log(info.high) - math.log(info.low)
        moved = abs(math.log(change.target) - math.log(info.base))
    else:
        span = info.high - info.low
        moved = abs(change.target - info.base)
    return moved / span if span > 0 else 0.0


def _capped(problems: list[str]) -> tuple[str, ...]:
    """Keep the problem list readable (and key-free) when a hostile answer has thousands of bad entries."""
    kept = [redact_secrets(problem) for problem in problems[:_MAX_PROBLEMS]]
    if len(problems) > _MAX_PROBLEMS:
        kept.append(f"... and {len(problems) - _MAX_PROBLEMS} more")
    return tuple(kept)


def _normalised_line(line: str) -> str:
    """A line as compared for echo detection: no indentation or quote markers."""
    return line.strip().lstrip(">").strip()


def _strip_prompt_echo(text: str, prompt: str) -> tuple[str, int]:
    """Remove the prompt (whole, or line by line) from an answer; return the rest and count.

    A line counts as echoed when it equals a non-trivial line of the prompt; short
    punctuation lines such as ``}`` are kept, since a real JSON answer has them too.
    """
    n_whole = text.count(prompt.strip()) if prompt.strip() else 0
    if n_whole:
        text = text.replace(prompt.strip(), "\n")
    prompt_lines = {
        norm
        for line in prompt.splitlines()
        if len(norm := _normalised_line(line)) >= 4 and any(c.isalnum() for c in norm)
    }
    kept: list[str] = []
    n_echoed = n_whole * len(prompt_lines)
    for line in text.splitlines():
        if _normalised_line(line) in prompt_lines:
            n_echoed += 1
        else:
            kept.append(line)
    return "\n".join(kept), n_echoed


def _first_json_object(text: str) -> dict[str, Any] | None:
    """The first top-level JSON object in ``text`` that parses, preferring one with changes.

    Scans '{' positions left to right; after a parsed object it skips past its end, so
    objects nested inside it are never taken for the answer.
    """
    decoder = json.JSONDecoder()
    first: dict[str, Any] | None = None
    pos = text.find("{")
    attempts = 0
    while pos != -1 and attempts < _MAX_OBJECT_ATTEMPTS:
        attempts += 1
        try:
            obj, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            pos = text.find("{", pos + 1)
            continue
        if isinstance(obj, dict):
            if "changes" in obj:
                return obj
            if first is None:
                first = obj
        pos = text.find("{", end)
    return first


def _clean_rationale(value: object) -> str:
    """A short, printable one-paragraph rationale; anything but a string becomes ""."""
    if not isinstance(value, str):
        return ""
    value = value[: MAX_RATIONALE_CHARS * 4]
    printable = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value)
    return redact_secrets(" ".join(printable.split()))[:MAX_RATIONALE_CHARS]


def _parse_changes(entries: list[Any], params: Mapping[str, ParamInfo]) -> tuple[list[Change], list[str]]:
    """Valid, deduplicated, clipped changes and the reason for each dropped entry."""
    changes: list[Change] = []
    dropped: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        change, reason = _parse_change(entry, params)
        if change is not None and change.param in seen:
            reason = f"duplicate of an earlier change to {change.param!r}"
            change = None
        if change is None:
            dropped.append(f"changes[{index}]: {reason}")
            continue
        seen.add(change.param)
        changes.append(change)
    return changes, dropped


def _finite_number(value: object) -> float | None:
    """The value as a finite float, or None for bools, strings, NaN, infinities, huge ints."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _parse_change(entry: object, params: Mapping[str, ParamInfo]) -> tuple[Change | None, str]:
    """One change entry to a Change, or None with the reason it was dropped."""
    if not isinstance(entry, dict):
        return None, "not an object"
    name = entry.get("param")
    if not isinstance(name, str):
        return None, "'param' is missing or not a string"
    info = params.get(name)
    if info is None:
        return None, f"unknown parameter {shorten(name)!r}"
    kinds = [key for key in ("delta_pct", "value") if key in entry]
    if len(kinds) != 1:
        return None, f"{name}: needs exactly one of 'delta_pct' or 'value'"
    number = _finite_number(entry[kinds[0]])
    if number is None:
        return None, f"{name}: {kinds[0]} is not a finite number"
    raw_target = info.base * (1.0 + number / 100.0) if kinds[0] == "delta_pct" else number
    target = clip_to_param(raw_target, info)
    if target is None:
        return None, f"{name}: target is not a finite number"
    if same_value(target, info.base):
        return None, f"{name}: no-op (target equals base)"
    return Change(name, target), ""


def shorten(text: str, limit: int = 60) -> str:
    """Keep hostile names from flooding the problem list."""
    return text if len(text) <= limit else text[:limit] + "..."


def clip_to_param(value: float, info: ParamInfo) -> float | None:
    """Clip to [low, high] and round ints (half up), or None if it is not finite."""
    if not math.isfinite(value):
        return None
    clipped = min(max(value, info.low), info.high)
    if not info.is_int:
        return clipped
    rounded = float(math.floor(clipped + 0.5))
    return min(max(rounded, float(math.ceil(info.low))), float(math.floor(info.high)))


def same_value(a: float, b: float) -> bool:
    """Equal up to float noise (a delta of 0% or a value equal to the base)."""
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
