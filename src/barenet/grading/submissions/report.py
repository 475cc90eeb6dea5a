"""The grade of one submission, as data: its status, score, tests and settings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from barenet.grading.engine.results import ADVICE_PREFIX, summary_lines
from barenet.grading.submissions.text import clean_text

STATUSES = ("graded", "timeout", "crashed", "invalid-submission", "grader-error")


@dataclass
class GradeReport:
    """The grade of one submission.

    Attributes
    ----------
    submission : str
        The zip's or folder's name.
    student : str
        Who handed it in, from the export's folder or zip name (empty for one submission).
    status : {"graded", "timeout", "crashed", "invalid-submission", "grader-error"}
        Whether the tests ran; only ``graded`` reports carry test results.
    score : float
        0-100, rounded half up to hundredths (see :mod:`barenet.grading.classroom.scoring`);
        0 unless graded.
    tests : list of dict
        Per test: ``name``, ``passed``, ``message``, ``advice``, ``error``, ``diagnosis``,
        ``points`` and ``max_points``.
    reason : str or None
        Why the score is 0 or partial (timeout, crash, unsafe zip, missing names).
    sandbox : str
        The isolation and limits that were in force, in words.
    isolation : str
        ``"bubblewrap"`` or ``"none"``.
    seed, convention, strict
        The settings of the grade; the seed repeats the same inputs.
    exercise : str
        The exercise graded (``neural-networks``, ``batchnorm-dropout``, ``convnet``).
    teacher_notes : list of str
        Remarks for the teacher only (a convention, a flag); never in the learner's feedback.
    """

    submission: str
    status: str
    score: float = 0
    tests: list[dict] = field(default_factory=list)
    reason: str | None = None
    sandbox: str = ""
    isolation: str = "none"
    seed: int = 0
    convention: str = "exact"
    strict: bool = False
    exercise: str = "neural-networks"
    student: str = ""
    teacher_notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(bool(t["passed"]) for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.tests)

    def lines(self) -> list[str]:
        """What ``barenet grade`` prints for this submission, free of control characters."""
        head = f"Grading {self.submission}" + (f" ({self.student})" if self.student else "")
        lines = [head, f"Status: {self.status}", f"Sandbox: {self.sandbox}"]
        if self.reason:
            lines.append(f"Reason: {self.reason}")
        for test in self.tests:
            lines.append(test["message"])
            lines += [ADVICE_PREFIX + advice for advice in test.get("advice", [])]
        if self.tests:
            lines.append(summary_lines(self.passed, self.total)[0])
        lines += [f"Note for the teacher: {note}" for note in self.teacher_notes]
        lines.append(f"Score: {self.score:g}/100")
        return [clean_text(line) for line in lines]

    def to_dict(self) -> dict:
        """The JSON record: settings, status, score, counts and the per-test details."""
        from barenet import __version__

        return {
            "submission": self.submission,
            "student": self.student,
            "status": self.status,
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "reason": self.reason,
            "tests": self.tests,
            "sandbox": self.sandbox,
            "isolation": self.isolation,
            "seed": self.seed,
            "convention": self.convention,
            "strict": self.strict,
            "exercise": self.exercise,
            "teacher_notes": self.teacher_notes,
            "barenet_version": __version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
