"""Counter-based random numbers for batched games.

Every random draw of the batched engine is a pure function of
``(game key, turn, purpose, index)``. That makes a game's randomness independent of which
other games share its batch, of the batch size, of the device and of the configuration that
plays it: the foundation of common random numbers.
"""

from __future__ import annotations

import hashlib

import torch

_MASK32 = 0xFFFFFFFF
_MULTIPLIER = 0x45D9F3B  # small enough that (x < 2**32) * multiplier never overflows int64


def hash32(values: torch.Tensor) -> torch.Tensor:
    """Mix 32-bit integers (held in int64) into well-spread 32-bit integers."""
    x = values & _MASK32
    x = ((x >> 16) ^ x) * _MULTIPLIER & _MASK32
    x = ((x >> 16) ^ x) * _MULTIPLIER & _MASK32
    return (x >> 16) ^ x


def mix(key: torch.Tensor, *parts: torch.Tensor | int) -> torch.Tensor:
    """Chain ``parts`` into ``key`` (broadcasting), one hash per part."""
    h = key
    for part in parts:
        h = hash32(h ^ part)
    return h


def game_key(seed: int, deal: int) -> int:
    """A 32-bit key for deal ``deal`` of match seed ``seed`` (stable across runs and machines)."""
    digest = hashlib.blake2b(f"{seed}:{deal}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little")
