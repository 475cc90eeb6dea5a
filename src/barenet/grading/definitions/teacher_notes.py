"""Remarks for the teacher that the learner's feedback leaves out: conventions and flags.

A diagnosis speaks to the learner about their own code. Some findings also say
something only the teacher can act on (the course version may ask for another
convention, graded with a flag); those are notes in the teacher's reports
(the printed lines, the JSON report, the class report), never in the wrappers',
``barenet check``'s or Gradescope's feedback.
"""

from __future__ import annotations

from collections.abc import Iterable

AVERAGED_UNDER_EXACT = (
    "{test}: the learner's dw and db are averaged over the batch. Some course versions "
    "ask for that; to grade that way, use --convention batch-mean."
)
NOT_AVERAGED_UNDER_BATCH_MEAN = (
    "{test}: graded with --convention batch-mean, and the learner's gradient is not "
    "averaged; a backward that does not average is right under --convention exact "
    "(the default)."
)
AVERAGED_MARK = "is exactly 1/N (N = "
NOT_AVERAGED_MARK = "this exercise asks affine_backward to return dw and db averaged"


def teacher_notes(tests: Iterable[dict]) -> list[str]:
    """The notes for a submission's failed tests (``name``, ``passed``, ``diagnosis``), each once."""
    notes = []
    for test in tests:
        diagnosis = test.get("diagnosis") or ""
        if test.get("passed") or not diagnosis:
            continue
        if (
            test["name"] in ("AffineBackwardTestDw", "AffineBackwardTestDb")
            and AVERAGED_MARK in diagnosis
        ):
            notes.append(AVERAGED_UNDER_EXACT.format(test=test["name"]))
        elif NOT_AVERAGED_MARK in diagnosis:
            notes.append(NOT_AVERAGED_UNDER_BATCH_MEAN.format(test=test["name"]))
    return list(dict.fromkeys(notes))
