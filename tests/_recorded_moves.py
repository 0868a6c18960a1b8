"""Read the recorded go-battleclank moves (``shared/data/gbc-moves``) to compare a port against them.

The folder (:data:`_shared.GBC_MOVES`, read in place) holds ``configs.json`` (config id -> the YAML
mapping the bot ran with) and ``positions.jsonl.gz`` (one /move request a line with the bot's move
under every config). The tests and the bench scripts (``bench/gbc_agreement.py``, ...) share it.
"""

from __future__ import annotations

import gzip
import json
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
