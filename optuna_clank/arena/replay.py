"""Replays: games recorded turn by turn as Battlesnake API boards, read back and drawn as text.

A replay is a list of frames ``{"turn": n, "board": {width, height, food, hazards, snakes},
"moves": {...}}``, the shape ``play --history`` and the trials' replay artifacts are written
in. Reading one checks that shape, so a wrong file gives one clear line instead of a
``KeyError`` deep inside the drawing code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optuna_clank.core.errors import UserError

Frame = dict[str, Any]

CANDIDATE_ID = "candidate"
"""Snake id of the tuned config in every recorded game."""

_LETTERS = "ABCDEFGH"
"""One letter per snake in text boards: the head upper case, the body lower case."""


def load_replay(path: Path, *, game: int | None = None) -> list[Frame]:
    """The frames of a replay file: a list of frames, or ``{game: frames}`` as ``play --history`` writes.

    ``game`` picks one game of a ``{game: frames}`` file (default: the first one).
    Raises :class:`UserError` when the file is missing or not a replay.
    """
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not JSON: {exc}") from exc
    if isinstance(data, dict):
        if not data:
            raise UserError(f"{path} holds no recorded game")
        key = str(game) if game is not None else next(iter(data))
        if key not in data:
            raise UserError(f"{path} has no game {game} (it has {', '.join(sorted(data, key=_game_order))})")
        data = data[key]
    elif game is not None:
        raise UserError(f"{path} holds a single game; drop --game")
    problem = _shape_problem(data)
    if problem:
        raise UserError(f"{path} is not a replay: {problem}")
    return data


def _game_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def _shape_problem(frames: Any) -> str:
    """What is wrong with ``frames`` as a replay, or ``""``."""
    if not isinstance(frames, list) or not frames:
        return "expected a non-empty list of frames"
    for index, frame in enumerate(frames):
        board = frame.get("board") if isinstance(frame, dict) else None
        if not isinstance(board, dict) or not isinstance(frame.get("turn"), int):
            return f"frame {index} lacks 'turn' and 'board'"
        if not all(isinstance(board.get(k), int) for k in ("width", "height")):
            return f"frame {index}: board lacks width and height"
        for snake in board.get("snakes", []):
            if not isinstance(snake, dict) or "id" not in snake or not snake.get("body"):
                return f"frame {index}: a snake lacks 'id' or 'body'"
    return ""


def snake_ids(frames: Sequence[Frame]) -> list[str]:
    """Every snake of the game in a stable order: the candidate first, then by first appearance."""
    seen: list[str] = []
    for frame in frames:
        for snake in frame["board"]["snakes"]:
            if snake["id"] not in seen:
                seen.append(snake["id"])
    return sorted(seen, key=lambda s: (s != CANDIDATE_ID, seen.index(s)))


def text_board(frame: Frame, ids: Sequence[str]) -> str:
    """One frame as text rows, top row first (Battlesnake's y grows upwards).

    Snake ``k`` of ``ids`` is drawn with letter ``k`` (head upper case), food ``*``,
    hazards ``~``, empty cells ``.``.
    """
    board = frame["board"]
    width, height = board["width"], board["height"]
    cells = [["." for _ in range(width)] for _ in range(height)]
    for point in board.get("hazards", []):
        cells[point["y"]][point["x"]] = "~"
    for point in board.get("food", []):
        cells[point["y"]][point["x"]] = "*"
    for snake in board["snakes"]:
        letter = _letter(ids, snake["id"])
        for point in reversed(snake["body"]):  # the head last, so it wins over a stacked body
            cells[point["y"]][point["x"]] = letter.lower()
        head = snake["body"][0]
        cells[head["y"]][head["x"]] = letter
    return "\n".join(" ".join(row) for row in reversed(cells))


def _letter(ids: Sequence[str], snake_id: str) -> str:
    index = ids.index(snake_id) if snake_id in ids else len(ids)
    return _LETTERS[index] if index < len(_LETTERS) else "?"


def frame_caption(frame: Frame, ids: Sequence[str], *, separator: str = "  ") -> str:
    """``turn 12  A candidate 5 long, health 93  B baseline ...`` (dead snakes are not listed)."""
    return f"turn {frame['turn']}{separator}" + "  ".join(snake_summaries(frame, ids))


def snake_summaries(frame: Frame, ids: Sequence[str]) -> list[str]:
    """``A candidate 5 long, health 93`` for each snake on the board, in the order of ``ids``."""
    parts = []
    for snake in sorted(frame["board"]["snakes"], key=lambda s: ids.index(s["id"]) if s["id"] in ids else len(ids)):
        health = f", health {snake['health']}" if "health" in snake else ""
        parts.append(f"{_letter(ids, snake['id'])} {snake['id']} {len(snake['body'])} long{health}")
    return parts


def render_text(frames: Sequence[Frame], *, every: int = 1) -> str:
    """The game as text: a caption and a board for every ``every``-th turn, and the last one."""
    ids = snake_ids(frames)
    chosen = [f for i, f in enumerate(frames) if i % every == 0 or i == len(frames) - 1]
    blocks = [f"{frame_caption(frame, ids)}\n{text_board(frame, ids)}" for frame in chosen]
    return "\n\n".join([*blocks, ending(frames)]) + "\n"


def ending(frames: Sequence[Frame]) -> str:
    """How the game ended, as far as the frames tell: who was still on the board at the last turn."""
    last = frames[-1]
    alive = [s["id"] for s in last["board"]["snakes"]]
    gone = [s for s in snake_ids(frames) if s not in alive]
    text = f"game over at turn {last['turn']}: "
    text += f"{', '.join(alive)} still on the board" if alive else "no snake left"
    if gone:
        text += f"; eliminated: {', '.join(gone)}"
    return text


def key_moment(frames: Sequence[Frame], snake_id: str = CANDIDATE_ID) -> int:
    """Index of the frame worth a picture: the last one with ``snake_id`` alive when it dies, else the last."""
    present = [i for i, frame in enumerate(frames) if any(s["id"] == snake_id for s in frame["board"]["snakes"])]
    if present and present[-1] < len(frames) - 1:
        return present[-1]
    return len(frames) - 1
