"""Unit tests of the Sigmoid and ReLU layers.

Forward passes are compared with closed-form values on fixed inputs (including
exact zeros and |x| = 1000); backward passes with the numerical gradient of the
closed-form function, in float64, on seeded inputs. Every call gets copies of
the inputs, so that writing into them is detected instead of spoiling the
reference.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from barenet.gradcheck import eval_numerical_gradient_array, rel_error
from barenet.grading import diagnoses
from barenet.grading.harness import UnitTest, Verdict

ACTIVATION_TOLERANCE = 1e-8
SEED = 231

MakeLayer = Callable[[], Any]


def sigmoid_reference(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))``; the overflow of ``exp`` for x << 0 gives the right limit 0."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def sigmoid_local_grad(x: np.ndarray) -> np.ndarray:
    """``s * (1 - s)`` with ``s = sigmoid(x)``."""
    s = sigmoid_reference(x)
    return s * (1.0 - s)


def relu_reference(x: np.ndarray) -> np.ndarray:
    """``max(0, x)``."""
    return np.maximum(x, 0.0)


def relu_local_grad(x: np.ndarray) -> np.ndarray:
    """1 where ``x > 0``, else 0 (also at exactly 0)."""
    return (x > 0).astype(np.float64)


def backward_inputs(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded float64 inputs for a backward test.

    Returns
    -------
    x : ndarray, shape (10, 8)
        Away from 0 by more than the finite-difference step, except for exact zeros.
    decoy : ndarray, shape (10, 8)
        The input of a second forward call, whose cache must not be used.
    dout : ndarray, shape (10, 8)
    """
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((10, 8)) * 2.0
    x[np.abs(x) < 1e-3] += 1e-2  # keep finite differences away from ReLU's kink
    x.flat[::9] = 0.0  # exact zeros: ReLU's gradient there must be 0
    decoy = rng.standard_normal((10, 8)) * 2.0
    dout = rng.standard_normal((10, 8))
    return x, decoy, dout


def forward_verdict(
    make_layer: MakeLayer, x: np.ndarray, expected: np.ndarray, formula: str, overflow_check: bool
) -> Verdict:
    """Compare ``layer.forward(x)[0]`` with known values; watch for overflow and writes into x.

    Parameters
    ----------
    make_layer : callable
    x : ndarray, any shape, float64
    expected : ndarray, shape of ``x``
    formula : str
        The closed form in the message, e.g. ``"1 / (1 + exp(-x))"``.
    overflow_check : bool
        Fail on an overflow RuntimeWarning (the sigmoid's classic bug).
    """
    layer = make_layer()
    x_in = x.copy()
    with (
        warnings.catch_warnings(record=True) as caught,
        np.errstate(over="warn", invalid="warn", divide="warn"),
    ):
        warnings.simplefilter("always")
        out, _ = layer.forward(x_in)
    out = np.asarray(out, dtype=np.float64)
    if out.shape != expected.shape:
        return Verdict(False, f"expected output of shape {expected.shape}, measured {out.shape}")
    error = rel_error(out, expected)
    detail = (
        f"expected rel_error(out, {formula}) < {ACTIVATION_TOLERANCE:.0e}, measured {error:.3g}"
    )
    written = diagnoses.in_place_changes({"the input x": x}, {"the input x": x_in}, "forward")
    if written:
        return Verdict(False, detail, error, written)
    overflow = diagnoses.sigmoid_overflow(caught) if overflow_check else None
    if overflow:
        return Verdict(False, detail + ", with an overflow warning", error, overflow)
    if not np.all(np.isfinite(out)):
        return Verdict(False, detail, error, diagnoses.NOT_FINITE.format(name="the output"))
    return Verdict(error < ACTIVATION_TOLERANCE, detail, error)


def backward_verdict(
    make_layer: MakeLayer,
    reference_forward: Callable[[np.ndarray], np.ndarray],
    local_grad: Callable[[np.ndarray], np.ndarray],
    wrong_formulas: Callable[[np.ndarray, np.ndarray], list[tuple[np.ndarray, str]]],
    seed: int,
    kink_at_zero: bool = False,
) -> Verdict:
    """Compare ``layer.backward`` with the numerical gradient of ``reference_forward``.

    Parameters
    ----------
    make_layer : callable
    reference_forward : callable
        The closed-form function, differentiated numerically.
    local_grad : callable
        Its closed-form derivative; used only to recognise wrong formulas.
    wrong_formulas : callable
        ``wrong_formulas(x, dout) -> [(value, explanation), ...]``: layer-specific mistakes.
    seed : int
    kink_at_zero : bool
        The function has a kink at 0 (ReLU): the gradient there is taken as 0, while
        centred differences across the kink measure 0.5.
    """
    x, decoy, dout = backward_inputs(seed)
    layer = make_layer()
    x_in, dout_in = x.copy(), dout.copy()
    _, cache = layer.forward(x_in)
    layer.forward(decoy.copy())  # a later call: its cache must not leak into ours
    cache_before = diagnoses.snapshot(cache)
    dx = np.asarray(layer.backward(dout_in, cache), dtype=np.float64)
    written = diagnoses.in_place_changes(
        {"dout": dout, "the input x": x, "the cache": cache_before},
        {"dout": dout_in, "the input x": x_in, "the cache": cache},
        "backward",
    )
    dx_again = np.asarray(layer.backward(dout.copy(), cache), dtype=np.float64)

    reference = eval_numerical_gradient_array(reference_forward, x.copy(), dout)
    if kink_at_zero:
        reference[x == 0] = 0.0
    if dx.shape != x.shape:
        return Verdict(False, f"expected dx of shape {x.shape}, measured {dx.shape}")
    error = rel_error(dx, reference)
    detail = (
        f"expected rel_error(dx, numerical gradient) < {ACTIVATION_TOLERANCE:.0e}, "
        f"measured {error:.3g}"
    )
    if written:
        return Verdict(False, detail, error, written)
    if not np.array_equal(dx, dx_again, equal_nan=True):
        return Verdict(False, detail, error, diagnoses.NOT_REPEATABLE)
    if error < ACTIVATION_TOLERANCE:
        return Verdict(True, detail, error)
    diagnosis = diagnoses.batch_averaged(dx, reference, x.shape[0], "dx") or diagnoses.first_match(
        dx, [*wrong_formulas(x, dout), *common_wrong_formulas(x, decoy, dout, local_grad)]
    )
    return Verdict(False, detail, error, diagnosis)


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
        (dout * s, "dx is dout * s: the factor (1 - s) of the derivative s * (1 - s) is missing."),
        (
            dout * x * (1 - x),
            "dx is dout * x * (1 - x): the backward treats the cached input x as the "
            "sigmoid's output s; compute dout * s * (1 - s) with s = sigmoid(x).",
        ),
    ]


def relu_wrong_formulas(x: np.ndarray, dout: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The ReLU backward's classic mistakes."""
    at_zero_passes = np.where(x >= 0, dout, 0.0)
    return [
        (
            at_zero_passes,
            "dx equals dout where x == 0: the ReLU's gradient at exactly 0 must be 0 "
            "(use x > 0, not x >= 0).",
        ),
        (
            np.where(dout > 0, dout, 0.0),
            "dx follows the sign of dout instead of the sign of the forward input: the "
            "ReLU passes dout wherever x > 0 (taken from the cache), whatever dout's sign.",
        ),
        (
            np.where(x < 0, dout, 0.0),
            "dx passes dout where x < 0 instead of where x > 0: the mask is inverted.",
        ),
    ]


SIGMOID_FORWARD_X = np.concatenate(
    [np.linspace(-6.0, 6.0, 25), [-1000.0, -745.0, -40.0, 40.0, 745.0]]
).reshape(5, 6)
RELU_FORWARD_X = np.linspace(-1.0, 1.0, 21).reshape(3, 7)
RELU_FORWARD_X[1, 3] = 0.0  # the middle point, exactly 0 whatever linspace's rounding


def sigmoid_tests(make_layer: MakeLayer) -> list[UnitTest]:
    """``SigmoidForwardTest`` and ``SigmoidBackwardTest`` for the layer ``make_layer()``."""
    expected = sigmoid_reference(SIGMOID_FORWARD_X)
    return [
        UnitTest(
            "SigmoidForwardTest",
            lambda: forward_verdict(
                make_layer, SIGMOID_FORWARD_X, expected, "1 / (1 + exp(-x))", overflow_check=True
            ),
        ),
        UnitTest(
            "SigmoidBackwardTest",
            lambda: backward_verdict(
                make_layer, sigmoid_reference, sigmoid_local_grad, sigmoid_wrong_formulas, SEED
            ),
        ),
    ]


def relu_tests(make_layer: MakeLayer) -> list[UnitTest]:
    """``ReluForwardTest`` and ``ReluBackwardTest`` for the layer ``make_layer()``."""
    expected = relu_reference(RELU_FORWARD_X)
    return [
        UnitTest(
            "ReluForwardTest",
            lambda: forward_verdict(
                make_layer, RELU_FORWARD_X, expected, "max(0, x)", overflow_check=False
            ),
        ),
        UnitTest(
            "ReluBackwardTest",
            lambda: backward_verdict(
                make_layer,
                relu_reference,
                relu_local_grad,
                relu_wrong_formulas,
                SEED + 1,
                kink_at_zero=True,
            ),
        ),
    ]
