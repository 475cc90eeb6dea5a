"""Unit tests of the Sigmoid and ReLU layers.

Inputs are fresh for every run (drawn from the generator the tests are given):
a batch of random shape with exact zeros and, for the sigmoid, |x| up to 1000.
Forward passes are compared with the closed form; backward passes with the
numerical gradient of the closed form, in float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from barenet.gradcheck import eval_numerical_gradient_array
from barenet.grading.definitions import diagnoses
from barenet.grading.engine.records import as_array, compare, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.sandboxed.learner_calls import Call, Ref

ACTIVATION_TOLERANCE = 1e-8
EXTREMES = np.array([-1000.0, -745.0, -40.0, 0.0, 40.0, 745.0, 1000.0])


def sigmoid_reference(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow, any shape."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def relu_reference(x: np.ndarray) -> np.ndarray:
    """``max(0, x)``."""
    return np.maximum(x, 0.0)


def sigmoid_local_grad(x: np.ndarray) -> np.ndarray:
    """``s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = sigmoid_reference(x)
    return s * (1.0 - s)


def relu_local_grad(x: np.ndarray) -> np.ndarray:
    """1 where ``x > 0``, else 0 (also at exactly 0)."""
    return (x > 0).astype(np.float64)


def batch_shape(rng: np.random.Generator) -> tuple[int, int]:
    """A small (N, D), at least 12 elements."""
    return int(rng.integers(3, 9)), int(rng.integers(4, 10))


def forward_input(rng: np.random.Generator, extremes: bool) -> np.ndarray:
    """x (N, D), float64, with exact zeros and, when asked, |x| up to 1000."""
    x = rng.standard_normal(batch_shape(rng)) * 3.0
    values = EXTREMES if extremes else np.zeros(3)
    positions = rng.choice(x.size, size=len(values), replace=False)
    x.flat[positions] = values
    return x


def backward_input(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """x (N, D) in [-4, 4], away from 0 except exact zeros, a decoy input and dout, all (N, D).

    Beyond |x| = 4 the sigmoid's slope is so small that the rounding of finite
    differences (about 1e-11) is no longer far below the 1e-8 tolerance.
    """
    shape = batch_shape(rng)
    x = np.clip(rng.standard_normal(shape) * 1.5, -4.0, 4.0)
    x[np.abs(x) < 1e-3] += 1e-2  # finite differences must not cross ReLU's kink
    x.flat[rng.choice(x.size, size=3, replace=False)] = 0.0  # ReLU's gradient there is 0
    return {
        "x": x,
        "decoy": rng.standard_normal(shape) * 2.0,
        "dout": rng.standard_normal(shape),
    }


def forward_spec(name: str, layer: str, reference: Callable, formula: str) -> TestSpec:
    """``<layer>.forward(x)[0]`` against ``reference(x)``."""

    def build(rng: np.random.Generator) -> Probe:
        x = forward_input(rng, extremes=layer == "Sigmoid")
        call = Call(f"{layer}.forward", (x,), names=("the input x",))
        return Probe([call], {"x": x})

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        out, _ = items(records[0]["result"], 2, "forward must return (out, cache)")
        expected = reference(probe.context["x"])
        passed, detail, error = compare(
            "out", as_array(out, "out"), expected, ACTIVATION_TOLERANCE, formula
        )
        return Verdict(passed, detail, error)

    return TestSpec(name, layer, build, judge)


def backward_spec(
    name: str,
    layer: str,
    reference: Callable,
    local_grad: Callable,
    wrong_formulas: Callable,
    kink_at_zero: bool,
) -> TestSpec:
    """``<layer>.backward(dout, cache)`` against the numerical gradient of ``reference``.

    A second forward call on another input comes between the forward and the
    backward, so that a backward using state kept on the layer is caught; the
    backward is called twice with the same cache, and both results must be right.
    """

    def build(rng: np.random.Generator) -> Probe:
        inputs = backward_input(rng)
        cache = Ref("first", 1)
        calls = [
            Call(f"{layer}.forward", (inputs["x"],), keep="first"),
            Call(f"{layer}.forward", (inputs["decoy"],)),
            Call(f"{layer}.backward", (inputs["dout"], cache), names=("dout", "the cache")),
            Call(f"{layer}.backward", (inputs["dout"], cache)),
        ]
        return Probe(calls, inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        x, decoy, dout = (probe.context[k] for k in ("x", "decoy", "dout"))
        expected = eval_numerical_gradient_array(reference, x.copy(), dout)
        if kink_at_zero:
            expected[x == 0] = 0.0
        dx = as_array(records[2]["result"], "dx")
        passed, detail, error = compare(
            "dx", dx, expected, ACTIVATION_TOLERANCE, "numerical gradient"
        )
        if passed:
            again = as_array(records[3]["result"], "dx")
            if not np.allclose(again, dx, rtol=1e-12, atol=0.0) or again.shape != dx.shape:
                return Verdict(
                    False,
                    "a second backward call with the same cache gave another dx",
                    error,
                    diagnoses.NOT_REPEATABLE,
                )
            return Verdict(True, "", error)
        if dx.shape != x.shape:
            return Verdict(False, detail, error)
        diagnosis = diagnoses.batch_averaged(
            dx, expected, x.shape[0], "dx"
        ) or diagnoses.first_match(
            dx, [*wrong_formulas(x, dout), *common_wrong_formulas(x, decoy, dout, local_grad)]
        )
        return Verdict(False, detail, error, diagnosis)

    return TestSpec(name, layer, build, judge)


def common_wrong_formulas(
    x: np.ndarray, decoy: np.ndarray, dout: np.ndarray, local_grad: Callable
) -> list[tuple[np.ndarray, str]]:
    """Mistakes any elementwise activation's backward can make."""
    return [
        (
            dout * local_grad(decoy),
            "dx is the gradient at the input of a later forward call: backward must use "
            "the cache it is given, not state kept on the layer (e.g. self.x) by the last "
            "forward.",
        ),
        (
            local_grad(x),
            "dx does not depend on dout: multiply the local derivative by dout (chain rule).",
        ),
        (-dout * local_grad(x), "dx has the wrong sign."),
    ]


def sigmoid_wrong_formulas(x: np.ndarray, dout: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The sigmoid backward's classic mistakes."""
    s = sigmoid_reference(x)
    return [
        (
            dout * s,
            "dx is dout * out: the factor (1 - out) of the derivative out * (1 - out) is "
            "missing (out is the forward's output, what the cache holds).",
        ),
        (
            dout * x * (1 - x),
            "dx is dout * x * (1 - x) with x the forward's input: backward uses the cache as "
            "the sigmoid's output, but your cache holds the input. Return (out, out) from "
            "forward, then dx = dout * out * (1 - out) with out = cache.",
        ),
    ]


def relu_wrong_formulas(x: np.ndarray, dout: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The ReLU backward's classic mistakes."""
    return [
        (
            dout,
            "dx is dout itself: the mask is missing. The ReLU passes dout only where the "
            "forward's output was positive: with out = cache, dx = dout * (out > 0).",
        ),
        (
            np.where(x >= 0, dout, 0.0),
            "the mask is taken with >= 0: dx equals dout where the forward's input was "
            "exactly 0, but the ReLU's gradient at 0 is 0 (use out > 0 with out = cache).",
        ),
        (
            np.where(dout > 0, dout, 0.0),
            "dx follows the sign of dout instead of the forward's output: the ReLU passes "
            "dout wherever out > 0 (out = cache), whatever dout's sign.",
        ),
        (
            np.where(x < 0, dout, 0.0),
            "dx passes dout where the forward's input was negative instead of positive: "
            "the mask is inverted (use out > 0 with out = cache).",
        ),
    ]


def sigmoid_specs() -> list[TestSpec]:
    """``SigmoidForwardTest`` and ``SigmoidBackwardTest``."""
    return [
        forward_spec("SigmoidForwardTest", "Sigmoid", sigmoid_reference, "1 / (1 + exp(-x))"),
        backward_spec(
            "SigmoidBackwardTest",
            "Sigmoid",
            sigmoid_reference,
            sigmoid_local_grad,
            sigmoid_wrong_formulas,
            kink_at_zero=False,
        ),
    ]


def relu_specs() -> list[TestSpec]:
    """``ReluForwardTest`` and ``ReluBackwardTest``."""
    return [
        forward_spec("ReluForwardTest", "Relu", relu_reference, "max(0, x)"),
        backward_spec(
            "ReluBackwardTest",
            "Relu",
            relu_reference,
            relu_local_grad,
            relu_wrong_formulas,
            kink_at_zero=True,
        ),
    ]
