"""The embedded benchmark: a rules-exact, batched Battlesnake engine and its snakes."""

from __future__ import annotations
