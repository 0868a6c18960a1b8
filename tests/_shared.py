"""Where the tests find the data that is not part of this repository (read in place, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_DATA = Path(
    os.environ.get("OPTUNA_CLANK_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)
"""The folder of shared data files: ``$OPTUNA_CLANK_SHARED_DATA`` or ``../shared/data``."""

GBC_MOVES = SHARED_DATA / "gbc-moves"
"""The moves the real go-battleclank bot chose on recorded positions under several configs."""
