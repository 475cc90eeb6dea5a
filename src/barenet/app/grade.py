"""``barenet grade``: grade submission zips, each in a sandboxed child, and write the reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from barenet.app.arguments import OneLineErrorParser, non_negative_int, seconds
from barenet.app.check import add_convention_options
from barenet.app.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from barenet.grading.sandbox.isolation import NoIsolationError, no_isolation
from barenet.grading.sandbox.limits import DEFAULT_TIMEOUT_S
from barenet.grading.sandboxed.exercise_names import DEFAULT_EXERCISE, GRADED_EXERCISES
from barenet.grading.submissions.exports import write_csv, write_gradescope, write_json_report
from barenet.grading.submissions.grader import grade_folder, grade_submission
from barenet.grading.submissions.report import GradeReport

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
        type=seconds,
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
    parser.add_argument(
        "--exercise",
        choices=tuple(GRADED_EXERCISES),
        default=DEFAULT_EXERCISE,
        help=f"the exercise graded (default {DEFAULT_EXERCISE}); its pickle holds one key "
        "per function, e.g. conv_forward, conv_backward",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without file-system and network isolation where no sandbox works (every "
        "report says so); without it, grade refuses to run submissions unisolated (exit 2)",
    )
    add_convention_options(parser)


def grade_reports(target: Path, single: bool, args: argparse.Namespace) -> list[GradeReport]:
    """Every submission's report (raises ``NoIsolationError`` before any runs)."""
    isolation = no_isolation("--no-sandbox") if args.no_sandbox else None
    options = {"convention": args.convention, "strict": args.strict, "seed": args.seed}
    options["exercise"] = args.exercise
    if single:
        return [grade_submission(target, timeout=args.timeout, isolation=isolation, **options)]
    workers = args.workers or None
    return grade_folder(target, args.timeout, workers, isolation=isolation, **options)


def write_reports(reports: list[GradeReport], single: bool, args: argparse.Namespace) -> None:
    """The JSON, Gradescope and CSV files asked for."""
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


def run_grade(args: argparse.Namespace) -> int:
    """``barenet grade``: print each submission's lines and score; write JSON/CSV.

    Returns 0 when every submission was graded (whatever its score); 1 when at
    least one was not (status timeout, crashed, invalid-submission or
    grader-error: its report says why, and every report is still written); 2 for
    bad arguments, an input that does not exist or holds no submission, or no
    sandbox without ``--no-sandbox``.
    """
    target = Path(args.submission)
    if not target.exists():
        print(f"barenet grade: {target} does not exist", file=sys.stderr)
        return EXIT_USAGE
    single = target.is_file() or (target / "models").is_dir()
    if args.format == "gradescope" and not single:
        print("barenet grade: --format gradescope grades one submission", file=sys.stderr)
        return EXIT_USAGE
    try:
        reports = grade_reports(target, single, args)
    except NoIsolationError as error:
        print(f"barenet grade: {error}", file=sys.stderr)
        return EXIT_USAGE
    if not reports:
        print(f"barenet grade: no .zip submissions in {target}", file=sys.stderr)
        return EXIT_USAGE
    for report in reports:
        print("\n".join(report.lines()))
    write_reports(reports, single, args)
    return EXIT_OK if all(report.status == "graded" for report in reports) else EXIT_FAILED


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``grade`` to the ``barenet`` command."""
    parser = subparsers.add_parser("grade", help=GRADE_HELP, description=GRADE_DESCRIPTION)
    add_grade_arguments(parser)
    parser.set_defaults(func=run_grade)


def grade_main(argv: list[str]) -> int:
    """``barenet grade`` on an argument list, without the rest of the command."""
    parser = OneLineErrorParser(prog="barenet grade", description=GRADE_DESCRIPTION)
    add_grade_arguments(parser)
    return run_grade(parser.parse_args(argv))
