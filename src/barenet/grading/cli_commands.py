"""The ``barenet check`` and ``barenet grade`` subcommands: their arguments and bodies.

``add_*_arguments(parser)`` defines a subcommand's arguments on the parser the
``barenet`` command gives it; ``run_*(args)`` does the work and returns the exit
status.
"""

from __future__ import annotations

import argparse
import math
import sys
import traceback
from pathlib import Path

from barenet.grading.check import check_paths
from barenet.grading.grader import DEFAULT_TIMEOUT_S, grade_folder, grade_submission
from barenet.grading.reports import write_csv, write_gradescope, write_json_report
from barenet.grading.sandboxed.exercise_names import ALL_KEYS
from barenet.grading.spec import CONVENTIONS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_grading_options(parser: argparse.ArgumentParser) -> None:
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


CHECK_HELP = "run the exercise tests on your own files or exercise_code/ folder"
CHECK_DESCRIPTION = (
    "Run the exercise tests on your own Python files, or on a folder of them laid "
    "out as the course's exercise_code/, which define some of "
    f"{', '.join(ALL_KEYS)}. Exit status 0 only at a score of 100."
)


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="Python files or folders, e.g. layer.py optimizer.py, or exercise_code/",
    )
    add_grading_options(parser)
    parser.add_argument("--seed", type=int, help="seed of the test inputs (default: fresh)")


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
            args.paths, verbose=True, convention=args.convention, strict=args.strict, seed=args.seed
        )
    except (Exception, SystemExit) as exc:
        print("barenet check: could not import your code:", file=sys.stderr)
        print("".join(traceback.format_exception_only(type(exc), exc)).rstrip(), file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if result.score == 100 else EXIT_FAILED


def positive_seconds(text: str) -> float:
    """An argparse type: a finite number of seconds greater than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


GRADE_HELP = "grade submission zips in a sandbox"
GRADE_DESCRIPTION = (
    "Grade a submission zip (or an unpacked submission folder holding models/), "
    "or every zip in a folder. The submission's code runs in a sandboxed child "
    "process on fresh inputs; the grade is computed outside it."
)


def add_grade_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "submission", help="SUBMISSION.zip, a submission folder, or a folder of zips"
    )
    parser.add_argument(
        "--json",
        metavar="REPORT",
        help="write the result as JSON to REPORT (with --format gradescope: Gradescope's "
        "results.json, default results.json)",
    )
    parser.add_argument(
        "--format",
        choices=("barenet", "gradescope"),
        default="barenet",
        help="the JSON written by --json: barenet's report (default) or Gradescope's "
        "results.json (one submission)",
    )
    parser.add_argument(
        "--csv",
        metavar="FILE",
        help="write one CSV line per submission (default for a folder: grades.csv)",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT_S,
        help=f"wall-clock seconds per submission, > 0 (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=non_negative_int,
        default=0,
        help="submissions graded at once (default 0: one per core)",
    )
    parser.add_argument(
        "--seed",
        metavar="N",
        type=non_negative_int,
        help="seed of the test inputs (default: fresh; every report records it)",
    )
    add_grading_options(parser)


def run_grade(args: argparse.Namespace) -> int:
    """``barenet grade``: print each submission's lines and score; write JSON/CSV.

    Returns 0 when every submission got a report (whatever its status and score),
    2 for bad arguments or when the input does not exist or holds no submission.
    """
    target = Path(args.submission)
    if not target.exists():
        print(f"barenet grade: {target} does not exist", file=sys.stderr)
        return EXIT_USAGE
    single = target.is_file() or (target / "models").is_dir()
    if args.format == "gradescope" and not single:
        print("barenet grade: --format gradescope grades one submission", file=sys.stderr)
        return EXIT_USAGE
    options = {"convention": args.convention, "strict": args.strict, "seed": args.seed}
    if single:
        reports = [grade_submission(target, timeout=args.timeout, **options)]
    else:
        reports = grade_folder(target, args.timeout, args.workers or None, **options)
        if not reports:
            print(f"barenet grade: no .zip submissions in {target}", file=sys.stderr)
            return EXIT_USAGE
    for report in reports:
        print("\n".join(report.lines()))
    if args.format == "gradescope":
        path = args.json or "results.json"
        write_gradescope(reports[0], path)
        print(f"Gradescope results written to {path}")
    elif args.json:
        write_json_report(reports[0] if single else reports, args.json)
        print(f"JSON report written to {args.json}")
    csv_path = args.csv or (None if single else "grades.csv")
    if csv_path:
        write_csv(reports, csv_path)
        print(f"CSV written to {csv_path} ({len(reports)} line{'s' * (len(reports) != 1)})")
    return EXIT_OK


def check_main(argv: list[str]) -> int:
    """``barenet check`` on an argument list, without the rest of the command."""
    parser = argparse.ArgumentParser(prog="barenet check", description=CHECK_DESCRIPTION)
    add_check_arguments(parser)
    return run_check(parser.parse_args(argv))


def grade_main(argv: list[str]) -> int:
    """``barenet grade`` on an argument list, without the rest of the command."""
    parser = argparse.ArgumentParser(prog="barenet grade", description=GRADE_DESCRIPTION)
    add_grade_arguments(parser)
    return run_grade(parser.parse_args(argv))
