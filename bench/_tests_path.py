"""Puts the checkout's ``tests/`` folder on ``sys.path``: bench scripts share its data helpers.

``tests/_shared.py`` says where the shared data lies (``GBC_MOVES``) and ``tests/_recorded_moves.py``
reads the recorded go-battleclank moves. Import this module before them: ``import _tests_path``
sorts above ``from _recorded_moves import ...`` (plain imports come first in an import block).
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1] / "tests")

if TESTS not in sys.path:
    sys.path.append(TESTS)
