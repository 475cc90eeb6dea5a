"""A small unit-test harness that prints one line per test and a score.

A :class:`UnitTest` runs a *body* (a function of no arguments that computes its
inputs, calls the implementation under test and returns a :class:`Verdict`) and
turns it into a :class:`TestResult`. Whatever the body raises -- while building
its inputs or inside the learner's code -- becomes a failed result carrying the
exception's message; it never escapes. A :class:`TestGroup` runs its tests, prints
their lines, then a summary and ``Score: <0-100>/100``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

MAX_MESSAGE_CHARS = 600  # a learner's exception message can be huge (e.g. a printed array)


@dataclass(frozen=True)
class Verdict:
    """What a test body measured.

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
    """

    __test__ = False  # not a pytest test class

    name: str
    passed: bool
    message: str
    error: float | None = None
    diagnosis: str | None = None

    def to_dict(self) -> dict:
        """The result as a JSON-ready dict."""
        return asdict(self)


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


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 5] + " ..."


def failure_message(name: str, verdict: Verdict) -> str:
    """The printed line of a failed test: what was expected, what was measured, why."""
    message = f"{name} failed: {verdict.detail}" if verdict.detail else f"{name} failed."
    if verdict.diagnosis:
        message += f". Likely cause: {verdict.diagnosis}"
    return message


class UnitTest:
    """One named check.

    Parameters
    ----------
    name : str
        Printed as ``<name> passed.`` or ``<name> failed: ...``.
    body : callable
        ``body() -> Verdict``. It builds its own (seeded) inputs, so that an
        exception while building them is reported like any other failure.
    explain_exception : callable, optional
        ``explain_exception(exc) -> str | None``: a diagnosis for an exception
        the body raised (e.g. a shape mismatch that points at a transposed ``w``).
    """

    __test__ = False

    def __init__(
        self,
        name: str,
        body: Callable[[], Verdict],
        explain_exception: Callable[[BaseException], str | None] | None = None,
    ):
        self.name = name
        self.body = body
        self.explain_exception = explain_exception

    def run(self) -> TestResult:
        """Run the body; return its result without printing."""
        try:
            # Record warnings so that a learner's RuntimeWarnings do not flood the
            # output; the bodies that care about warnings check them themselves.
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                verdict = self.body()
        except (Exception, SystemExit) as exc:  # SystemExit: a stray exit() in learner code
            return self._exception_result(exc)
        if verdict.passed:
            return TestResult(self.name, True, f"{self.name} passed.", verdict.error)
        return TestResult(
            self.name,
            False,
            shorten(failure_message(self.name, verdict), 2 * MAX_MESSAGE_CHARS),
            verdict.error,
            verdict.diagnosis,
        )

    def _exception_result(self, exc: BaseException) -> TestResult:
        diagnosis = None
        if self.explain_exception is not None:
            try:
                diagnosis = self.explain_exception(exc)
            except Exception:  # a diagnosis must never break the report
                diagnosis = None
        detail = f"raised {type(exc).__name__}: {shorten(exc)}"
        verdict = Verdict(False, detail, None, diagnosis)
        return TestResult(self.name, False, failure_message(self.name, verdict), None, diagnosis)

    def __call__(self, verbose: bool = True) -> TestResult:
        """Run the test and print its line when ``verbose``."""
        result = self.run()
        if verbose:
            print(result.message)
        return result


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
        """Every line the group prints: one per test, then the summary."""
        return [r.message for r in self.results] + summary_lines(self.passed, self.total)

    def to_dict(self) -> dict:
        """A JSON-ready dict: name, score, passed, total and the tests."""
        return {
            "name": self.name,
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "tests": [r.to_dict() for r in self.results],
        }


class TestGroup:
    """A named list of unit tests with a score; subclasses implement :meth:`tests`.

    Calling a group runs it, prints its lines and returns the score (0-100); the
    results stay available as data in :attr:`last_result`.
    """

    __test__ = False

    def __init__(self, name: str | None = None):
        self.name = name or type(self).__name__
        self.last_result: GroupResult | None = None

    def tests(self) -> Sequence[UnitTest]:
        """The unit tests of this group, in the order they run and print."""
        raise NotImplementedError

    def run(self, verbose: bool = True) -> GroupResult:
        """Run every test; print the lines and the summary when ``verbose``."""
        results = tuple(test(verbose) for test in self.tests())
        group = GroupResult(self.name, results)
        if verbose:
            for line in summary_lines(group.passed, group.total):
                print(line)
        self.last_result = group
        return group

    def __call__(self, verbose: bool = True) -> int:
        """Run the group and return its score, an integer percentage."""
        return self.run(verbose).score
