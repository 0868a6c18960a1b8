"""A study as stored: its storage, how it is opened and counted, its results, verdicts, validation,
warm start, notes and dashboard.
"""

from __future__ import annotations
