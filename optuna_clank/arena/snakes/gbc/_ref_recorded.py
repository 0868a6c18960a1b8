"""Read the recorded go-battleclank moves (``shared/data/gbc-moves``) and compare a port against them.

The folder holds ``configs.json`` (config id -> the YAML mapping the bot ran with) and
``positions.jsonl.gz`` (one /move request a line with the bot's move under every config).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optuna_clank.arena.snakes.gbc.schema import GbcConfig, read_gbc_config


@dataclass(frozen=True)
class RecordedPosition:
    id: str
    request: dict[str, Any]
    moves: dict[str, str]  # config id -> the bot's move


def recorded_folder() -> Path:
    """Where the recordings live next to a checkout: ``<repo>/../shared/data/gbc-moves``."""
    return Path(__file__).resolve().parents[5] / "shared" / "data" / "gbc-moves"


def read_configs(folder: Path) -> dict[str, GbcConfig]:
    raw = json.loads((folder / "configs.json").read_text())
    return {config_id: read_gbc_config(mapping) for config_id, mapping in raw.items()}


def iter_positions(folder: Path, every: int = 1) -> Iterator[RecordedPosition]:
    """Positions in file order; ``every=4`` keeps positions 0, 4, 8, ... (a fixed subset)."""
    with gzip.open(folder / "positions.jsonl.gz", "rt") as lines:
        for index, line in enumerate(lines):
            if index % every == 0:
                raw = json.loads(line)
                yield RecordedPosition(raw["id"], raw["request"], raw["moves"])


def wilson_interval(hits: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sane at 0 and 100%)."""
    if total == 0:
        return (0.0, 1.0)
    p = hits / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))
