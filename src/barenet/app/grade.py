"""``barenet grade``: grade submission zips, each in a sandboxed child, and write the reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from barenet.app.arguments import OneLineErrorParser, fraction, non_negative_int, seconds
from barenet.app.check import add_convention_options
from barenet.app.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from barenet.grading.classroom.class_grader import grade_found, gradescope_path
from barenet.grading.classroom.discovery import Submission, find_submissions
from barenet.grading.classroom.hidden_test_set import load_hidden_test_set
from barenet.grading.classroom.html_report import write_class_report
from barenet.grading.classroom.model_grading import EXERCISE as MODEL_EXERCISE
from barenet.grading.classroom.model_grading import ModelGrading
from barenet.grading.classroom.scoring import weights_from_toml
from barenet.grading.sandbox.isolation import NoIsolationError, no_isolation, required_isolation
from barenet.grading.sandbox.limits import DEFAULT_TIMEOUT_S, Limits
from barenet.grading.sandboxed.exercise_names import DEFAULT_EXERCISE, GRADED_EXERCISES
from barenet.grading.submissions.exports import write_csv, write_gradescope, write_json_report
from barenet.grading.submissions.grader import make_grader

GRADE_HELP = "grade submissions (one zip or a class's export) in a sandbox"
GRADE_DESCRIPTION = (
    "Grade a submission zip (or an unpacked submission folder holding models/), or a "
    "class: a course platform's export (Moodle, Canvas, Gradescope) or any folder of "
    "zips or of one folder per student. The submission's code runs in a sandboxed "
    "child process; the grade is computed outside it."
)


def add_grade_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "submission",
        help="SUBMISSION.zip, a submission folder, or a class's folder (see the README)",
    )
    parser.add_argument(
        "--json",
        metavar="REPORT",
        help="write the result as JSON to REPORT (with --format gradescope and one "
        "submission: Gradescope's results.json, default results.json)",
    )
    parser.add_argument(
        "--format",
        choices=("barenet", "gradescope"),
        default="barenet",
        help="the JSON written: barenet's report (default) or Gradescope's results.json "
        "(for a class: one per submission, in its student's folder)",
    )
    parser.add_argument(
        "--csv",
        metavar="FILE",
        help="write one CSV line per submission (default for a class: grades.csv)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE.html",
        help="write the class report: one self-contained HTML page with the class's charts",
    )
    parser.add_argument(
        "--weights",
        metavar="FILE.toml",
        help="points of the test groups and tests, and of barenet's extra tests (see the README)",
    )
    parser.add_argument(
        "--test-data",
        metavar="PATH",
        help="cifar-classification: the hidden test set (an image folder, a zip of one, or "
        "an .npz with images and labels)",
    )
    parser.add_argument(
        "--pass-mark",
        metavar="F",
        type=fraction,
        default=0.48,
        help="cifar-classification: the accuracy that passes (default 0.48)",
    )
    parser.add_argument(
        "--timeout",
        metavar="S",
        type=seconds,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds of CPU time per submission, all its processes together, > 0 (the "
        f"wall clock allows 3 times as much; default {DEFAULT_TIMEOUT_S:g})",
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
        choices=(*GRADED_EXERCISES, MODEL_EXERCISE),
        default=DEFAULT_EXERCISE,
        help=f"the exercise graded (default {DEFAULT_EXERCISE}); its pickle holds one key "
        f"per function, e.g. conv_forward, conv_backward; {MODEL_EXERCISE}: a CIFAR-10 model "
        "graded on a hidden test set (--test-data)",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="grade without file-system and network isolation where no sandbox works (every "
        "report says so); without it, grade refuses to run submissions unisolated (exit 2)",
    )
    add_convention_options(parser)


def make_run_grader(args: argparse.Namespace):
    """The grader the arguments ask for.

    Raises ``ValueError`` naming a wrong setting, and ``NoIsolationError`` when no
    sandbox works here and ``--no-sandbox`` was not given (nothing has run then).
    """
    isolation = no_isolation("--no-sandbox") if args.no_sandbox else required_isolation()
    if args.exercise == MODEL_EXERCISE:
        if not args.test_data:
            raise ValueError("--exercise cifar-classification needs --test-data PATH")
        test_set = load_hidden_test_set(args.test_data)
        return ModelGrading(test_set, Limits(timeout_s=args.timeout), isolation, args.pass_mark)
    if args.test_data:
        raise ValueError("--test-data is for --exercise cifar-classification")
    weights = weights_from_toml(args.weights) if args.weights else None
    options = {"convention": args.convention, "strict": args.strict, "seed": args.seed}
    options["exercise"] = args.exercise
    return make_grader(args.timeout, isolation=isolation, weights=weights, **options)


def write_gradescope_files(reports: list, found: list[Submission], export: Path) -> None:
    """One Gradescope results.json per submission of a class, in its student's folder."""
    for report, submission in zip(reports, found, strict=True):
        path = gradescope_path(export, submission)
        write_gradescope(report, path)
        print(f"Gradescope results for {report.student} written to {path}")


def write_reports(args: argparse.Namespace, reports: list, single: bool) -> None:
    """The JSON, Gradescope, CSV and HTML files asked for."""
    if args.json and not (args.format == "gradescope" and not single):
        if args.format == "gradescope":
            write_gradescope(reports[0], args.json)
        else:
            write_json_report(reports[0] if single else reports, args.json)
        print(f"JSON report written to {args.json}")
    elif args.format == "gradescope" and single:
        write_gradescope(reports[0], "results.json")
        print("Gradescope results written to results.json")
    csv_path = args.csv or (None if single else "grades.csv")
    if csv_path:
        write_csv(reports, csv_path)
        print(f"CSV written to {csv_path} ({len(reports)} line{'s' * (len(reports) != 1)})")
    if args.report:
        title = f"barenet grade {Path(args.submission).name} ({args.exercise})"
        write_class_report([r.to_dict() for r in reports], args.report, title)
        print(f"Class report written to {args.report}")


def graded_reports(target: Path, single: bool, grader, workers: int | None):
    """``(reports, found)``: one report per submission; ``found`` for a class, else None."""
    if single:
        return [grader.grade(target)], None
    found = find_submissions(target)
    return grade_found(grader, found, workers), found


def run_grade(args: argparse.Namespace) -> int:
    """``barenet grade``: print each submission's lines and score; write the reports.

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
    if args.format == "gradescope" and args.json and not single:
        print(
            "barenet grade: --json names one file, but a class gets one results.json per "
            "submission (in its student's folder); leave --json out",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        grader = make_run_grader(args)
    except NoIsolationError as error:
        print(f"barenet grade: {error}", file=sys.stderr)
        return EXIT_USAGE
    reports, found = graded_reports(target, single, grader, args.workers or None)
    if not reports:
        print(
            f"barenet grade: no submissions in {target} (looked for .zip files in it and "
            "folders holding a .zip or models/)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for report in reports:
        print("\n".join(report.lines()))
    if args.format == "gradescope" and not single:
        write_gradescope_files(reports, found, target)
    write_reports(args, reports, single)
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
