"""``barenet check`` and ``barenet grade``, whose arguments and bodies live in
``barenet.grading.cli_commands``."""

from __future__ import annotations

import argparse

from barenet.grading import cli_commands


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``check`` and ``grade`` to the ``barenet`` command."""
    check = subparsers.add_parser(
        "check", help=cli_commands.CHECK_HELP, description=cli_commands.CHECK_DESCRIPTION
    )
    cli_commands.add_check_arguments(check)
    check.set_defaults(func=cli_commands.run_check)
    grade = subparsers.add_parser(
        "grade", help=cli_commands.GRADE_HELP, description=cli_commands.GRADE_DESCRIPTION
    )
    cli_commands.add_grade_arguments(grade)
    grade.set_defaults(func=cli_commands.run_grade)
