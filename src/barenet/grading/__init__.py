"""Grading: the exercise's tests with scores, packaging, and grading of submissions.

* :func:`SigmoidTestWrapper`, :func:`ReluTestWrapper`, :func:`AffineTestWrapper`,
  :func:`SGDMTestWrapper` run the course's tests on barenet's implementation or a
  learner's, print them and return the :class:`Score`; :func:`ConvTestWrapper`,
  :func:`MaxPoolTestWrapper`, :func:`BatchNormTestWrapper`,
  :func:`SpatialBatchNormTestWrapper`, :func:`LayerNormTestWrapper`,
  :func:`GroupNormTestWrapper` and :func:`DropoutTestWrapper` do the same for the
  next exercises' layers.
* :func:`check_paths` runs them all on a learner's files (``barenet check``).
* :func:`save_pickle` and :func:`submit_exercise` package a learner's work.
* :func:`grade_submission` and :func:`grade_folder` grade submissions: the
  learner's code runs in a sandboxed child, the verdicts are computed outside it.

The sub-packages follow a grade's data flow: ``definitions`` (the tests, their
diagnoses and advice), ``engine`` (spec, judge, results), ``sandboxed`` (the
code that runs beside the learner's, in this process or in the child), ``local``
(wrappers, check, packaging), ``sandbox`` (limits, bubblewrap, cleanup) and
``submissions`` (the grader and its reports). Each name below is imported on
first use, so that ``import barenet.grading.local.wrappers`` loads no sandbox,
grader or cloudpickle.
"""

from __future__ import annotations

import importlib

# Each public name and the module that defines it.
_PUBLIC = {
    "AffineTestWrapper": "barenet.grading.local.wrappers",
    "BatchNormTestWrapper": "barenet.grading.local.layer_wrappers",
    "ConvTestWrapper": "barenet.grading.local.layer_wrappers",
    "DropoutTestWrapper": "barenet.grading.local.layer_wrappers",
    "GroupNormTestWrapper": "barenet.grading.local.layer_wrappers",
    "LayerNormTestWrapper": "barenet.grading.local.layer_wrappers",
    "MaxPoolTestWrapper": "barenet.grading.local.layer_wrappers",
    "SpatialBatchNormTestWrapper": "barenet.grading.local.layer_wrappers",
    "ReluTestWrapper": "barenet.grading.local.wrappers",
    "SGDMTestWrapper": "barenet.grading.local.wrappers",
    "SigmoidTestWrapper": "barenet.grading.local.wrappers",
    "check_file": "barenet.grading.local.check",
    "check_paths": "barenet.grading.local.check",
    "run_exercise_suite": "barenet.grading.local.in_process",
    "save_pickle": "barenet.grading.local.packaging",
    "submit_exercise": "barenet.grading.local.packaging",
    "GroupResult": "barenet.grading.engine.results",
    "Score": "barenet.grading.engine.results",
    "SuiteResult": "barenet.grading.engine.results",
    "TestResult": "barenet.grading.engine.results",
    "Verdict": "barenet.grading.engine.results",
    "Limits": "barenet.grading.sandbox.limits",
    "detect_isolation": "barenet.grading.sandbox.isolation",
    "GradeReport": "barenet.grading.submissions.report",
    "grade_folder": "barenet.grading.submissions.grader",
    "grade_submission": "barenet.grading.submissions.grader",
    "UnsafeArchiveError": "barenet.archives",
    "safe_extract": "barenet.archives",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'barenet.grading' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
