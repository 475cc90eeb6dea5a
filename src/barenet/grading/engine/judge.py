"""Judging: from the records of a test's calls to its result, in one place.

Whoever made the calls (this process, or the grader's sandboxed child), the
records go through :func:`conclude`: an exception in the learner's code fails
the test with its message (and a diagnosis when the test recognises it), then
the test's own judge compares the returned values, then the advice is added
(and, graded strictly, fails the test).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from barenet.grading.definitions.advice import advice_for
from barenet.grading.engine.results import (
    GroupResult,
    SuiteResult,
    TestResult,
    Verdict,
    failure_message,
    shorten,
)
from barenet.grading.engine.spec import Probe, TestSpec, build_probes
from barenet.grading.sandboxed.exercise_names import DEFAULT_EXERCISE, GRADED_EXERCISES, key_for
from barenet.grading.sandboxed.learner_calls import Call


def exception_line(spec: TestSpec, call: Call, error: dict) -> tuple[str, str | None]:
    """The detail and diagnosis of a test whose call raised."""
    kind, text = error.get("type", "Exception"), shorten(error.get("message", ""))
    target = "SGDMomentum._update" if call.target == "SGDMomentum" else call.target
    if kind == "NotImplementedError":
        return f"{target} is not implemented yet", None
    if kind == "MissingImplementationError":
        return text, None
    diagnosis = None
    if spec.explain_exception is not None:
        try:
            diagnosis = spec.explain_exception(error)
        except Exception:  # a diagnosis must never break the report
            diagnosis = None
    return f"{target} raised {kind}: {text}", diagnosis


def verified_remarks(calls: Sequence[Call], verified: Mapping[str, Sequence[str]]) -> list[str]:
    """The remarks verified by the grader for the calls of this test that advice watches."""
    return [text for call in calls if call.names for text in verified.get(call.target, ())]


def conclude(
    spec: TestSpec,
    probe: Probe,
    records: list[dict],
    strict: bool,
    verified: Mapping[str, Sequence[str]] | None = None,
) -> TestResult:
    """Judge one test's records; an exception in the learner's code fails the test.

    Parameters
    ----------
    spec : TestSpec
    probe : Probe
    records : list of dict
        One per call made (fewer than the calls when one raised).
    strict : bool
        Advice fails the test too.
    verified : mapping of call target -> remarks, optional
        Advice the grader verified itself (see ``submissions.strict_checks``).
    """
    remarks = advice_for(probe.calls, records) + verified_remarks(probe.calls, verified or {})
    advice = tuple(dict.fromkeys(remarks))
    for call, record in zip(probe.calls, records, strict=False):
        if record.get("error") is not None:
            detail, diagnosis = exception_line(spec, call, record["error"])
            message = failure_message(spec.name, detail, diagnosis)
            return TestResult(spec.name, False, message, None, diagnosis, advice)
    if len(records) < len(probe.calls):
        message = failure_message(spec.name, "the calls did not all run")
        return TestResult(spec.name, False, message, None, None, advice)
    try:
        verdict = spec.judge(probe, records)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
        # Records of an unexpected form (e.g. a forward that returns one value).
        verdict = Verdict(False, f"the returned values have an unexpected form ({exc})")
    if not verdict.passed:
        message = failure_message(spec.name, verdict.detail, verdict.diagnosis)
        return TestResult(spec.name, False, message, verdict.error, verdict.diagnosis, advice)
    if strict and advice:
        message = failure_message(spec.name, "graded strictly, and " + advice[0])
        return TestResult(spec.name, False, message, verdict.error, None, advice)
    return TestResult(spec.name, True, f"{spec.name} passed.", verdict.error, None, advice)


def judge_all(
    name: str,
    specs: Sequence[TestSpec],
    probes: Sequence[Probe],
    records: Sequence[list[dict]],
    strict: bool,
    verified: Mapping[str, Sequence[str]] | None = None,
) -> GroupResult:
    """The group's results from each test's records (and the grader's verified advice)."""
    results = tuple(
        conclude(spec, probe, plan_records, strict, verified)
        for spec, probe, plan_records in zip(specs, probes, records, strict=True)
    )
    return GroupResult(name, results)


def missing_exercises(source: object, exercise: str = DEFAULT_EXERCISE) -> list[str]:
    """The parts of ``exercise`` that ``source`` (a module or mapping) does not provide."""
    return [part for part in GRADED_EXERCISES[exercise] if key_for(source, part) is None]


def judge_suite(
    groups: Sequence[tuple[str, Sequence[TestSpec]]],
    records: Sequence[list[dict]],
    strict: bool,
    seed: int,
    found: Mapping[str, object] | Sequence[str],
    exercise: str = DEFAULT_EXERCISE,
    verified: Mapping[str, Sequence[str]] | None = None,
) -> SuiteResult:
    """The suite's result from the records of every test's calls, made elsewhere.

    Parameters
    ----------
    groups : sequence of (group name, specs)
        The suite's groups (see ``barenet.grading.definitions.suite.suite_groups``).
    records : sequence of list of dict
        One list per test, in the order of ``groups``.
    strict : bool
    seed : int
        The seed the calls' inputs were drawn from.
    found : mapping or sequence of str
        The names the submission defines.
    exercise : str
        The exercise graded (its parts are the names that may be missing).
    """
    results, start = [], 0
    for name, specs in groups:
        probes = build_probes(specs, seed)
        chunk = records[start : start + len(specs)]
        results.append(judge_all(name, specs, probes, chunk, strict, verified))
        start += len(specs)
    keys = dict.fromkeys(found)
    missing = missing_exercises(keys, exercise)
    return SuiteResult(
        tuple(results), tuple(missing), tuple(sorted(keys)) if missing else (), seed=seed
    )
