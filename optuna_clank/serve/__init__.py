"""Built-in snakes served over the Battlesnake HTTP API (``serve``)."""

from __future__ import annotations
