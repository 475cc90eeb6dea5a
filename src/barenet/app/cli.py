"""The ``barenet`` command (also ``python -m barenet``): its parser and dispatch.

Each subcommand family is a module with ``register(subparsers)``, which adds its
subcommands and sets ``func``, the function that runs one and returns the exit
status. Adding a family is adding its module to :data:`FAMILIES`.
"""

from __future__ import annotations

import argparse
import sys

from barenet import __version__
from barenet.app import (
    check,
    compare,
    download,
    evaluate,
    exercise,
    grade,
    optional,
    size,
    train,
)
from barenet.app.arguments import OneLineErrorParser
from barenet.app.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from barenet.data import DownloadError
from barenet.solver import TrainingDivergedError

#: ``barenet tune`` runs on Optuna, an optional extra.
tune = optional.family(
    "tune", "tune", "search hyperparameters with Optuna", module="barenet.app.tune.command"
)

#: The subcommand families, in the order ``barenet --help`` lists them.
FAMILIES = (train, evaluate, tune, compare, size, download, check, grade, exercise)


def build_parser() -> argparse.ArgumentParser:
    """The ``barenet`` parser with every family's subcommands registered."""
    parser = OneLineErrorParser(
        prog="barenet",
        description="barenet: neural networks in plain NumPy. Train, evaluate, tune "
        "hyperparameters, compare optimizers, account for memory, check and grade exercise code.",
    )
    parser.add_argument("--version", action="version", version=f"barenet {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", required=True, parser_class=OneLineErrorParser
    )
    for family in FAMILIES:
        family.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``barenet ARGS``; returns the exit status.

    0 success, 1 a failure of the work (download, divergence, a file not found),
    2 a bad argument (one line naming it), 130 Ctrl-C.
    """
    args = build_parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    try:
        return args.func(args)
    except ValueError as error:
        print(f"barenet {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (DownloadError, FileNotFoundError, TrainingDivergedError) as error:
        print(f"barenet {args.command}: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"barenet {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
