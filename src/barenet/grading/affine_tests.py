"""Unit tests of the affine (fully connected) layer.

The forward pass is compared with the classic known output on a fixed input;
each of ``dx``, ``dw`` and ``db`` with the numerical gradient of the closed form
``x.reshape(N, -1) @ w + b``, in float64, on seeded inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from barenet.gradcheck import eval_numerical_gradient_array, rel_error
from barenet.grading import diagnoses
from barenet.grading.harness import UnitTest, Verdict

AFFINE_TOLERANCE = 1e-7
SEED = 231

GetFunction = Callable[[], Callable]

# The classic fixed input (2 samples of shape (4, 5, 6), 3 outputs) and its known output.
KNOWN_X = np.linspace(-0.1, 0.5, num=2 * 4 * 5 * 6).reshape(2, 4, 5, 6)
KNOWN_W = np.linspace(-0.2, 0.3, num=120 * 3).reshape(120, 3)
KNOWN_B = np.linspace(-0.3, 0.1, num=3)
KNOWN_OUT = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])


def reference_affine(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x.reshape(N, -1) @ w + b``: x (N, d1..dk), w (D, M), b (M,) -> (N, M)."""
    return x.reshape(x.shape[0], -1) @ w + b


def backward_inputs(seed: int) -> dict[str, np.ndarray]:
    """Seeded float64 inputs: x (10, 2, 3), w (6, 5), b (5,), dout (10, 5)."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.standard_normal((10, 2, 3)),
        "w": rng.standard_normal((6, 5)),
        "b": rng.standard_normal(5),
        "dout": rng.standard_normal((10, 5)),
    }


def numerical_gradients(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Numerical ``dx`` (10, 2, 3), ``dw`` (6, 5) and ``db`` (5,) of the closed form."""
    x, w, b, dout = (inputs[k].copy() for k in ("x", "w", "b", "dout"))
    return {
        "dx": eval_numerical_gradient_array(lambda v: reference_affine(v, w, b), x, dout),
        "dw": eval_numerical_gradient_array(lambda v: reference_affine(x, v, b), w, dout),
        "db": eval_numerical_gradient_array(lambda v: reference_affine(x, w, v), b, dout),
    }


def forward_verdict(get_forward: GetFunction) -> Verdict:
    """Compare ``affine_forward`` with the known output on the fixed input."""
    affine_forward = get_forward()
    args = {"x": KNOWN_X.copy(), "w": KNOWN_W.copy(), "b": KNOWN_B.copy()}
    out, _ = affine_forward(args["x"], args["w"], args["b"])
    out = np.asarray(out, dtype=np.float64)
    if out.shape != KNOWN_OUT.shape:
        return Verdict(False, f"expected out of shape {KNOWN_OUT.shape}, measured {out.shape}")
    error = rel_error(out, KNOWN_OUT)
    detail = f"expected rel_error(out, known output) < {AFFINE_TOLERANCE:.0e}, measured {error:.3g}"
    written = diagnoses.in_place_changes(
        {"x": KNOWN_X, "w": KNOWN_W, "b": KNOWN_B}, args, "affine_forward"
    )
    if written:
        return Verdict(False, detail, error, written)
    if error < AFFINE_TOLERANCE:
        return Verdict(True, detail, error)
    x2d = KNOWN_X.reshape(2, -1)
    diagnosis = diagnoses.first_match(
        out,
        [
            (x2d @ KNOWN_W, "out is x @ w without the bias: add b (broadcast over the batch)."),
            (x2d @ KNOWN_W - KNOWN_B, "the bias is subtracted instead of added."),
        ],
    )
    return Verdict(False, detail, error, diagnosis)


def backward_verdict(get_forward: GetFunction, get_backward: GetFunction, which: str) -> Verdict:
    """Compare one of ``dx``, ``dw``, ``db`` from ``affine_backward`` with its numerical value.

    Parameters
    ----------
    get_forward, get_backward : callable
        Return the learner's ``affine_forward`` and ``affine_backward``; the cache of
        the learner's own forward pass is handed to the backward pass.
    which : {"dx", "dw", "db"}
    """
    inputs = backward_inputs(SEED)
    passed = {k: v.copy() for k, v in inputs.items()}
    _, cache = get_forward()(passed["x"], passed["w"], passed["b"])
    cache_before = diagnoses.snapshot(cache)
    affine_backward = get_backward()
    grads = dict(zip(("dx", "dw", "db"), affine_backward(passed["dout"], cache), strict=True))
    written = diagnoses.in_place_changes(
        {**inputs, "the cache": cache_before}, {**passed, "the cache": cache}, "affine_backward"
    )
    again = affine_backward(inputs["dout"].copy(), cache)

    measured = np.asarray(grads[which], dtype=np.float64)
    reference = numerical_gradients(inputs)[which]
    if measured.shape != reference.shape:
        return Verdict(
            False,
            f"expected {which} of shape {reference.shape}, measured {measured.shape}",
            None,
            shape_diagnosis(which, measured, reference, inputs),
        )
    error = rel_error(measured, reference)
    detail = (
        f"expected rel_error({which}, numerical gradient) < {AFFINE_TOLERANCE:.0e}, "
        f"measured {error:.3g}"
    )
    if written:
        return Verdict(False, detail, error, written)
    index = ("dx", "dw", "db").index(which)
    if not np.array_equal(measured, np.asarray(again[index], dtype=np.float64), equal_nan=True):
        return Verdict(False, detail, error, diagnoses.NOT_REPEATABLE)
    if error < AFFINE_TOLERANCE:
        return Verdict(True, detail, error)
    diagnosis = diagnoses.batch_averaged(
        measured, reference, inputs["x"].shape[0], which
    ) or diagnoses.first_match(measured, [(-reference, f"{which} has the wrong sign.")])
    return Verdict(False, detail, error, diagnosis)


def shape_diagnosis(
    which: str, measured: np.ndarray, reference: np.ndarray, inputs: dict[str, np.ndarray]
) -> str | None:
    """Explain a gradient of the wrong shape: transposed, not reshaped, not summed."""
    n = inputs["x"].shape[0]
    if which == "dw":
        return diagnoses.transposed(measured, reference, "dw") or diagnoses.transposed(
            measured * n, reference, "dw (also averaged over the batch)"
        )
    if which == "dx" and measured.size == reference.size:
        if diagnoses.matches(measured.reshape(reference.shape), reference):
            return (
                "dx has the flattened shape (N, D): reshape it to x's shape, dx.reshape(x.shape)."
            )
    if which == "db":
        dout = inputs["dout"]
        if diagnoses.matches(measured, dout):
            return "db is dout itself: sum it over the batch, db = dout.sum(axis=0)."
        if diagnoses.matches(measured, dout.sum(axis=1)):
            return "db is summed over the wrong axis: db = dout.sum(axis=0), shape (M,)."
    return None


def affine_tests(get_forward: GetFunction, get_backward: GetFunction) -> list[UnitTest]:
    """``AffineForwardTest`` and ``AffineBackwardTestDx``/``Dw``/``Db``."""
    explain = diagnoses.affine_shape_error
    tests = [UnitTest("AffineForwardTest", lambda: forward_verdict(get_forward), explain)]
    for which in ("dx", "dw", "db"):
        tests.append(
            UnitTest(
                f"AffineBackwardTest{which.capitalize()}",
                lambda which=which: backward_verdict(get_forward, get_backward, which),
                explain,
            )
        )
    return tests
