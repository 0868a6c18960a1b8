"""The bot's positional rules about walls and the enemy's heading, batched over seats.

Each function mirrors one rule of go-battleclank's greedy search (named in its docstring) and
loops over enemy seats in seat order where the bot loops over its snake list, so the first
enemy that satisfies a rule wins as in the bot.
"""

from __future__ import annotations

import torch

from optuna_clank.arena.snakes.gbc._board import fill
from optuna_clank.arena.snakes.gbc._seats import DOWN, LEFT, NO_DIRECTION, RIGHT, UP, GbcSeats, manhattan, where

_NO_WALL, _WALL_LEFT, _WALL_RIGHT, _WALL_TOP, _WALL_BOTTOM, _CORNER = range(6)
_FAR = 100  # the bot's "no threat" distance in its wall escape rule


def _wall_side(x: torch.Tensor, y: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """The bot's getWallSide: which single wall a point lies on, or corner."""
    left, right, top, bottom = x == 0, x == width - 1, y == height - 1, y == 0
    count = left.long() + right.long() + top.long() + bottom.long()
    side = torch.full_like(x, _NO_WALL)
    for flag, code in ((bottom, _WALL_BOTTOM), (top, _WALL_TOP), (right, _WALL_RIGHT), (left, _WALL_LEFT)):
        side = where(flag, code, side)
    return where(count >= 2, _CORNER, side)


def cutoff_kill(c: GbcSeats) -> torch.Tensor:
    """Int64 [n]: DetectCutoffKill's move (it bypasses all scoring), or -1 when none applies."""
    width, height = c.width, c.height
    mine = c.direction.unsqueeze(1)  # [n, 1]
    same_way = c.enemy & (mine != NO_DIRECTION) & (c.e_direction == mine)
    if not bool(same_way.any()):  # the common case: skip the rest of the rule
        return torch.full_like(c.direction, NO_DIRECTION)
    hx, hy = c.hx.unsqueeze(1), c.hy.unsqueeze(1)
    ex, ey = c.ex, c.ey  # [n, S]
    side = _wall_side(ex, ey, width, height)
    sideways = where(
        (side == _WALL_LEFT) & (hx == 1), LEFT, where((side == _WALL_RIGHT) & (hx == width - 2), RIGHT, NO_DIRECTION)
    )
    up_down = where(
        (side == _WALL_BOTTOM) & (hy == 1), DOWN, where((side == _WALL_TOP) & (hy == height - 2), UP, NO_DIRECTION)
    )
    move = where((mine == UP) | (mine == DOWN), sideways, up_down)
    advance = torch.stack([hy - ey, ey - hy, ex - hx, hx - ex], dim=2)  # [n, S, 4] by our heading
    ahead = advance.gather(2, mine.clamp(min=0).unsqueeze(2).expand(-1, ex.shape[1], 1)).squeeze(2) >= 2
    # The bot also wants a body segment two tiles past the enemy head: the head itself is one.
    open_cell = c.free.gather(1, move.clamp(min=0))
    we_cornered = (_wall_side(c.hx, c.hy, width, height) == _CORNER).unsqueeze(1)
    take = same_way & (move != NO_DIRECTION) & ahead & open_cell & ~we_cornered
    first = take.to(torch.uint8).argmax(1, keepdim=True)  # the bot returns at the first such enemy
    return where(take.any(1), move.gather(1, first).squeeze(1), NO_DIRECTION)


def wall_escape(c: GbcSeats) -> torch.Tensor:
    """Float64 [n, 4]: evaluateWallEscapeEmergency (a U-turn at the wall against a longer head-on snake)."""
    width, height = c.width, c.height
    distances = (c.hx, width - 1 - c.hx, c.hy, height - 1 - c.hy)
    apart = c.head_distance
    longer_near = c.enemy & (apart >= 2) & (apart <= 3) & (c.e_length > c.length.unsqueeze(1))
    at_wall = torch.minimum(torch.minimum(distances[0], distances[1]), torch.minimum(distances[2], distances[3])) == 0
    if not bool((longer_near & at_wall.unsqueeze(1)).any()):  # the common case: skip the rest of the rule
        return torch.zeros(c.cells.shape, dtype=torch.float64, device=c.cells.device)
    toward = torch.full_like(c.hx, LEFT)
    nearest = distances[0]
    for distance, move in zip(distances[1:], (RIGHT, DOWN, UP), strict=True):
        closer = distance < nearest
        toward = where(closer, move, toward)
        nearest = where(closer, distance, nearest)

    ours, theirs = c.heading.unsqueeze(1), c.e_heading
    vertical = ((ours == UP) & (theirs == DOWN)) | ((ours == DOWN) & (theirs == UP))
    horizontal = ((ours == RIGHT) & (theirs == LEFT)) | ((ours == LEFT) & (theirs == RIGHT))
    head_on = (vertical & (c.hx.unsqueeze(1) == c.ex)) | (horizontal & (c.hy.unsqueeze(1) == c.ey))
    threat = longer_near & (ours != NO_DIRECTION) & (theirs != NO_DIRECTION) & head_on
    closest = where(threat, apart, _FAR).amin(1)

    side_wall = (toward == LEFT) | (toward == RIGHT)
    perpendicular_open = where(side_wall, c.free[:, :2].any(1), c.free[:, 2:].any(1))
    active = (nearest == 0) & threat.any(1) & ~perpendicular_open
    moves = torch.arange(4, device=toward.device).unsqueeze(0)
    bonus = where(closest <= 2, 75.0, 50.0).unsqueeze(1)
    value = where(moves == toward.unsqueeze(1), bonus, where(moves == (toward ^ 1).unsqueeze(1), -40.0, 0.0))
    return where(active.unsqueeze(1), value, 0.0)


def wall_interception(c: GbcSeats) -> torch.Tensor:
    """Float64 [n, 4]: EvaluateWallInterception (heading off an enemy that runs toward a wall)."""
    width, height = c.width, c.height
    ex, ey = c.ex, c.ey  # [n, S]
    dx, dy = c.e_neck_dx, c.e_neck_dy
    heading = torch.zeros_like(c.enemy)
    wall_x, wall_y = torch.zeros_like(ex), torch.zeros_like(ey)
    for cond, x, y in (  # later walls override earlier ones, as in the bot
        ((dx < 0) & (ex <= 5), 0, ey),
        ((dx > 0) & (ex >= width - 6), width - 1, ey),
        ((dy < 0) & (ey <= 5), ex, 0),
        ((dy > 0) & (ey >= height - 6), ex, height - 1),
    ):
        heading = heading | cond
        wall_x, wall_y = where(cond, x, wall_x), where(cond, y, wall_y)
    ix, iy = (ex + 2 * dx).clamp(0, width - 1), (ey + 2 * dy).clamp(0, height - 1)
    mine = manhattan(c.hx.unsqueeze(1), c.hy.unsqueeze(1), ix, iy)  # [n, S]
    to_wall = manhattan(ex, ey, wall_x, wall_y)
    usable = c.enemy & (c.e_length >= 2) & heading & (mine <= to_wall + 3)
    if not bool(usable.any()):
        return torch.zeros(c.cells.shape, dtype=torch.float64, device=c.cells.device)
    after = manhattan(c.cx.unsqueeze(2), c.cy.unsqueeze(2), ix.unsqueeze(1), iy.unsqueeze(1))  # [n, 4, S]
    trap = where(to_wall <= 3, 2.0, 1.0)
    own, theirs = c.length.unsqueeze(1), c.e_length
    size = where(own > theirs + 2, 1.5, where(own <= theirs, 0.5, 1.0))
    closer_by = (mine.unsqueeze(1) - after).to(torch.float64)
    gain = closer_by * 30.0 * trap.unsqueeze(1) * size.unsqueeze(1)
    gain = where(usable.unsqueeze(1) & (after < mine.unsqueeze(1)), gain, 0.0)
    return _sum_in_seat_order(gain)


def parallel_edge(
    c: GbcSeats, base: float | torch.Tensor, close: float | torch.Tensor, larger: float | torch.Tensor
) -> torch.Tensor:
    """Float64 [n, 4]: EvaluateParallelEdgeAvoidance (a penalty, subtracted by the caller).

    The weights are the config's, or float64 [n, 1] per seat.
    """
    width, height = c.width, c.height
    mine = c.direction
    same_way = c.enemy & (mine.unsqueeze(1) != NO_DIRECTION) & (c.e_direction == mine.unsqueeze(1))
    if not bool(same_way.any()):  # the common case: skip the rest of the rule
        return torch.zeros(c.cells.shape, dtype=torch.float64, device=c.cells.device)
    edge = torch.stack([height - 1 - c.hy, c.hy, c.hx, width - 1 - c.hx], dim=1)
    to_edge = edge.gather(1, mine.clamp(min=0).unsqueeze(1))  # [n, 1]
    vertical = ((mine == UP) | (mine == DOWN)).unsqueeze(1)
    hx, hy, ex, ey = c.hx.unsqueeze(1), c.hy.unsqueeze(1), c.ex, c.ey
    lane = where(vertical, (hx - ex).abs(), (hy - ey).abs())  # [n, S]
    ahead = torch.stack([ey >= hy, ey <= hy, ex <= hx, ex >= hx], dim=2)
    ahead = ahead.gather(2, mine.clamp(min=0).view(-1, 1, 1).expand(-1, ex.shape[1], 1)).squeeze(2)
    applies = same_way & (to_edge <= 2) & (lane == 1) & ahead
    next_lane = where(
        vertical.unsqueeze(2),
        (c.cx.unsqueeze(2) - ex.unsqueeze(1)).abs(),
        (c.cy.unsqueeze(2) - ey.unsqueeze(1)).abs(),
    )  # [n, 4, S]
    value = where(to_edge <= 1, close, base)  # [n, 1]
    value = where(c.e_length >= c.length.unsqueeze(1), value * larger, value)  # [n, S]
    penalty = where(applies.unsqueeze(1) & (next_lane < lane.unsqueeze(1)), value.unsqueeze(1), 0.0)
    return _sum_in_seat_order(penalty)


def _sum_in_seat_order(per_enemy: torch.Tensor) -> torch.Tensor:
    """Float64 [n, 4]: the sum over the last dim, added from 0.0 in seat order as the bot's loops do."""
    total = torch.zeros(per_enemy.shape[:2], dtype=torch.float64, device=per_enemy.device)
    for e in range(per_enemy.shape[2]):
        total = total + per_enemy[:, :, e]
    return total


def wall_approach(c: GbcSeats, max_depth: int | torch.Tensor) -> torch.Tensor:
    """Float64 [n, 4]: evaluateWallApproachSpace (heading into a wall while a side has more room).

    ``max_depth`` is the config's fill depth, or int64 [n, 1] per seat.
    """
    width, height = c.width, c.height
    left, right, bottom, top = c.cx, width - 1 - c.cx, c.cy, height - 1 - c.cy
    wall = where(right < left, RIGHT, LEFT)
    nearest = torch.minimum(left, right)
    for distance, move in ((bottom, DOWN), (top, UP)):
        closer = distance < nearest
        wall = where(closer, move, wall)
        nearest = where(closer, distance, nearest)
    moves = torch.arange(4, device=wall.device).unsqueeze(0)
    heading_in = (nearest <= 2) & (wall == moves)

    space = fill(c.region, max_depth)  # 0 for blocked cells, as the bot's guarded fills
    side_space = space[:, 2:].amax(1, keepdim=True)  # left / right of the head
    updown_space = space[:, :2].amax(1, keepdim=True)
    perpendicular = where(moves < 2, side_space, updown_space)
    much_more = (perpendicular.to(torch.float64) > space.to(torch.float64) * 1.5) & (
        perpendicular > 2 * c.length.unsqueeze(1)
    )
    value = -(perpendicular - space).to(torch.float64) * 2.0
    return where(heading_in & much_more, value, 0.0)
