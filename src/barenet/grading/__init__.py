"""Grading: the exercise's tests with scores, packaging, and grading of submissions.

* :func:`SigmoidTestWrapper`, :func:`ReluTestWrapper`, :func:`AffineTestWrapper`,
  :func:`SGDMTestWrapper` run the course's tests on barenet's implementation or a
  learner's, print them and return the :class:`Score`.
* :func:`check_paths` runs them all on a learner's files (``barenet check``).
* :func:`save_pickle` and :func:`submit_exercise` package a learner's work.
* :func:`grade_submission` and :func:`grade_folder` grade submissions: the
  learner's code runs in a sandboxed child, the verdicts are computed outside it.
"""

from barenet.grading.check import check_file, check_paths
from barenet.grading.grader import GradeReport, grade_folder, grade_submission
from barenet.grading.harness import GroupResult, Score, TestResult, Verdict
from barenet.grading.safe_zip import UnsafeArchiveError, safe_extract
from barenet.grading.sandbox import Limits, detect_isolation
from barenet.grading.submission import save_pickle, submit_exercise
from barenet.grading.suite import SuiteResult, run_exercise_suite
from barenet.grading.wrappers import (
    AffineTestWrapper,
    ReluTestWrapper,
    SGDMTestWrapper,
    SigmoidTestWrapper,
)

__all__ = [
    "AffineTestWrapper",
    "GradeReport",
    "GroupResult",
    "Limits",
    "ReluTestWrapper",
    "SGDMTestWrapper",
    "SigmoidTestWrapper",
    "SuiteResult",
    "Score",
    "TestResult",
    "UnsafeArchiveError",
    "Verdict",
    "check_file",
    "check_paths",
    "detect_isolation",
    "grade_folder",
    "grade_submission",
    "run_exercise_suite",
    "safe_extract",
    "save_pickle",
    "submit_exercise",
]
