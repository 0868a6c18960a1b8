"""Looking at snakes rather than tuning them: ``probe``, ``fidelity`` and ``moves``."""

from __future__ import annotations
