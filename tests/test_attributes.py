"""The stored attribute names: one home (``optuna_clank.core.attributes``), unchanged values.

The guard reads the package source: a module that spells an attribute key as a string literal
instead of importing its constant fails here, naming the file and line.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from collections.abc import Mapping
from pathlib import Path

import optuna

import optuna_clank
from optuna_clank.core import attributes
from optuna_clank.core.attributes import PROPOSAL_SOURCE_KEY, ProposalSource

PACKAGE = Path(optuna_clank.__file__).parent
HOME = PACKAGE / "core" / "attributes.py"

STORED_NAMES = {
    "ABORTED_KEY": "aborted",
    "BASE_TRIAL_KEY": "base_trial",
    "CHANGED_PARAMS_KEY": "changed_params",
    "CROSSOVER_PARENTS_KEY": "crossover_parents",
    "DEATH_CAUSES_KEY": "death_causes",
    "DEVICE_KEY": "device",
    "GAMES_PLAYED_KEY": "games_played",
    "HOST_KEY": "host",
    "LLM_FAILURES_KEY": "llm_failures",
    "LLM_LAST_ERROR_KEY": "llm_last_error",
    "LLM_MODELS_KEY": "llm_models",
    "LLM_RATIONALE_KEY": "llm_rationale",
    "MEAN_SCORE_KEY": "mean_score",
    "NN_PATTERNS_KEY": "nn_patterns",
    "NOT_RUN_KEY": "not_run",
    "OPPONENTS_KEY": "by_opponent",
    "OPPONENT_FAULTS_KEY": "http_opponent_faults",
    "PROPOSAL_KEY": "clank:proposal",
    "PROPOSAL_SOURCE_KEY": "proposal_source",
    "REJECTED_PROPOSALS_KEY": "rejected_proposals",
    "RUNS_KEY": "runs",
    "RUN_KEY": "run",
    "SLOT_KEY": "slot",
    "SNAKE_ERROR_KEY": "snake_error",
    "SNAKE_PID_KEY": "snake_pid",
    "SNAKE_STDERR_KEY": "snake_stderr",
    "SPEC_ATTR": "optuna_clank:spec",
    "TORCH_THREADS_KEY": "torch_threads",
    "VALIDATED_BASE_KEY": "validated_base",
    "VALIDATION_PREFIX": "validated:",
    "WARM_START_KEY": "warm_start",
    "WARM_START_TRIAL_KEY": "warm_start_trial",
    "WIN_RATE_CI_KEY": "win_rate_ci",
    "WORKER_PID_KEY": "worker_pid",
}
"""The stored contract, spelled out once more on purpose: renaming a key must fail a test."""

SAME_WORD_ELSEWHERE = {
    ("cli/optimize.py", "llm_models"): "the --llm-models option's destination, named after the spec field",
    ("cli/study_args.py", "llm_models"): "the --llm-models option's destination, passed on as the spec override",
    ("spec/readers.py", "llm_models"): "the spec's [sampler] llm_models field",
    ("arena/outcome.py", "mean_score"): "a field of play_match's summary (the arena's own output)",
    ("arena/outcome.py", "death_causes"): "a field of play_match's summary (the arena's own output)",
    ("cli/output.py", "death_causes"): "a field of play's summary, not of a trial",
    ("cli/output.py", "torch_threads"): "a field of play's summary, not of a trial",
    ("core/control.py", "aborted"): "StopReason.ABORTED, a slot's stop reason",
    ("study/warm_start.py", "warm_start"): "the warm_start function's name in __all__",
}
"""Literals equal to a key that mean something else, by (file in the package, value), with why."""

_ACCESS = re.compile(
    r"""(?:user_attrs|system_attrs)\s*(?:\.get\(|\.pop\(|\.setdefault\(|\[)\s*[rbu]?["']"""
    r"""|set_(?:user|system)_attr\(\s*[rbu]?["']"""
    r"""|set_trial_(?:user|system)_attr\((?:[^,()]|\([^()]*\))*,\s*[rbu]?["']"""
    r"""|["'][^"'\n]*["']\s+(?:not\s+)?in\s+[\w.()]*(?:user|system)_attrs\b"""
    r"""|(?:user|system)_attrs\s*=\s*\{\s*[rbu]?["']"""
)
"""A string literal as the key of a trial or study attribute read or write, whatever the key."""


def _keys() -> dict[str, str]:
    """Key value -> its constant's name, for every string constant of the attributes module."""
    return {
        getattr(attributes, name): name for name in attributes.__all__ if isinstance(getattr(attributes, name), str)
    }


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def spelled_keys(root: Path, home: Path, keys: dict[str, str]) -> list[tuple[str, int, str]]:
    """``(file, line, key)`` of every string literal under ``root`` (but ``home``) equal to a key.

    Docstrings and f-strings are not literals equal to a key, so they never count.
    """
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == home:
            continue
        text = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.STRING:
                continue
            try:
                value = ast.literal_eval(token.string)
            except ValueError:  # an f-string
                continue
            if isinstance(value, str) and value in keys:
                found.append((path.relative_to(root).as_posix(), token.start[0], value))
    return found


def literal_accesses(root: Path, home: Path) -> list[tuple[str, int, str]]:
    """``(file, line, code)`` where a string literal of any value is the key of an attribute access."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == home:
            continue
        text = path.read_text(encoding="utf-8")
        skip = _docstring_lines(ast.parse(text))
        for number, line in enumerate(text.splitlines(), 1):
            if number not in skip and _ACCESS.search(line):
                found.append((path.relative_to(root).as_posix(), number, line.strip()))
    return found


def key_literals(root: Path, home: Path, keys: dict[str, str], allowed: Mapping[tuple[str, str], str]) -> list[str]:
    """Every place under ``root`` (but ``home``) that spells an attribute key instead of importing it."""
    spelled = [
        f"{where}:{line}: {value!r} (import attributes.{keys[value]})"
        for where, line, value in spelled_keys(root, home, keys)
        if (where, value) not in allowed
    ]
    accessed = [
        f"{where}:{line}: attribute key spelled as a literal: {code}"
        for where, line, code in literal_accesses(root, home)
    ]
    return sorted(spelled + accessed)


def test_the_package_spells_no_attribute_key_outside_its_home() -> None:
    found = key_literals(PACKAGE, HOME, _keys(), SAME_WORD_ELSEWHERE)
    assert not found, "attribute keys belong in optuna_clank/core/attributes.py:\n" + "\n".join(found)


def test_every_allowed_literal_is_still_there() -> None:
    """An exception nobody needs any more goes, so that it cannot hide a new literal later."""
    every = {(where, value) for where, _, value in spelled_keys(PACKAGE, HOME, _keys())}
    stale = [f"{where}: {value!r}" for where, value in SAME_WORD_ELSEWHERE if (where, value) not in every]
    assert not stale, f"no longer needed in SAME_WORD_ELSEWHERE: {stale}"


def test_the_guard_names_a_module_that_spells_a_key(tmp_path: Path) -> None:
    home = tmp_path / "attributes.py"
    home.write_text('WIN_RATE_CI_KEY = "win_rate_ci"\n')
    (tmp_path / "fine.py").write_text(
        '"""Reads trial.user_attrs["win_rate_ci"] (a docstring may say so)."""\n'
        "from attributes import WIN_RATE_CI_KEY\n"
        "def ci(trial):\n"
        "    return trial.user_attrs.get(WIN_RATE_CI_KEY), f'{WIN_RATE_CI_KEY}:x'\n"
    )
    (tmp_path / "spelled.py").write_text('def ci(attrs):\n    return attrs.get("win_rate_ci")\n')
    (tmp_path / "other_key.py").write_text('def note(trial):\n    trial.set_user_attr("my_new_key", 1)\n')
    found = key_literals(tmp_path, home, {"win_rate_ci": "WIN_RATE_CI_KEY"}, {})
    assert found == [
        'other_key.py:2: attribute key spelled as a literal: trial.set_user_attr("my_new_key", 1)',
        "spelled.py:2: 'win_rate_ci' (import attributes.WIN_RATE_CI_KEY)",
    ]
    assert key_literals(tmp_path, home, {"win_rate_ci": "WIN_RATE_CI_KEY"}, {("spelled.py", "win_rate_ci"): "x"}) == [
        found[0]
    ]


def test_stored_names_are_unchanged_and_unique() -> None:
    assert {name: getattr(attributes, name) for name in STORED_NAMES} == STORED_NAMES
    assert set(_keys().values()) == set(STORED_NAMES)  # a new key is added to the contract above too
    assert len(set(STORED_NAMES.values())) == len(STORED_NAMES)
    assert [str(s) for s in ProposalSource] == [
        "tpe",
        "base",
        "local",
        "patterns",
        "llm",
        "patterns+llm",
        "crossover",
        "warm-start",
    ]


def test_proposal_sources_are_stored_as_their_plain_strings(tmp_path: Path) -> None:
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}")
    study = optuna.create_study(storage=storage)
    for source in ProposalSource:
        study.enqueue_trial({}, user_attrs={PROPOSAL_SOURCE_KEY: source})
    study.optimize(lambda trial: 0.0, n_trials=len(ProposalSource))
    stored = [
        t.user_attrs[PROPOSAL_SOURCE_KEY]
        for t in optuna.load_study(study_name=study.study_name, storage=storage).trials
    ]
    assert all(type(value) is str for value in stored)
    assert stored == list(ProposalSource) == [source.value for source in ProposalSource]
    assert json.dumps(list(ProposalSource)) == json.dumps([source.value for source in ProposalSource])


def test_the_clank_sampler_writes_plain_string_sources() -> None:
    from optuna_clank.sampler import ClankSampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=ClankSampler(seed=0, n_startup_trials=2), direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0.0, 1.0), n_trials=4)
    sources = [t.user_attrs[PROPOSAL_SOURCE_KEY] for t in study.trials]
    assert all(type(s) is str for s in sources), sources  # in-memory storage keeps exactly what was written
    assert set(sources) <= set(ProposalSource)
