"""Grade reports as a teacher's tools take them: JSON, CSV, Gradescope's results.json.

The reports' text was cleaned when they were made (see :mod:`.text`). CSV cells that a spreadsheet would read as a formula (starting
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are escaped with a
leading apostrophe.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path

from barenet.grading.submissions.report import GradeReport
from barenet.io import atomic_write, write_text_atomically

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = [
    "student",
    "submission",
    "status",
    "score",
    "passed",
    "total",
    "failed_tests",
    "advice",
    "reason",
    "isolation",
]


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: formula-like strings get a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(report: GradeReport) -> list[object]:
    """One submission's CSV row, in :data:`CSV_COLUMNS` order."""
    graded = report.status == "graded"
    failed = [t["name"] for t in report.tests if not t["passed"]]
    advice = [f"{t['name']}: {a}" for t in report.tests for a in t.get("advice", [])]
    row = [
        report.student,
        report.submission,
        report.status,
        f"{float(report.score):g}",  # rounded to hundredths when graded: 41.67, 87.5, 100
        report.passed if graded else "",
        report.total if graded else "",
        ";".join(failed),
        " | ".join(a[:300] for a in advice),
        report.reason or "",
        report.isolation,
    ]
    return [csv_cell(value) for value in row]


def write_csv(reports: Sequence[GradeReport], path: str | os.PathLike) -> None:
    """One row per submission; see :data:`CSV_COLUMNS`."""
    with atomic_write(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for report in reports:
            writer.writerow(csv_row(report))


def write_json_report(
    reports: GradeReport | Sequence[GradeReport], path: str | os.PathLike
) -> None:
    """Write one report as an object, several as ``{"submissions": [...]}``."""
    if isinstance(reports, Sequence):
        data = {"submissions": [r.to_dict() for r in reports]}
    else:
        data = reports.to_dict()
    write_text_atomically(path, json.dumps(data, indent=2) + "\n")


def gradescope_results(report: GradeReport) -> dict:
    """Gradescope's ``results.json`` for one submission.

    Top level: ``score`` (the points, out of 100), ``output`` (the summary, which the
    student sees: status, reason and sandbox, never the seed), ``extra_data`` (the
    seed, for the teacher), and ``tests``, each with ``name``, ``score``,
    ``max_score``, ``status`` and ``output`` (the test's line and its advice). The
    tests' ``score`` add up to the top-level score exactly, their ``max_score`` to
    100 (see :mod:`barenet.grading.classroom.scoring`). This is the learner's
    feedback: the teacher's notes are not in it.
    """
    tests = []
    for test in report.tests:
        output = "\n".join([test["message"], *("advice: " + a for a in test.get("advice", []))])
        tests.append(
            {
                "name": test["name"],
                "score": test.get("points", 0.0),
                "max_score": test.get("max_points", 0.0),
                "status": "passed" if test["passed"] else "failed",
                "output": output,
            }
        )
    summary = [f"Status: {report.status}"] + ([f"Reason: {report.reason}"] if report.reason else [])
    summary.append(f"Sandbox: {report.sandbox}")
    return {
        "score": float(report.score),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        # Stored by Gradescope, not shown to the student: a fixed seed shown to one
        # student would reveal the inputs of every submission graded with it.
        "extra_data": {"seed": report.seed, "isolation": report.isolation},
        "tests": tests,
    }


def write_gradescope(report: GradeReport, path: str | os.PathLike) -> None:
    """Write :func:`gradescope_results` to ``path`` (Gradescope reads ``/autograder/results/results.json``)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(gradescope_results(report), indent=2) + "\n")
