"""Advice the grader verifies itself, for ``--strict``: loops by timing, overflow by re-running.

Under ``--strict`` advice costs points, so it must not rest on what the child
says about itself (the Python steps it counted, the warnings it caught): a
submission could rewrite that. Instead each check runs the learner's function
again, in a fresh child on a fresh copy of the submission:

* **Per-element loops**: the function is called once on a large input, and the
  child's CPU time is measured from outside (its cgroup, or ``wait4``), minus
  that of a child that only loads the submission and makes a small call. A
  vectorised function takes milliseconds; a Python loop over four million
  elements more than a second. A sample of the returned values must be
  right.
* **Overflow**: the sigmoid is called on inputs that overflow a naive formula,
  with every floating-point warning turned into an error; a call that then fails
  (or returns wrong values) overflows.

Right values are still judged by the tests; these checks only add advice.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from barenet.grading.definitions.activation_tests import (
    EXTREMES,
    relu_reference,
    sigmoid_reference,
)
from barenet.grading.definitions.advice import OVERFLOW
from barenet.grading.definitions.affine_tests import reference_affine
from barenet.grading.sandbox.process import ChildOutcome
from barenet.grading.sandboxed.learner_calls import SAMPLE_STRIDE, Call
from barenet.grading.sandboxed.wire import WireError, decode, encode

LOOP_ELEMENTS = 4_000_000
LOOP_MIN_SECONDS = 0.5  # CPU time beyond the honest costs that a vectorised call never needs
LOOP_FACTOR = 3  # times the honest costs measured here (reference, packing the arrays)
TIMED_LOOP = (
    "{call} took {seconds:.1f} s of CPU time for {size} elements, where a vectorised "
    "version takes milliseconds: a Python loop over the elements (for, map or a "
    "comprehension). NumPy's whole-array operations (np.maximum, boolean masks, @) give "
    "the same values many times faster."
)


@dataclass(frozen=True)
class TimedCall:
    """A call on a large input, with the vectorised reference of its first output."""

    target: str
    make_args: Callable[[np.random.Generator], tuple]
    reference: Callable[..., np.ndarray]


def activation_input(rng: np.random.Generator) -> tuple:
    return (rng.standard_normal(LOOP_ELEMENTS),)


def affine_input(rng: np.random.Generator) -> tuple:
    x = rng.standard_normal((800, 500))
    return x, rng.standard_normal((500, 10)), rng.standard_normal(10)


TIMED_CALLS = (
    TimedCall("Sigmoid.forward", activation_input, sigmoid_reference),
    TimedCall("Relu.forward", activation_input, relu_reference),
    TimedCall("affine_forward", affine_input, reference_affine),
)


def first_output(outcome: ChildOutcome) -> np.ndarray | None:
    """The first array the call returned (``out`` of ``(out, cache)``), or None."""
    if outcome.timed_out or outcome.returncode != 0 or not outcome.response:
        return None
    try:
        response = decode(outcome.response)
        record = response["records"][0][0]
    except (WireError, KeyError, IndexError, TypeError):
        return None
    if not isinstance(record, dict) or record.get("error") is not None:
        return None
    result = record.get("result")
    if isinstance(result, dict) and isinstance(result.get("seq"), list) and result["seq"]:
        result = result["seq"][0]
    return result if isinstance(result, np.ndarray) else None


def right(output: np.ndarray | None, expected: np.ndarray) -> bool:
    return (
        output is not None
        and output.shape == expected.shape
        and bool(np.allclose(output, expected, rtol=1e-6, atol=1e-8))
    )


def reference_seconds(timed: TimedCall, args: tuple) -> float:
    """CPU time, here, of what an honest child does beside the learner's call: the median
    of three runs of the vectorised reference, and of packing and unpacking the
    arrays it receives and sends (the child copies each once more)."""
    times = []
    for _ in range(3):
        start = time.process_time()
        out = timed.reference(*args)
        decode(encode({"plans": [[Call(timed.target, args)]]}))
        np.asarray(out).ravel()[::SAMPLE_STRIDE].copy()
        times.append(time.process_time() - start)
    return statistics.median(times)


def verified_advice(
    run: Callable[[list[Call], str], ChildOutcome], seed: int
) -> dict[str, list[str]]:
    """Remarks by call target (``"Sigmoid.forward"``), each verified from outside the child.

    Parameters
    ----------
    run : callable
        ``run(calls, mode) -> ChildOutcome``: one fresh child on a fresh copy of
        the submission, making ``calls`` (see ``learner_calls.run_call`` for ``mode``).
    seed : int
        Seed of the large inputs.
    """
    remarks: dict[str, list[str]] = {}
    extremes = np.tile(EXTREMES, 4)
    baseline = run([Call("Sigmoid.forward", (extremes,))], "raise")
    if not right(first_output(baseline), sigmoid_reference(extremes)):
        warning = "overflow (an error when floating-point warnings are errors)"
        remarks["Sigmoid.forward"] = [OVERFLOW.format(warning=warning, call="forward")]
    rng = np.random.default_rng([seed, 21])
    for timed in TIMED_CALLS:
        args = timed.make_args(rng)
        outcome = run([Call(timed.target, args)], "plain")
        expected = np.asarray(timed.reference(*args)).ravel()[::SAMPLE_STRIDE]
        if not right(first_output(outcome), expected):
            continue  # wrong values: the tests say so; a timing would prove nothing
        extra = outcome.cpu_s - baseline.cpu_s
        if extra > LOOP_MIN_SECONDS + LOOP_FACTOR * reference_seconds(timed, args):
            size = max(a.size for a in args if isinstance(a, np.ndarray))
            call = timed.target.split(".")[-1]
            text = TIMED_LOOP.format(call=call, seconds=extra, size=size)
            remarks.setdefault(timed.target, []).append(text)
    return remarks
