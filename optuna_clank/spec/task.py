"""The study's task in one sentence (what is tuned, against whom, on which games): the LLM's brief."""

from __future__ import annotations

from typing import TYPE_CHECKING

from optuna_clank.arena.opponents import short_name

if TYPE_CHECKING:
    from optuna_clank.spec.assembly import StudySpec


def task_description(spec: StudySpec) -> str:
    """What the study tunes and why, in a sentence for the LLM prompt."""
    bench = spec.benchmark
    width, height = bench.board_size
    goals = ", ".join(f"{d} {o}" for d, o in zip(spec.study.directions, spec.study.objectives, strict=True))
    bot = (
        "a Battlesnake server that reads a YAML config"
        if spec.snake.is_server
        else "go-battleclank, a greedy one-ply bot that adds up many weighted terms per move, read from its YAML"
        if spec.snake.builtin == "gbc"
        else "a one-ply heuristic that scores its four moves from a go-battleclank style YAML config"
    )
    return (
        f"Tune the numeric weights of a Battlesnake bot ({bot}) to {goals} (score: win 1, draw 0.5, loss 0 "
        f"per game) against {', '.join(map(short_name, bench.opponents))} "
        f"in {bench.mode} games on a {width}x{height} board; every trial plays the same "
        f"{bench.games_per_trial} games."
    )
