"""Study subcommands of the command line (optimize, worker, validate, status, export, dashboard)."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the study subcommands on the main parser."""
    del commands
