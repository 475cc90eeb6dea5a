"""One definition per test, whatever runs the learner's code.

A :class:`TestSpec` builds a :class:`Probe` from a random generator (the calls
to make, and on the grader's side only, what the judge needs to know) and
judges the records those calls produced. Where the calls run does not matter:
:func:`run_in_process` runs them here (the test wrappers, ``barenet check``);
the grader sends the same calls to a sandboxed child and judges the records
that come back (:mod:`barenet.grading.grader`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from barenet.grading.advice import advice_for
from barenet.grading.harness import GroupResult, TestResult, Verdict, failure_message, shorten
from barenet.grading.sandboxed.learner_calls import Call, run_plans

CONVENTIONS = ("exact", "batch-mean")


@dataclass(frozen=True)
class Probe:
    """The calls of one test and, kept by the judge, the inputs and expected values.

    Attributes
    ----------
    calls : list of Call
    context : dict
        Anything the judge needs (inputs, reference values); never sent to the child.
    """

    calls: list[Call]
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TestSpec:
    """A named test.

    Attributes
    ----------
    name : str
        The course's name where the course has the test (``SigmoidForwardTest``).
    exercise : str
        The exercise it tests: ``Sigmoid``, ``Relu``, ``affine_forward`` /
        ``affine_backward`` or ``SGDMomentum``.
    build : callable
        ``build(rng) -> Probe``, with ``rng`` a ``numpy.random.Generator``.
    judge : callable
        ``judge(probe, records) -> Verdict``; called only when no call raised.
    explain_exception : callable, optional
        ``explain_exception(error) -> str | None`` for ``error = {"type", "message"}``.
    """

    __test__ = False

    name: str
    exercise: str
    build: Callable[[np.random.Generator], Probe]
    judge: Callable[[Probe, list[dict]], Verdict]
    explain_exception: Callable[[dict], str | None] | None = None


def fresh_seed() -> int:
    """A new seed from the operating system's entropy (recorded with a grade)."""
    return int(np.random.SeedSequence().entropy % 2**63)


def build_probes(specs: Sequence[TestSpec], seed: int) -> list[Probe]:
    """Each spec's probe, from a generator seeded by ``seed`` and the test's name."""
    return [
        spec.build(np.random.default_rng([seed, zlib.crc32(spec.name.encode())])) for spec in specs
    ]


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


def conclude(spec: TestSpec, probe: Probe, records: list[dict], strict: bool) -> TestResult:
    """Judge one test's records; an exception in the learner's code fails the test.

    Parameters
    ----------
    spec : TestSpec
    probe : Probe
    records : list of dict
        One per call made (fewer than the calls when one raised).
    strict : bool
        Advice fails the test too.
    """
    advice = tuple(advice_for(probe.calls, records))
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
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
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
) -> GroupResult:
    """The group's results from each test's records."""
    results = tuple(
        conclude(spec, probe, plan_records, strict)
        for spec, probe, plan_records in zip(specs, probes, records, strict=True)
    )
    return GroupResult(name, results)


def run_in_process(
    name: str,
    specs: Sequence[TestSpec],
    implementations: Mapping[str, object],
    seed: int,
    strict: bool = False,
) -> GroupResult:
    """Run the learner's callables here, in this process, and judge them.

    Parameters
    ----------
    name : str
        The group's name.
    specs : sequence of TestSpec
    implementations : mapping of exercise -> object
        A source (module or mapping) or the object itself, per exercise.
    seed : int
    strict : bool
    """
    probes = build_probes(specs, seed)
    records = run_plans([probe.calls for probe in probes], implementations)
    return judge_all(name, specs, probes, records, strict)


def check_convention(convention: str) -> str:
    """``convention`` itself, or ``ValueError`` naming the argument and the choices."""
    if convention not in CONVENTIONS:
        raise ValueError(
            f"convention must be one of {', '.join(map(repr, CONVENTIONS))}, got {convention!r}"
        )
    return convention
