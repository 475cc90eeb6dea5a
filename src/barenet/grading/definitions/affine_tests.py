"""Unit tests of the affine (fully connected) layer.

Each run draws fresh inputs: x of shape (N, d1, d2), w (d1*d2, M), b (M,), with
N never 10 (the batch size of the course's fixed inputs, so that code that
recognises those inputs gains nothing). ``out`` is compared with the closed form
``x.reshape(N, -1) @ w + b``; ``dx``, ``dw``, ``db`` with its exact gradient in
float64. The layer is linear, so the exact gradient is the numerical one without
its rounding: differencing would leave errors of about 1e-10, which make an
element of ``db`` close to 0 fail a relative tolerance now and then (about one
run in a hundred). Under the ``batch-mean`` convention dw and db are expected
averaged over the batch (divided by N), as one course version asks.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import diagnoses
from barenet.grading.engine.records import as_array, compare, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec, check_convention
from barenet.grading.sandboxed.learner_calls import Call, Ref

AFFINE_TOLERANCE = 1e-7
BATCH_SIZES = (4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16)
GRADIENTS = ("dx", "dw", "db")

# What the learner reads; what only the teacher can act on (the convention and its
# flag) is a note in the teacher's reports (definitions/teacher_notes.py).
NOT_AVERAGED_UNDER_BATCH_MEAN = (
    "{name} is N times (N = {n}) the expected value: this exercise asks affine_backward "
    "to return dw and db averaged over the batch, so divide them by N (dx stays as it is)."
)


def reference_affine(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x.reshape(N, -1) @ w + b``: x (N, d1..dk), w (D, M), b (M,) -> (N, M)."""
    return x.reshape(x.shape[0], -1) @ w + b


def affine_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh float64 inputs: x (N, d1, d2), w (d1*d2, M), b (M,), dout (N, M)."""
    n = int(rng.choice(BATCH_SIZES))
    # D = d1 * d2 >= 8 > M: a transposed w can never pass for the right one.
    d1, d2, m = (int(v) for v in rng.integers((2, 4, 3), (5, 7, 8)))
    return {
        "x": rng.standard_normal((n, d1, d2)),
        "w": rng.standard_normal((d1 * d2, m)),
        "b": rng.standard_normal(m),
        "dout": rng.standard_normal((n, m)),
    }


def exact_gradients(inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``dx`` (x's shape), ``dw`` (D, M) and ``db`` (M,) of ``sum(affine(x, w, b) * dout)``."""
    x, w, dout = inputs["x"], inputs["w"], inputs["dout"]
    x2d = x.reshape(x.shape[0], -1)
    return {"dx": (dout @ w.T).reshape(x.shape), "dw": x2d.T @ dout, "db": dout.sum(axis=0)}


def explain_exception(error: dict) -> str | None:
    """A diagnosis for a shape error raised by the learner's affine code."""
    text = error.get("message", "")
    if error.get("type") == "ValueError" and ("shape" in text or "mismatch" in text):
        return diagnoses.AFFINE_SHAPE_ERROR
    return None


def forward_spec() -> TestSpec:
    """``AffineForwardTest``: out against the closed form."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = affine_inputs(rng)
        args = (inputs["x"], inputs["w"], inputs["b"])
        return Probe([Call("affine_forward", args, names=("x", "w", "b"))], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        x, w, b = (probe.context[k] for k in ("x", "w", "b"))
        out, _ = items(records[0]["result"], 2, "affine_forward must return (out, cache)")
        out = as_array(out, "out")
        expected = reference_affine(x, w, b)
        passed, detail, error = compare("out", out, expected, AFFINE_TOLERANCE, "x2d @ w + b")
        if passed:
            return Verdict(True, "", error)
        x2d = x.reshape(x.shape[0], -1)
        diagnosis = diagnoses.first_match(
            out,
            [
                (x2d @ w, "out is x @ w without the bias: add b (broadcast over the batch)."),
                (x2d @ w - b, "the bias is subtracted instead of added."),
            ],
        )
        return Verdict(False, detail, error, diagnosis)

    return TestSpec("AffineForwardTest", "affine_forward", build, judge, explain_exception)


def expected_gradient(which: str, exact: np.ndarray, n: int, convention: str) -> np.ndarray:
    """The gradient the convention asks for: dw and db divided by N under batch-mean."""
    return exact / n if convention == "batch-mean" and which != "dx" else exact


def averaging_diagnosis(
    which: str, measured: np.ndarray, exact: np.ndarray, n: int, convention: str
) -> str | None:
    """Name a gradient averaged (or not) against the convention."""
    if convention == "batch-mean" and which != "dx":
        if diagnoses.matches(measured, exact):
            return NOT_AVERAGED_UNDER_BATCH_MEAN.format(name=which, n=n)
        return None
    return diagnoses.batch_averaged(measured, exact, n, which)


def backward_spec(which: str, convention: str) -> TestSpec:
    """``AffineBackwardTestDx``/``Dw``/``Db``: one gradient against its exact value."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = affine_inputs(rng)
        cache = Ref("forward", 1)
        calls = [
            Call(
                "affine_forward",
                (inputs["x"], inputs["w"], inputs["b"]),
                keep="forward",
            ),
            Call("affine_backward", (inputs["dout"], cache), names=("dout", "the cache")),
            Call("affine_backward", (inputs["dout"], cache)),
        ]
        return Probe(calls, inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs = probe.context
        n = inputs["x"].shape[0]
        grads = items(records[1]["result"], 3, "affine_backward must return (dx, dw, db)")
        measured = as_array(grads[GRADIENTS.index(which)], which)
        exact = exact_gradients(inputs)[which]
        expected = expected_gradient(which, exact, n, convention)
        passed, detail, error = compare(
            which, measured, expected, AFFINE_TOLERANCE, "exact gradient"
        )
        if passed:
            again = items(records[2]["result"], 3, "affine_backward must return (dx, dw, db)")
            again = as_array(again[GRADIENTS.index(which)], which)
            if again.shape != measured.shape or not np.allclose(again, measured, rtol=1e-12):
                return Verdict(
                    False,
                    f"a second call with the same cache gave another {which}",
                    error,
                    diagnoses.NOT_REPEATABLE,
                )
            return Verdict(True, "", error)
        if measured.shape != expected.shape:
            return Verdict(False, detail, error, shape_diagnosis(which, measured, expected, inputs))
        diagnosis = averaging_diagnosis(
            which, measured, exact, n, convention
        ) or diagnoses.first_match(measured, [(-expected, f"{which} has the wrong sign.")])
        return Verdict(False, detail, error, diagnosis)

    name = f"AffineBackwardTest{which.capitalize()}"
    return TestSpec(name, "affine_backward", build, judge, explain_exception)


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


def affine_specs(convention: str = "exact") -> list[TestSpec]:
    """``AffineForwardTest`` and ``AffineBackwardTestDx``/``Dw``/``Db``."""
    check_convention(convention)
    return [forward_spec()] + [backward_spec(which, convention) for which in GRADIENTS]
