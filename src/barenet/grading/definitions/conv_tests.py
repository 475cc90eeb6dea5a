"""Unit tests of the convolution layer, in CS231n's call form.

``conv_forward(x, w, b, conv_param) -> (out, cache)`` with x (N, C, H, W), w (F, C,
HH, WW), b (F,) and ``conv_param = {'stride': s, 'pad': p}`` (zeros on all four
sides of H and W); ``conv_backward(dout, cache) -> (dx, dw, db)``. A cross-correlation,
as in CS231n and PyTorch: the kernel is not flipped.

Five tests. ``ConvForwardTest`` (stride 1, pad 1) and ``ConvForwardStrideTest``
(stride 2, pad 1 or 2) compare ``out`` with the grader's own closed form;
``ConvBackwardTestDx`` / ``Dw`` / ``Db`` each run three configurations (3x3 kernel
with stride 1 and pad 2, 3x3 with stride 2 and pad 1, 2x2 with pad 2) and compare
with the exact gradient: the layer is linear in
each argument, so differencing would only add rounding. Sizes are odd, so every
stride fits, and every size differs from the others.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import conv_diagnoses, diagnoses
from barenet.grading.definitions.gradient_checks import (
    EXACT_TOLERANCE,
    gradient_of,
    repeat_verdict,
)
from barenet.grading.definitions.layer_references import conv_grads, conv_out
from barenet.grading.engine.records import as_array, compare, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.sandboxed.learner_calls import Call, Ref

GRADIENTS = ("dx", "dw", "db")
# (stride, pad, kernel, filters) of the backward tests' three configurations: padding
# wider than usual, a stride, and a 2x2 kernel padded by 2 with more filters than a patch
# has values (each takes another path in fast code).
BACKWARD_SETTINGS = ((1, 2, 3, 0), (2, 1, 3, 0), (1, 2, 2, 13))
RETURNS = "conv_backward must return (dx, dw, db)"


def conv_inputs(
    rng: np.random.Generator, stride: int, pad: int, kernel: int = 3, filters: int = 0
) -> dict:
    """x (N, C, H, W) with odd H != W, w (F, C, k, k), b (F,), dout, and the conv_param.

    ``filters`` fixes F (default: 2 to 4).
    """
    n, c = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    f = filters or int(rng.integers(2, 5))
    h = int(rng.choice([5, 7]))
    w_size = h + 2
    x = rng.standard_normal((n, c, h, w_size))
    w = rng.standard_normal((f, c, kernel, kernel))
    ho = 1 + (h + 2 * pad - kernel) // stride
    wo = 1 + (w_size + 2 * pad - kernel) // stride
    return {
        "x": x,
        "w": w,
        "b": rng.standard_normal(f),
        "dout": rng.standard_normal((n, f, ho, wo)),
        "stride": stride,
        "pad": pad,
    }


def arguments(inputs: dict) -> tuple:
    conv_param = {"stride": inputs["stride"], "pad": inputs["pad"]}
    return (inputs["x"], inputs["w"], inputs["b"], conv_param)


def forward_spec(name: str, stride: int, pads: tuple[int, ...]) -> TestSpec:
    """``out`` of one conv_forward call against the closed form."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = conv_inputs(rng, stride, int(rng.choice(pads)))
        call = Call("conv_forward", arguments(inputs), names=("the input x", "w", "b"))
        return Probe([call], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        i = probe.context
        out, _ = items(records[0]["result"], 2, "conv_forward must return (out, cache)")
        out = as_array(out, "out")
        expected = conv_out(i["x"], i["w"], i["b"], i["stride"], i["pad"])
        passed, detail, error = compare("out", out, expected, EXACT_TOLERANCE, "the closed form")
        if passed:
            return Verdict(True, "", error)
        mistakes = conv_diagnoses.forward_mistakes(i["x"], i["w"], i["b"], i["stride"], i["pad"])
        found = diagnoses.first_match(out, mistakes) or conv_diagnoses.shape_mistake(
            out, i["x"], expected, i["pad"]
        )
        return Verdict(False, detail, error, found)

    return TestSpec(name, "conv_forward", build, judge)


def backward_calls(configurations: list[dict]) -> list[Call]:
    """Forward and backward of each configuration; the first one's backward twice."""
    first = configurations[0]
    calls = [
        Call("conv_forward", arguments(first), keep="c0"),
        Call("conv_backward", (first["dout"], Ref("c0", 1)), names=("dout", "the cache")),
        Call("conv_backward", (first["dout"], Ref("c0", 1))),
    ]
    for k, inputs in enumerate(configurations[1:], start=1):
        calls.append(Call("conv_forward", arguments(inputs), keep=f"c{k}"))
        calls.append(Call("conv_backward", (inputs["dout"], Ref(f"c{k}", 1))))
    return calls


def gradient_verdict(which: str, inputs: dict, measured: np.ndarray) -> Verdict:
    """One gradient of one configuration against the exact value, with its diagnosis."""
    x, w, dout, stride, pad = (inputs[k] for k in ("x", "w", "dout", "stride", "pad"))
    expected = conv_grads(x, w, dout, stride, pad)[which]
    where = f" ({w.shape[2]}x{w.shape[3]} kernel, stride {stride}, pad {pad})"
    passed, detail, error = compare(which, measured, expected, EXACT_TOLERANCE, "exact gradient")
    if passed:
        return Verdict(True, "", error)
    n = x.shape[0]
    found = diagnoses.batch_averaged(measured, expected, n, which) or diagnoses.first_match(
        measured,
        [
            (-expected, f"{which} has the wrong sign."),
            *conv_diagnoses.gradient_mistakes(which, x, w, dout, stride, pad),
        ],
    )
    return Verdict(False, detail + where, error, found)


def backward_spec(which: str) -> TestSpec:
    """``ConvBackwardTestDx`` / ``Dw`` / ``Db``."""
    index = GRADIENTS.index(which)

    def build(rng: np.random.Generator) -> Probe:
        configurations = [conv_inputs(rng, *setting) for setting in BACKWARD_SETTINGS]
        return Probe(backward_calls(configurations), {"configurations": configurations})

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        first, *others = probe.context["configurations"]
        measured = gradient_of(records[1], 3, index, which, RETURNS)
        verdict = gradient_verdict(which, first, measured)
        if not verdict.passed:
            return verdict
        again = gradient_of(records[2], 3, index, which, RETURNS)
        verdict = repeat_verdict(again, measured, which, verdict.error)
        for k, inputs in enumerate(others):
            if not verdict.passed:
                break
            measured = gradient_of(records[4 + 2 * k], 3, index, which, RETURNS)
            verdict = gradient_verdict(which, inputs, measured)
        return verdict

    return TestSpec(f"ConvBackwardTest{which.capitalize()}", "conv_backward", build, judge)


def conv_specs() -> list[TestSpec]:
    """``ConvForwardTest``, ``ConvForwardStrideTest``, ``ConvBackwardTestDx`` / ``Dw`` / ``Db``."""
    return [
        forward_spec("ConvForwardTest", 1, (1,)),
        forward_spec("ConvForwardStrideTest", 2, (1, 2)),
        *(backward_spec(which) for which in GRADIENTS),
    ]
