"""Grading: a unit-test harness with scores, the exercise suite, packaging and grading.

* :class:`SigmoidTestWrapper`, :class:`ReluTestWrapper`, :class:`AffineTestWrapper`,
  :class:`SGDMTestWrapper` test barenet's implementation or a learner's.
* :func:`save_pickle` and :func:`submit_exercise` package a learner's work.
* :func:`grade_submission` grades a submission in a sandboxed child process.
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
