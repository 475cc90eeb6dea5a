"""The unit-test harness: lines, summary, score, contained exceptions, results as data."""

import numpy as np

from barenet.grading.harness import (
    GroupResult,
    TestGroup,
    TestResult,
    UnitTest,
    Verdict,
    score_percent,
    summary_lines,
)


class TwoChecks(TestGroup):
    """A group whose second test can be made to fail or to raise."""

    def __init__(self, second):
        super().__init__("TwoChecks")
        self.second = second

    def tests(self):
        return [UnitTest("FirstTest", lambda: Verdict(True)), UnitTest("SecondTest", self.second)]


def test_passing_group_prints_lines_summary_and_score(capsys):
    score = TwoChecks(lambda: Verdict(True))()
    lines = capsys.readouterr().out.splitlines()
    assert score == 100
    assert lines == [
        "FirstTest passed.",
        "SecondTest passed.",
        "Congratulations! You have passed all the unit tests!!! Tests passed: 2/2",
        "Score: 100/100",
    ]


def test_failing_test_says_expected_and_measured(capsys):
    verdict = Verdict(False, "expected rel_error < 1e-08, measured 0.5", 0.5, "it is upside down.")
    score = TwoChecks(lambda: verdict)()
    lines = capsys.readouterr().out.splitlines()
    assert score == 50
    assert lines[1] == (
        "SecondTest failed: expected rel_error < 1e-08, measured 0.5. Likely cause: it is upside down."
    )
    assert lines[2:] == ["Some tests failed. Tests passed: 1/2", "Score: 50/100"]


def test_exception_in_a_test_is_a_failure_with_its_message(capsys):
    def computes_inputs_then_raises():
        np.zeros(3).reshape(2, 2)  # raises while "building the inputs"
        return Verdict(True)

    group = TwoChecks(computes_inputs_then_raises)
    assert group() == 50
    out = capsys.readouterr().out
    assert "SecondTest failed: raised ValueError: cannot reshape array" in out
    assert "Tests passed: 1/2" in out


def test_system_exit_in_learner_code_does_not_escape():
    def calls_exit():
        raise SystemExit(3)

    assert TwoChecks(calls_exit)(verbose=False) == 50


def test_results_are_available_as_data():
    group = TwoChecks(lambda: Verdict(False, "expected 1, measured 2", 0.25, "off by one."))
    result = group.run(verbose=False)
    assert isinstance(result, GroupResult) and group.last_result is result
    assert [(r.name, r.passed) for r in result.results] == [
        ("FirstTest", True),
        ("SecondTest", False),
    ]
    second = result.results[1]
    assert isinstance(second, TestResult)
    assert second.error == 0.25 and second.diagnosis == "off by one."
    data = result.to_dict()
    assert data["score"] == 50 and data["passed"] == 1 and data["total"] == 2
    assert data["tests"][1]["message"].startswith("SecondTest failed: expected 1, measured 2")


def test_score_is_an_integer_percentage_rounded_down():
    assert score_percent(2, 3) == 66
    assert score_percent(0, 0) == 0
    assert summary_lines(2, 3) == ["Some tests failed. Tests passed: 2/3", "Score: 66/100"]


def test_a_unit_test_prints_its_own_line(capsys):
    result = UnitTest("LonelyTest", lambda: Verdict(True))()
    assert result.passed
    assert capsys.readouterr().out == "LonelyTest passed.\n"


def test_a_huge_exception_message_is_shortened():
    def raises_long():
        raise ValueError("x" * 10_000)

    result = UnitTest("LongTest", raises_long).run()
    assert not result.passed and len(result.message) < 1000 and result.message.endswith("...")
