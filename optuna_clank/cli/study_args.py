"""What every study subcommand shares: ``--study``/``--spec``, the spec with its overrides, the opened study."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optuna_clank.core.errors import UserError

if TYPE_CHECKING:
    import optuna

    from optuna_clank.spec import StudySpec


def add_study_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--study",
        metavar="NAME",
        help="study spec studies/NAME.toml (current folder first, then the specs shipped with optuna-clank)",
    )
    which.add_argument("--spec", type=Path, metavar="FILE", help="a study spec TOML file anywhere")
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="SQLAlchemy URL of the study storage (default: the spec's, else sqlite:///storage/<study>.db); "
        "postgresql://user@host/db uses psycopg 3",
    )


def spec_file(args: argparse.Namespace) -> StudySpec:
    """The spec as its file says: ``--spec FILE``, or ``--study NAME`` found in studies/."""
    from optuna_clank.spec import find_spec, load_spec

    return load_spec(args.spec if args.spec else find_spec(args.study))


def spec_from(args: argparse.Namespace) -> StudySpec:
    """The spec with ``--storage``, for the commands that read a study."""
    spec = spec_file(args)
    return spec.with_overrides(storage_url=args.storage) if args.storage else spec


def overrides_of(args: argparse.Namespace) -> dict[str, Any]:
    """The spec keys this command's options override: every option whose name is one of
    :data:`optuna_clank.spec.OVERRIDES` (``--storage`` is applied on its own)."""
    from optuna_clank.spec import OVERRIDES

    names = [name for name in OVERRIDES if name != "storage_url"]
    chosen: dict[str, Any] = {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}
    if "llm_models" in chosen:
        chosen["llm_models"] = list(chosen["llm_models"])
        chosen.setdefault("use_llm", True)
    return chosen


def open_for_command(spec: StudySpec) -> tuple[optuna.Study, str, StudySpec]:
    """The spec's existing study, its storage URL, and the spec with the base config the study started
    from (``optimize --base-config``), so that every command compares with and writes onto that base."""
    from sqlalchemy.engine import make_url

    from optuna_clank.study.opening import open_study, spec_as_started, storage_url_of

    url = storage_url_of(spec)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        raise UserError(f"no study {spec.name!r} yet: {parsed.database} does not exist (run optimize first)")
    study = open_study(spec, storage_url=url, create=False)
    return study, url, spec_as_started(spec, study)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def configure_logging(*, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
