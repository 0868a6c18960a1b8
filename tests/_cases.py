"""Access to the official rules test vectors (``cases.json``), which live outside the repository.

The vectors are extracted from the AGPL-licensed official engine's tests, so they are read from the
shared folder (or ``$OPTUNA_CLANK_RULES_CASES``) and never copied into the repository. When the file
is absent the tests that need it are skipped with a reason that says where it was looked for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

_ENV_VAR = "OPTUNA_CLANK_RULES_CASES"
_REPO = Path(__file__).resolve().parent.parent


def cases_path() -> Path:
    """Where the case file is expected: ``$OPTUNA_CLANK_RULES_CASES`` or the shared rules folder."""
    override = os.environ.get(_ENV_VAR)
    if override:
        return Path(override)
    return _REPO.parent / "shared" / "rules" / "cases.json"


def missing_reason() -> str:
    """The skip reason used when the case file cannot be found."""
    return f"rules test vectors not found at {cases_path()}; set {_ENV_VAR}"


def load_cases() -> list[dict[str, Any]]:
    """All test vectors, in file order. Raises ``FileNotFoundError`` when the file is absent."""
    with cases_path().open(encoding="utf-8") as handle:
        return json.load(handle)["cases"]


def case_params(kinds: tuple[str, ...] = ()) -> list[Any]:
    """``pytest.param`` per case (id = case id), optionally only the given kinds.

    Without the case file this is a single skipped parameter, so the reason shows in the report
    instead of the tests silently vanishing.
    """
    if not cases_path().is_file():
        return [pytest.param(None, id="cases-missing", marks=pytest.mark.skip(missing_reason()))]
    return [pytest.param(case, id=case["id"]) for case in load_cases() if not kinds or case["kind"] in kinds]


def require_cases() -> list[dict[str, Any]]:
    """Load the cases inside a test, skipping the test (with the reason) when the file is absent."""
    if not cases_path().is_file():
        pytest.skip(missing_reason())
    return load_cases()
