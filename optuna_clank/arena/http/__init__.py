"""The Battlesnake HTTP API, both ways: the request and reply bodies, a keep-alive client with a bounded
number of requests in flight, the player that seats a served snake, and a minimal server."""

from __future__ import annotations
