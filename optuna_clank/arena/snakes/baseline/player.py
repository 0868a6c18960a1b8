"""``baseline``: go-battleclank's benchmark snake (the Rust snake of its ``baseline/`` folder), batched.

Every seat of a batch scores its four moves at once, term by term as the scalar
:mod:`~optuna_clank.arena.snakes.baseline.reference` does (and tested equal to it): collisions first
(a fatal move totals exactly -1000), then head-to-head and pursuit summed over every enemy, reachable
space and its trap penalty, the dead-end look-ahead, food (or the food-trap penalty), hunger, centre,
heading and walls. The last best of up, down, left, right wins; a best total of -1000 or less answers up.

Shortcuts keep it fast, each exact:

* Unless some snake's moving tail lies on a body too (a board no game reaches: its tail on its own
  body, or on another's), a move is fatal exactly when it leaves the board, enters a cell the turn's
  labelling blocks (every body but one copy of each tail), or eats with the own moving tail there.
  Then every non-fatal move enters a free cell, whose reachable count is its region's size.
* The look-ahead (``-200`` when every next step shrinks the space ratio below 0.8 of the current one)
  cannot fire from a free cell: each neighbour's search reaches the cell's whole region (a free
  neighbour lies in it; a covered one counts itself plus it), so no future ratio is smaller. It runs
  only for moves into a covered cell, which the board above alone allows.
* The food-trap search (the eater's own tail blocking too) gives the region's size less one when the
  tail lies in the region entered and removing it cuts nothing (its free neighbours touch each other
  around it); a move already short without the tail is trapped anyway. Only the rest get a labelling.

The batch holds no hazards (the standard map has none), so the hazard term is the scalar reference's alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from optuna_clank.arena.features import TurnView
from optuna_clank.arena.players import Player, Seats
from optuna_clank.arena.snakes.baseline._fills import cut_by_removing, grown_fill_counts, search_cap, turn_fill_counts
from optuna_clank.arena.snakes.baseline._tables import (
    FOOD_REACH,
    MAX_LENGTH,
    cell_terms,
    food_points,
    food_space_needed,
    ratio_floors,
)
from optuna_clank.arena.snakes.baseline.weights import (
    DEAD_END_PENALTY,
    DEAD_END_SHRINK,
    FATAL,
    HUNGRY_BELOW,
    PURSUIT_BONUS,
    STARVING_BELOW,
    URGENCY_RANGE,
    ScoringWeights,
)

UP, DOWN, LEFT, RIGHT = range(4)
NO_DIRECTION = -1

WEIGHTS = ScoringWeights()
"""The weights of every game the arena plays: the Rust snake picks them by ruleset and by whether it is
the longest snake, and today every branch gives the defaults (``with_combat_aggression(1.0)`` included)."""


class BaselineSnake(Player):
    """go-battleclank's Rust benchmark snake, batched over games, on any device."""

    name = "baseline"

    def choose(self, view: TurnView, seats: Seats) -> torch.Tensor:
        return best_moves(self.scores(view, seats))

    def scores(self, view: TurnView, seats: Seats) -> torch.Tensor:
        """Int64 [n, 4]: each move's ``total_score`` (up, down, left, right), as the Rust code adds it up."""
        return move_totals(view, seats)


def best_moves(totals: torch.Tensor) -> torch.Tensor:
    """The last best move per row (Rust's ``max_by_key``), or up when even the best is -1000 or less."""
    best = 3 - totals.flip(1).argmax(1)
    return torch.where(totals.amax(1) > FATAL, best, UP)


@dataclass(frozen=True)
class _Movers:
    """The seats to move (leading dim n), their four candidate cells and what the terms read of them."""

    view: TurnView
    games: torch.Tensor  # int64 [n]
    seats: torch.Tensor  # int64 [n]
    cells: torch.Tensor  # int64 [n, 4]: the cell each move enters (the head for a move off the board)
    flat: torch.Tensor  # int64 [n, 4]: ``cells`` in a flattened [B, P] plane
    on_board: torch.Tensor  # bool [n, 4]
    length: torch.Tensor  # int64 [n]
    tails: torch.Tensor  # int64 [B, S]: every snake's last segment
    stacked: torch.Tensor  # bool [B, S]: the last two segments share a cell (the snake just ate)

    @staticmethod
    def of(view: TurnView, seats: Seats) -> _Movers:
        state, grid = view.state, view.grid
        games, own = seats.games, seats.seats
        candidates = view.candidates[games, own]
        on_board = grid.on_board[candidates]
        cells = torch.where(on_board, candidates, state.head[games, own].unsqueeze(1))
        flat = games.unsqueeze(1) * grid.n_cells + cells
        tails = state.tail()
        stacked = (state.length >= 2) & (tails == state.segment(state.length - 2))
        return _Movers(view, games, own, cells, flat, on_board, state.length[games, own], tails, stacked)

    def at_cells(self, plane: torch.Tensor) -> torch.Tensor:
        """A [B, P] (or [B, P + 1]) plane read at each seat's four cells -> [n, 4]."""
        if plane.shape[1] != self.view.grid.n_cells:
            return plane.reshape(-1)[self.games.unsqueeze(1) * plane.shape[1] + self.cells]
        return plane.reshape(-1)[self.flat]

    @property
    def own_tail(self) -> torch.Tensor:
        return self.tails[self.games, self.seats]

    @property
    def own_stacked(self) -> torch.Tensor:
        return self.stacked[self.games, self.seats]


def move_totals(view: TurnView, seats: Seats) -> torch.Tensor:
    """Int64 [n, 4]: ``calculate_move_score`` for each seat's four moves."""
    m = _Movers.of(view, seats)
    device = m.games.device
    state = view.state
    health = state.health[m.games, m.seats]
    food_here = m.at_cells(state.food) > 0
    covered_cells = m.at_cells(view.blocked)

    crossed = _moving_tail_on_a_body(view, m)
    if crossed:
        fatal = ~m.on_board | _collides(m, food_here)
    else:
        fatal = ~m.on_board | covered_cells | ((m.cells == m.own_tail.unsqueeze(1)) & food_here)
    enemy_terms = _head_to_head_and_pursuit(m)

    open_squares = m.at_cells(view.space).clamp(max=search_cap(view))
    covered = ~fatal & covered_cells if crossed else None
    if covered is not None and bool(covered.any()):
        seat, move = torch.nonzero(covered, as_tuple=True)
        open_squares[seat, move] = turn_fill_counts(view, m.games[seat], m.cells[seat, move].unsqueeze(1)).squeeze(1)
    space = open_squares * WEIGHTS.open_space
    lengths = m.length.clamp(max=MAX_LENGTH - 1)
    trap = _trap_penalty(open_squares, ratio_floors(device)[lengths])
    dead_end = _dead_end(m, open_squares, covered) if covered is not None else torch.zeros_like(open_squares)

    eats = food_here & ~fatal & ~m.own_stacked.unsqueeze(1)
    trapped = _food_trapped(m, open_squares, eats, needed=food_space_needed(device)[lengths])
    food_distance = _food_distance(m)
    hunger_band = (health < 40).long() + (health < 20).long()
    proximity = food_points(device)[hunger_band.unsqueeze(1), food_distance]
    food = torch.where(trapped, WEIGHTS.food_death_trap, proximity)
    urgency = torch.where(health < STARVING_BELOW, WEIGHTS.food_when_starving, WEIGHTS.food_when_hungry)
    hungry_near_food = (health < HUNGRY_BELOW).unsqueeze(1) & (food_distance < URGENCY_RANGE)
    hunger = torch.where(hungry_near_food, urgency.unsqueeze(1), 0)

    centre_table, near_wall_table = cell_terms(view.grid)
    centre = centre_table[m.cells]
    moves = torch.arange(4, device=device)
    straight = torch.where(moves == _direction(m).unsqueeze(1), WEIGHTS.maintain_direction, 0)
    wall = torch.where(near_wall_table[m.cells], WEIGHTS.near_wall_penalty, 0)

    total = enemy_terms + space + trap + dead_end + food + hunger + centre + straight + wall
    return torch.where(fatal, FATAL, total)


def _moving_tail_on_a_body(view: TurnView, m: _Movers) -> bool:
    """Whether some live snake of a moving seat's game has a moving (unstacked) tail on a cell a body covers."""
    state = view.state
    on_body = view.blocked.gather(1, m.tails) & ~m.stacked & state.alive
    return bool(on_body[m.games].any())


def _collides(m: _Movers, food_here: torch.Tensor) -> torch.Tensor:
    """Bool [n, 4]: the cell is on a body, and not a tail that moves away (the Rust checks, snake by snake).

    A tail moves unless it is stacked (the snake just ate); the own tail also stays when the move eats.
    Other snakes' next meals are not guessed, as in the Rust code.
    """
    state = m.view.state
    n, n_seats = m.games.shape[0], state.n_seats
    snakes = torch.arange(n_seats, device=m.games.device)
    at = m.cells.unsqueeze(2)
    on_body = state.occ[m.games.view(n, 1, 1), snakes.view(1, 1, n_seats), at] > 0
    on_body |= state.head[m.games].unsqueeze(1) == at
    tail_stays = (m.tails[m.games].unsqueeze(1) != at) | m.stacked[m.games].unsqueeze(1)
    own = (snakes == m.seats.unsqueeze(1)).unsqueeze(1)
    tail_stays |= own & food_here.unsqueeze(2)
    return (on_body & tail_stays & state.alive[m.games].unsqueeze(1)).any(2)


def _food_distance(m: _Movers) -> torch.Tensor:
    """Int64 [n, 4]: Manhattan distance from each cell to the nearest food, ``FOOD_REACH + 1`` beyond (or none)."""
    state, grid = m.view.state, m.view.grid
    far = FOOD_REACH + 1
    distance = torch.full_like(m.cells, far)
    most = int(state.food_count.max()) if state.n_games else 0
    if most == 0:
        return distance
    order, food_cells = state.food.topk(most, dim=1)  # every game's food (order 0: no food in that slot)
    present, food_cells = order[m.games] > 0, food_cells[m.games]
    x, y = grid.cell_x[m.cells], grid.cell_y[m.cells]
    food_x, food_y = grid.cell_x[food_cells], grid.cell_y[food_cells]
    for k in range(most):
        to_food = (x - food_x[:, k : k + 1]).abs() + (y - food_y[:, k : k + 1]).abs()
        distance = torch.where(present[:, k : k + 1], torch.minimum(distance, to_food), distance)
    return distance


def _head_to_head_and_pursuit(m: _Movers) -> torch.Tensor:
    """Int64 [n, 4]: +-500 per enemy head next to the cell (by length), pursuit bonus per shorter head at 2..5."""
    state, grid = m.view.state, m.view.grid
    snakes = torch.arange(state.n_seats, device=m.games.device)
    enemy = state.alive[m.games] & (snakes != m.seats.unsqueeze(1))
    heads = state.head[m.games]
    dx = grid.cell_x[m.cells].unsqueeze(2) - grid.cell_x[heads].unsqueeze(1)
    dy = grid.cell_y[m.cells].unsqueeze(2) - grid.cell_y[heads].unsqueeze(1)
    distance = dx.abs() + dy.abs()  # [n, 4, S]
    longer = (m.length.unsqueeze(1) > state.length[m.games]).unsqueeze(1)
    meeting = torch.where(longer, WEIGHTS.win_head_to_head, WEIGHTS.lose_head_to_head)
    head_to_head = torch.where(enemy.unsqueeze(1) & (distance == 1), meeting, 0)
    bonus = _pursuit_table(m.games.device)[distance.clamp(max=len(_PURSUIT) - 1)]
    pursuit = torch.where(enemy.unsqueeze(1) & longer, bonus, 0)
    return (head_to_head + pursuit).sum(2)


_PURSUIT = [PURSUIT_BONUS.get(d, 0) for d in range(max(PURSUIT_BONUS) + 2)]


@functools.cache
def _pursuit_table(device: torch.device) -> torch.Tensor:
    """Int64: the pursuit bonus by Manhattan distance (the last entry: farther)."""
    return torch.tensor(_PURSUIT, dtype=torch.int64, device=device)


def _trap_penalty(open_squares: torch.Tensor, floors: torch.Tensor) -> torch.Tensor:
    """Int64 [n, 4]: the penalty of the lowest space-ratio band reached (floors [n, 3] per length)."""
    below = open_squares.unsqueeze(2) < floors.unsqueeze(1)  # [n, 4, 3]: under 0.4, 0.6, 0.8
    moderate = torch.where(below[..., 2], WEIGHTS.trap_penalty, 0)
    severe = torch.where(below[..., 1], WEIGHTS.severe_trap_penalty, moderate)
    return torch.where(below[..., 0], WEIGHTS.critical_trap_penalty, severe)


def _dead_end(m: _Movers, open_squares: torch.Tensor, covered: torch.Tensor) -> torch.Tensor:
    """Int64 [n, 4]: -200 where every next step's space ratio falls below 0.8 of this one (``covered`` moves only)."""
    dead_end = torch.zeros_like(open_squares)
    if not bool(covered.any()):
        return dead_end
    seat, move = torch.nonzero(covered, as_tuple=True)
    start = m.cells[seat, move]
    grid = m.view.grid
    steps = start.unsqueeze(1) + grid.move_offsets
    on_board = grid.on_board[steps]
    futures = turn_fill_counts(m.view, m.games[seat], torch.where(on_board, steps, start.unsqueeze(1)))
    body_length = m.length[seat].to(torch.float32)
    current_ratio = open_squares[seat, move].to(torch.float32) / body_length
    future_ratio = futures.to(torch.float32) / body_length.unsqueeze(1)
    future_ratio = torch.where(on_board, future_ratio, torch.inf)
    worst = torch.minimum(current_ratio, future_ratio.amin(1))
    shrink = torch.tensor(float(DEAD_END_SHRINK), dtype=torch.float32, device=worst.device)
    dead_end[seat, move] = torch.where(worst < current_ratio * shrink, DEAD_END_PENALTY, 0)
    return dead_end


def _food_trapped(m: _Movers, open_squares: torch.Tensor, eats: torch.Tensor, *, needed: torch.Tensor) -> torch.Tensor:
    """Bool [n, 4]: eating here leaves fewer than ``needed`` [n] reachable cells with the own tail blocking.

    Blocking one more cell never grows a search: a move already short without it is trapped. A tail
    outside the region entered changes nothing; one inside it takes one cell off, unless removing it
    cuts the region, and only then is the region searched again.
    """
    view = m.view
    trapped = eats & (open_squares < needed.unsqueeze(1))
    labels = view.region_labels
    tail = m.own_tail.unsqueeze(1).expand_as(m.cells)
    tail_in_region = m.at_cells(labels) == labels[m.games, m.own_tail].unsqueeze(1)
    unsure = eats & ~trapped & (tail_in_region | m.at_cells(view.blocked))
    if not bool(unsure.any()):
        return trapped
    seat, move = torch.nonzero(unsure, as_tuple=True)
    cells, games, tails = m.cells[seat, move], m.games[seat], tail[seat, move]
    grown = (m.at_cells(view.space)[seat, move] - 1).clamp(max=search_cap(view))  # the region less the tail
    cut = cut_by_removing(view, games, tails) | view.blocked[games, cells]
    if bool(cut.any()):
        grown[cut] = grown_fill_counts(view, games[cut], tails[cut], cells[cut])
    trapped[seat, move] = grown < needed[seat]
    return trapped


def _direction(m: _Movers) -> torch.Tensor:
    """Int64 [n]: ``snake_direction`` (neck to head, x compared first), -1 for a one-cell body or a stacked neck."""
    state, grid = m.view.state, m.view.grid
    head = state.head[m.games, m.seats]
    neck = state.neck()[m.games, m.seats]
    hx, hy, nx, ny = grid.cell_x[head], grid.cell_y[head], grid.cell_x[neck], grid.cell_y[neck]
    vertical = torch.where(ny < hy, UP, DOWN)
    direction = torch.where(nx < hx, RIGHT, torch.where(nx > hx, LEFT, vertical))
    none = (m.length < 2) | (neck == head)
    return torch.where(none, NO_DIRECTION, direction)
