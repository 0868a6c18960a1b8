"""Running a study: the runner (a ``optimize`` call), its monitor, the pool of slots and each slot's worker."""

from __future__ import annotations
