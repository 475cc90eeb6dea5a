"""Test results as data, and the lines and score a group of tests prints.

A test's outcome is a :class:`TestResult`; a group's, a :class:`GroupResult`;
the whole exercise's, a :class:`SuiteResult`. A group
which prints one line per test (with its advice lines under it), then
``Tests passed: p/t`` and ``Score: s/100``. A wrapper returns a :class:`Score`:
an ``int`` that prints as ``You secured a score of: s``, as the course's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

MAX_MESSAGE_CHARS = 600  # a learner's exception message can be huge (e.g. a printed array)
ADVICE_PREFIX = "  advice: "


@dataclass(frozen=True)
class Verdict:
    """What a test measured.

    Attributes
    ----------
    passed : bool
    detail : str
        For a failure, what was expected and what was measured, in words.
    error : float or None
        The measured error (usually ``rel_error``), when the test has one.
    diagnosis : str or None
        The likely cause of a failure, in plain words, when it was recognised.
    """

    passed: bool
    detail: str = ""
    error: float | None = None
    diagnosis: str | None = None


@dataclass(frozen=True)
class TestResult:
    """The outcome of one unit test, as data.

    Attributes
    ----------
    name : str
    passed : bool
    message : str
        The line printed for this test, e.g. ``"SigmoidForwardTest passed."``.
    error : float or None
        The measured error, when the test has one.
    diagnosis : str or None
        The recognised cause of a failure, if any.
    advice : tuple of str
        Remarks that cost no points (unless graded strictly): an overflow
        warning, an argument modified in place, a Python loop over elements.
    """

    __test__ = False  # not a pytest test class

    name: str
    passed: bool
    message: str
    error: float | None = None
    diagnosis: str | None = None
    advice: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """The test's line, then one ``  advice: ...`` line per remark."""
        return [self.message] + [ADVICE_PREFIX + text for text in self.advice]

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict."""
        data = asdict(self)
        data["advice"] = list(self.advice)
        return data


def score_percent(passed: int, total: int) -> int:
    """Integer percentage of tests passed, rounded down so that 100 means all passed."""
    return 0 if total <= 0 else (100 * passed) // total


def summary_lines(passed: int, total: int) -> list[str]:
    """The two closing lines of a group: the count and the score."""
    if total > 0 and passed == total:
        head = (
            f"Congratulations! You have passed all the unit tests!!! Tests passed: {passed}/{total}"
        )
    else:
        head = f"Some tests failed. Tests passed: {passed}/{total}"
    return [head, f"Score: {score_percent(passed, total)}/100"]


def shorten(text: object, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 5] + " ..."


def failure_message(name: str, detail: str, diagnosis: str | None = None) -> str:
    """The printed line of a failed test: what was expected, what was measured, why."""
    message = f"{name} failed: {detail}" if detail else f"{name} failed."
    if diagnosis:
        message += f". Likely cause: {diagnosis}"
    return shorten(message, 2 * MAX_MESSAGE_CHARS)


class Counted:
    """Counts and score of anything with a sequence of TestResult in ``results``."""

    results: Sequence[TestResult]

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def score(self) -> int:
        return score_percent(self.passed, self.total)


@dataclass(frozen=True)
class GroupResult(Counted):
    """The results of a group of tests, as data.

    Attributes
    ----------
    name : str
    results : tuple of TestResult
    """

    __test__ = False

    name: str
    results: tuple[TestResult, ...]

    def lines(self) -> list[str]:
        """Every line the group prints: each test with its advice, then the summary."""
        lines = [line for result in self.results for line in result.lines()]
        return lines + summary_lines(self.passed, self.total)

    def to_dict(self) -> dict:
        """A JSON-ready dict: name, score, passed, total and the tests."""
        return {
            "name": self.name,
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "tests": [r.to_dict() for r in self.results],
        }


class Score(int):
    """A group's score (0-100) that prints the way the course's wrappers do.

    ``str(score)`` is ``"You secured a score of: 100"``; it compares and computes
    as the plain integer. ``result`` holds the :class:`GroupResult`.
    """

    result: GroupResult

    def __new__(cls, result: GroupResult) -> Score:
        score = super().__new__(cls, result.score)
        score.result = result
        return score

    def __str__(self) -> str:
        return f"You secured a score of: {int(self)}"

    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class SuiteResult(Counted):
    """The results of every exercise's tests, as data.

    Attributes
    ----------
    groups : tuple of GroupResult
        One per wrapper, in the order Sigmoid, Relu, affine, SGD+momentum.
    missing : tuple of str
        Exercises the module or submission does not define.
    found : tuple of str
        The names it does define (so that a missing name can be told from a typo).
    notes : tuple of str
        Remarks on what was found.
    seed : int
        The seed of the test inputs.
    """

    groups: tuple[GroupResult, ...]
    missing: tuple[str, ...] = ()
    found: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seed: int = 0

    @property
    def results(self) -> list[TestResult]:
        return [result for group in self.groups for result in group.results]

    @property
    def score(self) -> float:
        """0-100 as ``barenet grade`` computes it: each group its share, rounded to hundredths."""
        from barenet.grading.classroom.scoring import as_points, points

        groups = [(g.name, [r.name for r in g.results]) for g in self.groups]
        return as_points(points(groups, {r.name for r in self.results if r.passed}).score)

    def head_lines(self) -> list[str]:
        """The lines before the tests: what is missing (with what was found), the notes."""
        lines = []
        if self.missing:
            lines.append(
                f"Missing: {', '.join(self.missing)} (their tests count as failed); "
                f"found: {', '.join(self.found) or 'nothing'}"
            )
        return lines + [f"Note: {note}" for note in self.notes]

    def lines(self) -> list[str]:
        """What the suite prints: missing names, notes, each test with advice, summary, score."""
        tests = [line for result in self.results for line in result.lines()]
        count = summary_lines(self.passed, self.total)[0]
        return self.head_lines() + tests + [count, f"Score: {self.score:g}/100"]

    def to_dict(self) -> dict:
        """A JSON-ready dict: score, counts, tests, missing, found, notes, seed."""
        return {
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "tests": [r.to_dict() for r in self.results],
            "missing": list(self.missing),
            "found": list(self.found),
            "notes": list(self.notes),
            "seed": self.seed,
        }
