"""Grading a whole class: every submission of an export, each row named by its student.

Works with any grader that has ``grade(path) -> report`` and ``report(name,
status, reason) -> report`` (the first exercise's and the model exercise's);
submissions are graded a few at a time on threads, each of which waits on its
own sandboxed child. A student folder without a submission, or with several,
becomes an ``invalid-submission`` row that says why.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from barenet.grading.classroom.discovery import Submission, find_submissions
from barenet.grading.submissions.text import clean_text


def grade_one(grader, submission: Submission):
    """The report of one found submission, with its ``student`` filled in."""
    if submission.problem:
        report = grader.report(submission.path.name, "invalid-submission", submission.problem)
    else:
        report = grader.grade(submission.path)
    report.student = clean_text(submission.student)
    return report


def grade_found(grader, found: list[Submission], workers: int | None = None) -> list:
    """Grade ``found`` in order, up to ``workers`` at a time (default: one per core)."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(found) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda submission: grade_one(grader, submission), found))


def grade_class(export: str | os.PathLike, grader, workers: int | None = None) -> list:
    """Every submission in the export folder (see :mod:`.discovery`), one report each."""
    return grade_found(grader, find_submissions(Path(export)), workers)


def gradescope_path(export: Path, submission: Submission) -> Path:
    """Where a submission's ``results.json`` goes: in its student's folder, or beside its zip.

    A zip directly in the export folder gets ``<zip name without .zip>.results.json``.
    """
    relative = submission.path.relative_to(export)
    if len(relative.parts) == 1 and not submission.path.is_dir():
        return submission.path.with_name(submission.path.stem + ".results.json")
    return export / relative.parts[0] / "results.json"
