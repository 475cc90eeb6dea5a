"""``barenet exercise init DIR [--solutions]``, whose arguments and body live in
``barenet.exercise.command``."""

from __future__ import annotations

import argparse

from barenet.exercise import command


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``exercise`` (with its ``init`` action) to the ``barenet`` command."""
    exercise = subparsers.add_parser(
        "exercise",
        help="write the exercise folder (starter kit, or solutions for teachers)",
        description="The neural-networks exercise as a folder to hand out.",
    )
    command.add_arguments(exercise)
    exercise.set_defaults(func=command.run)
