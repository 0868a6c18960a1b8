"""The errors the official engine reports, with its exact texts (``constants.go`` and ``board.go``)."""

from __future__ import annotations

ERR_NO_MOVE = "move not provided for snake"
ERR_ZERO_LENGTH = "snake is length zero"
ERR_NO_ROOM_FOR_SNAKE = "not enough space to place snake"
ERR_NO_ROOM_FOR_FOOD = "not enough space to place food"
ERR_TOO_MANY_SNAKES = "too many snakes for fixed start positions"
ERR_NO_POSITIONS = "no more positions available"


class RulesError(ValueError):
    """An error the official engine reports; ``str(err)`` starts with the official text.

    ``official`` holds the bare official text, ``detail`` what we add to it (such as the snake id).
    """

    def __init__(self, official: str, detail: str = "") -> None:
        self.official = official
        self.detail = detail
        super().__init__(f"{official}: {detail}" if detail else official)
