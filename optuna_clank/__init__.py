"""optuna-clank: tune a Battlesnake bot's weights with Optuna, fast and honestly.

The few names a Python user needs, loaded on first use (PEP 562): ``import optuna_clank`` costs
nothing, and torch, optuna or litellm load only with the name that needs them. Example::

    import optuna_clank

    spec = optuna_clank.load_spec(optuna_clank.find_spec("v2"))
    run = optuna_clank.run_study(spec, n_trials=20)
    print(optuna_clank.status(optuna_clank.open_study(spec)).best)

Everything else is internal; the layers are described in ARCHITECTURE.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.core.lazy import lazy_names

__version__ = "0.1.0"  # the one version source: pyproject reads it (tool.hatch.version)

if TYPE_CHECKING:
    from optuna_clank.arena.match import MatchResult, play_match
    from optuna_clank.run.runner import StudyRun, run_study
    from optuna_clank.sampler import ClankSampler
    from optuna_clank.spec import StudySpec, find_spec, load_spec
    from optuna_clank.study.export import export_study
    from optuna_clank.study.opening import open_study
    from optuna_clank.study.results import StudyStatus, status
    from optuna_clank.study.validate import validate_study

# public name -> the module that defines it
_HOMES = {
    "ClankSampler": "optuna_clank.sampler._sampler",
    "MatchResult": "optuna_clank.arena.outcome",
    "StudyRun": "optuna_clank.run.runner",
    "StudySpec": "optuna_clank.spec",
    "StudyStatus": "optuna_clank.study.results",
    "export_study": "optuna_clank.study.export",
    "find_spec": "optuna_clank.spec",
    "load_spec": "optuna_clank.spec",
    "open_study": "optuna_clank.study.opening",
    "play_match": "optuna_clank.arena.match",
    "run_study": "optuna_clank.run.runner",
    "status": "optuna_clank.study.results",
    "validate_study": "optuna_clank.study.validate",
}

__all__ = [
    "ClankSampler",
    "MatchResult",
    "StudyRun",
    "StudySpec",
    "StudyStatus",
    "__version__",
    "export_study",
    "find_spec",
    "load_spec",
    "open_study",
    "play_match",
    "run_study",
    "status",
    "validate_study",
]

__getattr__, __dir__ = lazy_names(globals(), _HOMES)
