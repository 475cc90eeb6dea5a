"""The test harness: one spec, lines, summary, score, contained exceptions, results as data."""

import subprocess
import sys

import numpy as np

from barenet.grading.engine.results import (
    GroupResult,
    Score,
    TestResult,
    Verdict,
    score_percent,
    summary_lines,
)
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.local.in_process import run_in_process
from barenet.grading.sandboxed.learner_calls import Call


def doubling_spec(name, verdict_of=None):
    """Calls affine_forward(x) and passes when it returns 2 * x."""

    def build(rng):
        x = rng.standard_normal(4)
        return Probe([Call("affine_forward", (x,), names=("x",))], {"x": x})

    def judge(probe, records):
        if verdict_of is not None:
            return verdict_of(records)
        return Verdict(bool(np.allclose(records[0]["result"], 2 * probe.context["x"])))

    return TestSpec(name, "affine_forward", build, judge)


def run(function, *specs, strict=False):
    return run_in_process("Group", specs, {"affine_forward": function}, seed=0, strict=strict)


def test_passing_group_lines_summary_and_score():
    result = run(lambda x: 2 * x, doubling_spec("FirstTest"), doubling_spec("SecondTest"))
    assert result.score == 100
    assert result.lines() == [
        "FirstTest passed.",
        "SecondTest passed.",
        "Congratulations! You have passed all the unit tests!!! Tests passed: 2/2",
        "Score: 100/100",
    ]


def test_failing_test_says_expected_and_measured():
    verdict = Verdict(False, "expected rel_error < 1e-08, measured 0.5", 0.5, "it is upside down.")
    result = run(
        lambda x: 2 * x, doubling_spec("FirstTest"), doubling_spec("SecondTest", lambda r: verdict)
    )
    assert result.score == 50
    assert result.lines()[1] == (
        "SecondTest failed: expected rel_error < 1e-08, measured 0.5. Likely cause: it is upside down."
    )
    assert result.lines()[2:] == ["Some tests failed. Tests passed: 1/2", "Score: 50/100"]


def test_exception_in_learner_code_is_a_failure_with_its_message():
    result = run(lambda x: x.reshape(3, 3), doubling_spec("OnlyTest"))
    assert result.score == 0
    assert result.results[0].message.startswith(
        "OnlyTest failed: affine_forward raised ValueError: cannot reshape array"
    )


def test_system_exit_in_learner_code_does_not_escape():
    def calls_exit(x):
        raise SystemExit(3)

    assert run(calls_exit, doubling_spec("OnlyTest")).score == 0


def test_writing_into_an_argument_is_advice_not_a_failure():
    def doubles_in_place(x):
        x *= 2
        return x

    result = run(doubles_in_place, doubling_spec("OnlyTest"))
    assert result.score == 100
    assert (
        result.results[0].advice == (result.results[0].advice[0],)
        and "x modified in place by affine_forward" in result.results[0].advice[0]
    )
    assert result.lines()[1].startswith("  advice: x modified in place")
    strict = run(doubles_in_place, doubling_spec("OnlyTest"), strict=True)
    assert strict.score == 0 and "graded strictly" in strict.results[0].message


def test_results_are_available_as_data():
    verdict = Verdict(False, "expected 1, measured 2", 0.25, "off by one.")
    result = run(
        lambda x: 2 * x, doubling_spec("FirstTest"), doubling_spec("SecondTest", lambda r: verdict)
    )
    assert isinstance(result, GroupResult)
    second = result.results[1]
    assert isinstance(second, TestResult)
    assert second.error == 0.25 and second.diagnosis == "off by one."
    data = result.to_dict()
    assert data["score"] == 50 and data["passed"] == 1 and data["total"] == 2
    assert data["tests"][1]["message"].startswith("SecondTest failed: expected 1, measured 2")
    assert data["tests"][1]["advice"] == []


def test_a_score_prints_as_the_course_does():
    score = Score(run(lambda x: 2 * x, doubling_spec("OnlyTest")))
    assert score == 100 and score + 1 == 101
    assert str(score) == "You secured a score of: 100"


def test_score_is_an_integer_percentage_rounded_down():
    assert score_percent(2, 3) == 66
    assert score_percent(0, 0) == 0
    assert summary_lines(2, 3) == ["Some tests failed. Tests passed: 2/3", "Score: 66/100"]


def test_a_huge_exception_message_is_shortened():
    def raises_long(x):
        raise ValueError("x" * 10_000)

    result = run(raises_long, doubling_spec("LongTest"))
    message = result.results[0].message
    assert not result.results[0].passed and len(message) < 1300 and message.endswith("...")


def test_the_wrappers_load_no_sandbox_grader_or_cloudpickle():
    code = (
        "import sys, barenet.grading.local.wrappers as w; "
        "assert w.SigmoidTestWrapper(verbose=False) == 100; "
        "print(sorted(m for m in sys.modules if m.startswith(("
        "'barenet.grading.sandbox.', 'barenet.grading.submissions', 'cloudpickle'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
