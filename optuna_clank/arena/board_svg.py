"""Battlesnake boards as SVG pictures: one frame, or a whole replay as an animation.

SVG needs no imaging library, shows in every browser (and so in optuna-dashboard's artifact
view) and stays small: a board is a few dozen rectangles. The animation uses SMIL
``<animate>`` on each frame's visibility, which browsers play without any script.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from optuna_clank.arena.replay import Frame, frame_caption, snake_ids

CELL = 32
"""Pixels per board cell."""

_MARGIN = 8
_LINE = 16
_CAPTION = 2 * _LINE + 6
"""Room above the board for a caption of up to two lines."""
_LEGEND = 22
_MIN_WIDTH = 380
"""Small boards get a wider picture so that the caption fits."""
_PALETTE = ("#2e9d4a", "#d9452b", "#2f6fd6", "#e0a100", "#8e44ad", "#16a3a3", "#d35d9c", "#6b6b6b")
"""Snake colours by order in :func:`snake_ids`: the candidate (first) is always green."""


def snake_colors(ids: Sequence[str]) -> dict[str, str]:
    """Colour of each snake id."""
    return {snake_id: _PALETTE[i % len(_PALETTE)] for i, snake_id in enumerate(ids)}


def board_svg(frame: Frame, *, ids: Sequence[str] | None = None, caption: str | None = None) -> str:
    """One frame as a standalone SVG document: caption (default: turn and snakes), board, next moves."""
    ids = list(ids) if ids is not None else snake_ids([frame])
    width, height = _size(frame)
    text = caption if caption is not None else frame_caption(frame, ids, separator="\n")
    colors = snake_colors(ids)
    body = [_grid(frame), _frame_shapes(frame, colors), _move_arrows(frame), _caption(text, frame), _legend(ids, frame)]
    return _document(width, height, "".join(body))


def animated_svg(frames: Sequence[Frame], *, seconds_per_turn: float = 0.25) -> str:
    """The whole replay as one looping SVG animation (one group per turn, shown in turn)."""
    ids = snake_ids(frames)
    colors = snake_colors(ids)
    width, height = _size(frames[0])
    n = len(frames)
    duration = max(n * seconds_per_turn, seconds_per_turn)
    groups = []
    for index, frame in enumerate(frames):
        shapes = _frame_shapes(frame, colors) + _caption(frame_caption(frame, ids, separator="\n"), frame)
        start, end = index / n, (index + 1) / n
        if index == 0:
            values, times = "visible;hidden", f"0;{end:.6f}"
        else:
            values, times = "hidden;visible;hidden", f"0;{start:.6f};{end:.6f}"
        animate = (
            f'<animate attributeName="visibility" values="{values}" keyTimes="{times}" calcMode="discrete" '
            f'dur="{duration:.3f}s" repeatCount="indefinite"/>'
        )
        first = "visible" if index == 0 else "hidden"
        groups.append(f'<g visibility="{first}">{animate}{shapes}</g>')
    return _document(width, height, _grid(frames[0]) + _legend(ids, frames[0]) + "".join(groups))


def _size(frame: Frame) -> tuple[int, int]:
    """Pixels: the board, a caption line above it and a legend line below it."""
    board = frame["board"]
    width = max(board["width"] * CELL + 2 * _MARGIN, _MIN_WIDTH)
    return width, board["height"] * CELL + 2 * _MARGIN + _CAPTION + _LEGEND


def _document(width: int, height: int, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif">'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>{body}</svg>\n'
    )


def _xy(frame: Frame, point: dict[str, int]) -> tuple[int, int]:
    """Pixel corner of a board point; Battlesnake's y grows upwards, SVG's downwards."""
    height = frame["board"]["height"]
    return _MARGIN + point["x"] * CELL, _MARGIN + _CAPTION + (height - 1 - point["y"]) * CELL


def _grid(frame: Frame) -> str:
    board = frame["board"]
    cells = []
    for y in range(board["height"]):
        for x in range(board["width"]):
            px, py = _xy(frame, {"x": x, "y": y})
            cells.append(
                f'<rect x="{px + 1}" y="{py + 1}" width="{CELL - 2}" height="{CELL - 2}" rx="3" fill="#eef0f3"/>'
            )
    return "".join(cells)


def _frame_shapes(frame: Frame, colors: dict[str, str]) -> str:
    board = frame["board"]
    shapes = []
    for point in board.get("hazards", []):
        px, py = _xy(frame, point)
        shapes.append(f'<rect x="{px}" y="{py}" width="{CELL}" height="{CELL}" fill="#7a5c99" opacity="0.35"/>')
    for point in board.get("food", []):
        px, py = _xy(frame, point)
        shapes.append(f'<circle cx="{px + CELL / 2}" cy="{py + CELL / 2}" r="{CELL / 5}" fill="#e8374a"/>')
    for snake in board["snakes"]:
        color = colors.get(snake["id"], _PALETTE[-1])
        body = snake["body"]
        for point in reversed(body[1:]):
            px, py = _xy(frame, point)
            shapes.append(
                f'<rect x="{px + 3}" y="{py + 3}" width="{CELL - 6}" height="{CELL - 6}" rx="5" fill="{color}"/>'
            )
        px, py = _xy(frame, body[0])
        shapes.append(
            f'<rect x="{px + 1}" y="{py + 1}" width="{CELL - 2}" height="{CELL - 2}" rx="8" fill="{color}" '
            'stroke="#111111" stroke-width="2"/>'
            f'<circle cx="{px + CELL / 2}" cy="{py + CELL / 2}" r="{CELL / 8}" fill="#ffffff"/>'
        )
    return "".join(shapes)


_DIRECTIONS = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
"""Pixel direction of each Battlesnake move (SVG's y grows downwards)."""


def _move_arrows(frame: Frame) -> str:
    """An arrow from each head towards the move it makes next, when the frame records the moves."""
    arrows = []
    moves = frame.get("moves") or {}
    for snake in frame["board"]["snakes"]:
        direction = _DIRECTIONS.get(str(moves.get(snake["id"])))
        if direction is None:
            continue
        px, py = _xy(frame, snake["body"][0])
        cx, cy = px + CELL / 2, py + CELL / 2
        dx, dy = direction
        tip_x, tip_y = cx + dx * CELL * 0.85, cy + dy * CELL * 0.85
        side_x, side_y = -dy * CELL * 0.18, dx * CELL * 0.18
        base_x, base_y = cx + dx * CELL * 0.5, cy + dy * CELL * 0.5
        points = f"{tip_x},{tip_y} {base_x + side_x},{base_y + side_y} {base_x - side_x},{base_y - side_y}"
        arrows.append(
            f'<line x1="{cx}" y1="{cy}" x2="{base_x}" y2="{base_y}" stroke="#111111" stroke-width="2"/>'
            f'<polygon points="{points}" fill="#111111"/>'
        )
    return "".join(arrows)


def _caption(text: str, frame: Frame) -> str:
    """Up to two lines (split at a newline) above the board."""
    del frame
    lines = text.split("\n")[:2]
    return "".join(
        f'<text x="{_MARGIN}" y="{_MARGIN + (i + 1) * _LINE - 4}" font-size="13" fill="#222222">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )


def _legend(ids: Sequence[str], frame: Frame) -> str:
    colors = snake_colors(ids)
    y = _MARGIN + _CAPTION + frame["board"]["height"] * CELL + 6
    items = []
    x = _MARGIN
    for snake_id in ids:
        items.append(f'<rect x="{x}" y="{y}" width="12" height="12" rx="2" fill="{colors[snake_id]}"/>')
        items.append(f'<text x="{x + 16}" y="{y + 11}" font-size="12" fill="#222222">{escape(snake_id)}</text>')
        x += 24 + 7 * len(snake_id)
    return "".join(items)
