"""``barenet exercise init DIR [--solutions]``: the command-line side of the kit."""

from __future__ import annotations

import argparse
import sys

from barenet.exercise.kit import write_kit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``init`` subcommand to the ``exercise`` parser."""
    actions = parser.add_subparsers(dest="exercise_action", metavar="ACTION", required=True)
    init = actions.add_parser(
        "init",
        help="write the exercise folder for learners (or, with --solutions, for teachers)",
        description="Write the neural-networks exercise into DIR: exercise_code/ with "
        "the layers and optimizer to fill in, the unit tests, and the notebook "
        "1_neural_networks.ipynb.",
    )
    init.add_argument("dir", metavar="DIR", help="folder to create (must be new or empty)")
    init.add_argument(
        "--solutions",
        action="store_true",
        help="write the teacher's kit with every exercise solved (keep it private)",
    )
    init.add_argument(
        "--force", action="store_true", help="write into a folder that already holds files"
    )


def run(args: argparse.Namespace) -> int:
    """Write the kit; print where it went and what to do next. Returns the exit status."""
    try:
        dest = write_kit(args.dir, solutions=args.solutions, overwrite=args.force)
    except FileExistsError as error:
        print(f"barenet exercise init: error: {error} (or pass --force)", file=sys.stderr)
        return 1
    except OSError as error:  # e.g. a folder that cannot be written
        print(f"barenet exercise init: error: {error}", file=sys.stderr)
        return 1
    kind = "solution kit (keep it private)" if args.solutions else "starter kit"
    print(f"Wrote the {kind} to {dest.resolve()}")
    print(f"Next: cd {dest} && jupyter notebook 1_neural_networks.ipynb")
    return 0
