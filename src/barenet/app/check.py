"""``barenet check``: the exercise tests on a learner's own files, in this process."""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from barenet.app.arguments import OneLineErrorParser
from barenet.app.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from barenet.grading.engine.spec import CONVENTIONS
from barenet.grading.local.check import check_paths
from barenet.grading.sandboxed.exercise_names import ALL_KEYS, GRADED_EXERCISES

CHECK_HELP = "run the exercise tests on your own files or exercise_code/ folder"
CHECK_DESCRIPTION = (
    "Run the exercise tests on your own Python files, or on a folder of them laid "
    "out as the course's exercise_code/, which define some of "
    f"{', '.join(ALL_KEYS)}. Exit status 0 only at a score of 100."
)


def add_convention_options(parser: argparse.ArgumentParser) -> None:
    """``--convention`` and ``--strict``, shared by ``check`` and ``grade``."""
    parser.add_argument(
        "--convention",
        choices=CONVENTIONS,
        default="exact",
        help="exact (default): a layer's backward is its exact derivative and the loss owns "
        "1/N; batch-mean: affine_backward returns dw and db averaged over the batch, as one "
        "course version asks",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="advice (overflow warnings, arguments modified in place, Python loops over "
        "elements) fails a test too",
    )


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="Python files or folders, e.g. layer.py optimizer.py, or exercise_code/",
    )
    add_convention_options(parser)
    parser.add_argument("--seed", type=int, help="seed of the test inputs (default: fresh)")
    parser.add_argument(
        "--exercise",
        choices=tuple(GRADED_EXERCISES),
        help="the exercise whose tests run (default: the one whose names your files define)",
    )


def run_check(args: argparse.Namespace) -> int:
    """``barenet check PATH...``: print one line per test and the score.

    Returns 0 at a score of 100, 1 otherwise (also when a file cannot be
    imported), 2 when a path does not exist.
    """
    for path in map(Path, args.paths):
        if not path.exists():
            print(f"barenet check: {path} does not exist", file=sys.stderr)
            return EXIT_USAGE
    try:
        result = check_paths(
            args.paths,
            verbose=True,
            convention=args.convention,
            strict=args.strict,
            seed=args.seed,
            exercise=args.exercise,
        )
    except (Exception, SystemExit) as exc:
        print("barenet check: could not import your code:", file=sys.stderr)
        print("".join(traceback.format_exception_only(type(exc), exc)).rstrip(), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if result.score == 100 else EXIT_FAILED


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``check`` to the ``barenet`` command."""
    parser = subparsers.add_parser("check", help=CHECK_HELP, description=CHECK_DESCRIPTION)
    add_check_arguments(parser)
    parser.set_defaults(func=run_check)


def check_main(argv: list[str]) -> int:
    """``barenet check`` on an argument list, without the rest of the command."""
    parser = OneLineErrorParser(prog="barenet check", description=CHECK_DESCRIPTION)
    add_check_arguments(parser)
    return run_check(parser.parse_args(argv))
