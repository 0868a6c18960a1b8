"""How often the scalar gbc reference picks the real go-battleclank's recorded move, per config.

Every miss is a difference between the port and the bot (the bot is deterministic), so ``--misses N``
lists up to N missed decisions with the reference's move and the bot's, both moves' totals and their
term-by-term breakdowns — the tool for finding the rule that differs.

    python bench/gbc_agreement.py                    # all 12,000 positions x 12 configs (a few minutes)
    python bench/gbc_agreement.py --every 10         # every 10th position
    python bench/gbc_agreement.py --misses 5 --configs v03
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _tests_path  # noqa: F401  (puts tests/ on sys.path for _recorded_moves and _shared)
from _recorded_moves import iter_positions, read_configs
from _shared import GBC_MOVES

from optuna_clank.arena.snakes.gbc.reference import TERMS, MoveScore, board_from_request, score_board
from optuna_clank.core.stats import wilson_interval


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=GBC_MOVES, help="the gbc-moves folder")
    parser.add_argument("--every", type=int, default=1, help="use every Nth position (default: all)")
    parser.add_argument("--configs", nargs="*", help="config ids to check (default: all)")
    parser.add_argument("--misses", type=int, default=0, help="list up to N missed decisions with breakdowns")
    args = parser.parse_args()
    if not (args.data / "positions.jsonl.gz").is_file():
        print(f"error: no recorded moves at {args.data}", file=sys.stderr)
        return 2
    if args.every < 1:
        print("error: --every must be at least 1", file=sys.stderr)
        return 2
    configs = read_configs(args.data)
    unknown = sorted(set(args.configs or ()) - set(configs))
    if unknown:
        print(f"error: no config {', '.join(unknown)} (have {', '.join(configs)})", file=sys.stderr)
        return 2
    chosen = {cid: configs[cid] for cid in (args.configs or configs)}

    hits = dict.fromkeys(chosen, 0)
    cutoff_kills = 0
    positions = 0
    misses = []
    started = time.perf_counter()
    for position in iter_positions(args.data, args.every):
        positions += 1
        board = board_from_request(position.request)
        for cid, config in chosen.items():
            decision = score_board(board, config)
            cutoff_kills += decision.cutoff_kill
            if decision.move == position.moves[cid]:
                hits[cid] += 1
            elif len(misses) < args.misses:
                misses.append((position, cid, decision))
    seconds = time.perf_counter() - started

    decisions = positions * len(chosen)
    print(f"{positions} positions x {len(chosen)} configs = {decisions} decisions in {seconds:.1f} s")
    print(f"decisions taken by the cutoff-kill shortcut (no scoring): {cutoff_kills}")
    print(f"{'config':8} {'agree':>7} {'95% interval':>17} {'misses':>7}")
    for cid, hit in hits.items():
        low, high = wilson_interval(hit, positions)
        print(f"{cid:8} {hit / positions:7.2%} [{low:7.2%}, {high:7.2%}] {positions - hit:7d}")
    total_hits = sum(hits.values())
    print(f"{'all':8} {total_hits / decisions:7.2%}")
    for position, cid, decision in misses:
        _print_miss(position.id, cid, decision, position.moves[cid])
    return 0


def _print_miss(position_id: str, cid: str, decision, bot_move: str) -> None:
    print(
        f"\n{position_id} [{cid}]: reference {decision.move}, bot {bot_move}"
        + (" (cutoff kill)" * decision.cutoff_kill)
    )
    ours, theirs = decision.scores[decision.move], decision.scores[bot_move]
    print(f"  totals: {decision.move} {_total(ours)}   {bot_move} {_total(theirs)}")
    for term in TERMS:  # in the order the bot adds them
        a, b = ours.terms.get(term, 0.0), theirs.terms.get(term, 0.0)
        if a or b:
            print(f"  {term:18} {a:12.4f} {b:12.4f}{'  <- differs' if a != b else ''}")
    for fact in sorted(set(ours.facts) | set(theirs.facts)):
        print(f"  ({fact:16} {ours.facts.get(fact, float('nan')):12.4f} {theirs.facts.get(fact, float('nan')):12.4f})")


def _total(score: MoveScore) -> str:
    return "fatal (-10000)" if score.fatal else f"{score.total:.6f}"


if __name__ == "__main__":
    raise SystemExit(main())
