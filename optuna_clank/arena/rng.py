"""Random sources for board setup and food spawning, shaped like the official rules' ``Rand``.

The official engine draws every random choice through two calls, ``Intn`` and ``Shuffle``; the
reference rules (:mod:`optuna_clank.arena.rules`) consume exactly those calls in the official order,
so the official fake generators reproduce the official test vectors position for position, and a
seeded generator makes the product's games reproducible.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["GoRandom", "KeyedRandom", "MaxRandom", "MinRandom", "SeededRandom", "hash32"]


class GoRandom(Protocol):
    """What the setup and spawn code needs from a random source (Go's ``rules.Rand``)."""

    def intn(self, n: int) -> int:
        """Return an integer in ``[0, n)``; ``n`` must be positive."""
        ...

    def shuffle(self, n: int, swap: Callable[[int, int], None]) -> None:
        """Permute ``n`` items that the caller owns, by calling ``swap(i, j)``."""
        ...


def _require_positive(n: int) -> None:
    """Reject ``n <= 0`` as Go's ``Intn`` does (it panics), so misuse cannot pass silently."""
    if n <= 0:
        raise ValueError(f"intn needs a positive bound, got {n}")


class MinRandom:
    """The official ``MinRand`` test generator: always the smallest choice, never shuffles."""

    def intn(self, n: int) -> int:
        """Return 0, the first choice."""
        _require_positive(n)
        return 0

    def shuffle(self, n: int, swap: Callable[[int, int], None]) -> None:
        """Leave the order unchanged."""


class MaxRandom:
    """The official ``MaxRand`` test generator: always the largest choice, rotating shuffles."""

    def intn(self, n: int) -> int:
        """Return ``n - 1``, the last choice."""
        _require_positive(n)
        return n - 1

    def shuffle(self, n: int, swap: Callable[[int, int], None]) -> None:
        """Rotate the items left by one, with the same swap sequence as the official code."""
        if n < 2:
            return
        for i in range(n - 2):
            swap(i, i + 1)
        swap(n - 2, n - 1)


class SeededRandom:
    """A reproducible generator backed by :class:`random.Random`.

    It does not reproduce Go's ``math/rand`` bit for bit (nothing in the product needs that), but
    the same seed always gives the same games, on every platform and Python process: string seeds
    are hashed deterministically by :class:`random.Random`, independent of ``PYTHONHASHSEED``.

    Example::

        >>> rng = SeededRandom("1234:7")  # seed 1234, game 7
        >>> rng.intn(100) == SeededRandom("1234:7").intn(100)
        True
    """

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(seed)

    def intn(self, n: int) -> int:
        """Return a uniform integer in ``[0, n)``."""
        _require_positive(n)
        return self._random.randrange(n)

    def shuffle(self, n: int, swap: Callable[[int, int], None]) -> None:
        """Fisher-Yates shuffle carried out through ``swap``, uniform over all permutations."""
        for i in range(n - 1, 0, -1):
            swap(i, self._random.randrange(i + 1))


_MASK32 = 0xFFFFFFFF
_MULTIPLIER = 0x45D9F3B
SETUP_SALT = 0x5E7
"""Mixed into a game key before its setup draws, so setup and food draws never coincide."""


def hash32(value: int) -> int:
    """Mix a 32-bit integer into a well-spread 32-bit integer.

    The same function as :func:`optuna_clank.arena.counter_rng.hash32` on tensors (a test holds
    them equal), so Python code and the batched engine can draw identical numbers.
    """
    x = value & _MASK32
    x = ((x >> 16) ^ x) * _MULTIPLIER & _MASK32
    x = ((x >> 16) ^ x) * _MULTIPLIER & _MASK32
    return (x >> 16) ^ x


class KeyedRandom:
    """A counter-based generator: draw ``k`` of a key is a pure function of ``(key, k)``.

    The batched engine computes the very same draws for thousands of games at once, so a board
    set up here by the reference rules and one set up on tensors are identical (a test checks).

    Example::

        >>> from optuna_clank.arena.counter_rng import game_key
        >>> seed, deal = 1, 0
        >>> rng = KeyedRandom(game_key(seed, deal))
        >>> rng.draw() == KeyedRandom(game_key(seed, deal)).draw()
        True
    """

    def __init__(self, key: int) -> None:
        self._base = hash32(key ^ SETUP_SALT)
        self._count = 0

    def draw(self) -> int:
        """The next 32-bit draw."""
        value = hash32(self._base ^ self._count)
        self._count += 1
        return value

    def intn(self, n: int) -> int:
        """An integer in ``[0, n)`` (modulo a 32-bit draw: bias below 1e-8 for small ``n``)."""
        _require_positive(n)
        return self.draw() % n

    def shuffle(self, n: int, swap: Callable[[int, int], None]) -> None:
        """Fisher-Yates from the last item down, one draw per step."""
        for i in range(n - 1, 0, -1):
            swap(i, self.intn(i + 1))
