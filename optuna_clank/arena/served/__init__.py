"""Snakes that are programs of their own: how a ``[snake]`` section describes one, its process and
workspace per config, ``cmd:`` opponents, and the faults its answers may carry."""

from __future__ import annotations
