"""Unit tests of max pooling, in CS231n's call form.

``max_pool_forward(x, pool_param) -> (out, cache)`` with x (N, C, H, W) and
``pool_param = {'pool_height', 'pool_width', 'stride'}``; ``max_pool_backward(dout,
cache) -> dx``. Four tests: ``MaxPoolForwardTest`` (2x2 windows, stride 2),
``MaxPoolForwardStrideTest`` (3x3 windows, stride 2: overlapping), ``MaxPoolBackwardTest``
(both configurations, and 2x2 windows over an odd height; kink-aware gradient check: a window whose maximum moves within
+-h is a kink, checked one-sidedly) and ``MaxPoolBackwardTiesTest`` (inputs with exact
ties: each window's gradient must reach one of its maxima, once, and the last column,
which no window reaches, gets 0).
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import diagnoses, pool_diagnoses
from barenet.grading.definitions.gradient_checks import (
    EXACT_TOLERANCE,
    gradient_of,
    numeric_check,
    repeat_verdict,
)
from barenet.grading.definitions.layer_references import (
    max_pool_argmax,
    max_pool_out,
    pool_windows,
)
from barenet.grading.engine.records import as_array, compare, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.sandboxed.learner_calls import Call, Ref

TILED = ((2, 2), 2)  # (pool height, pool width), stride
OVERLAPPING = ((3, 3), 2)
RETURNS = "max_pool_backward must return dx"


def pool_inputs(
    rng: np.random.Generator,
    pool: tuple[int, int],
    stride: int,
    ties=False,
    small=False,
    uncovered=(0, 0),
) -> dict:
    """x (N, C, H, W), dout, and the pool_param.

    The windows cover x exactly but for ``uncovered`` (rows, columns) at the end, which
    no window reaches (their gradient is 0). Calls whose arguments are watched for
    Python loops get a dout of 108 elements or more (a whole-array backward runs fewer
    steps); ``small`` ones are cheaper to check.
    """
    ho, wo = int(rng.integers(3, 5)), int(rng.integers(4, 6))
    h = pool[0] + stride * (ho - 1) + uncovered[0]
    w = pool[1] + stride * (wo - 1) + uncovered[1]
    shape = (2, 2, h, w) if small else (3, int(rng.integers(3, 5)), h, w)
    if ties:  # few distinct values: most windows hold a tied maximum
        x = rng.integers(0, 3, shape).astype(np.float64)
    else:
        x = rng.standard_normal(shape)
    dout = rng.uniform(0.5, 2.0, (shape[0], shape[1], ho, wo)) * rng.choice([-1.0, 1.0], (ho, wo))
    param = {"pool_height": pool[0], "pool_width": pool[1], "stride": stride}
    return {"x": x, "dout": dout, "pool": pool, "stride": stride, "param": param}


def forward_spec(name: str, pool: tuple[int, int], stride: int) -> TestSpec:
    def build(rng: np.random.Generator) -> Probe:
        inputs = pool_inputs(rng, pool, stride)
        call = Call("max_pool_forward", (inputs["x"], inputs["param"]), names=("the input x",))
        return Probe([call], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        i = probe.context
        out, _ = items(records[0]["result"], 2, "max_pool_forward must return (out, cache)")
        out = as_array(out, "out")
        expected = max_pool_out(i["x"], i["pool"], i["stride"])
        passed, detail, error = compare("out", out, expected, EXACT_TOLERANCE, "window maxima")
        if passed:
            return Verdict(True, "", error)
        mistakes = pool_diagnoses.forward_mistakes(i["x"], i["pool"], i["stride"])
        return Verdict(False, detail, error, diagnoses.first_match(out, mistakes))

    return TestSpec(name, "max_pool_forward", build, judge)


def backward_calls(configurations: list[dict]) -> list[Call]:
    """Forward and backward of each configuration; the first one's backward twice."""
    first = configurations[0]
    calls = [
        Call("max_pool_forward", (first["x"], first["param"]), keep="c0"),
        Call("max_pool_backward", (first["dout"], Ref("c0", 1)), names=("dout", "the cache")),
        Call("max_pool_backward", (first["dout"], Ref("c0", 1))),
    ]
    for k, inputs in enumerate(configurations[1:], start=1):
        calls.append(Call("max_pool_forward", (inputs["x"], inputs["param"]), keep=f"c{k}"))
        calls.append(Call("max_pool_backward", (inputs["dout"], Ref(f"c{k}", 1))))
    return calls


def numeric_verdict(inputs: dict, dx: np.ndarray) -> Verdict:
    pool, stride, x, dout = inputs["pool"], inputs["stride"], inputs["x"], inputs["dout"]
    passed, detail, error = numeric_check(
        "dx",
        dx,
        lambda v: max_pool_out(v, pool, stride),
        x,
        dout,
        state=lambda v: max_pool_argmax(v, pool, stride),
    )
    if passed:
        return Verdict(True, "", error)
    where = f" ({pool[0]}x{pool[1]} windows, stride {stride}, input {x.shape[2]}x{x.shape[3]})"
    mistakes = pool_diagnoses.backward_mistakes(x, dout, pool, stride)
    return Verdict(False, detail + where, error, diagnoses.first_match(dx, mistakes))


def backward_spec() -> TestSpec:
    """``MaxPoolBackwardTest``: tiled, overlapping, then tiled with a row no window reaches."""

    def build(rng: np.random.Generator) -> Probe:
        configurations = [
            pool_inputs(rng, *TILED),
            pool_inputs(rng, *OVERLAPPING, small=True),
            pool_inputs(rng, *TILED, small=True, uncovered=(1, 0)),
        ]
        return Probe(backward_calls(configurations), {"configurations": configurations})

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        first, *others = probe.context["configurations"]
        dx = gradient_of(records[1], 1, 0, "dx", RETURNS)
        verdict = numeric_verdict(first, dx)
        if not verdict.passed:
            return verdict
        again = gradient_of(records[2], 1, 0, "dx", RETURNS)
        verdict = repeat_verdict(again, dx, "dx", verdict.error)
        for k, inputs in enumerate(others):
            if not verdict.passed:
                break
            verdict = numeric_verdict(inputs, gradient_of(records[4 + 2 * k], 1, 0, "dx", RETURNS))
        return verdict

    return TestSpec("MaxPoolBackwardTest", "max_pool_backward", build, judge)


def one_max_each(x: np.ndarray, dx: np.ndarray, dout: np.ndarray, pool, stride) -> bool:
    """True when every (non-overlapping) window's dx is dout at one of its maxima, 0 elsewhere."""
    windows = pool_windows(x, pool, stride)
    grads = pool_windows(dx, pool, stride)
    is_max = windows == windows.max(axis=-1, keepdims=True)
    nonzero = grads != 0
    one = nonzero.sum(axis=-1) == 1
    at_max = ~np.any(nonzero & ~is_max, axis=-1)
    value = np.isclose(grads.sum(axis=-1), dout, rtol=1e-10, atol=0.0)
    outside = np.abs(dx).sum() - np.abs(grads).sum()  # where no window reaches
    return bool(np.all(one & at_max & value)) and abs(outside) <= 1e-12 * np.abs(dx).sum()


def ties_spec() -> TestSpec:
    """``MaxPoolBackwardTiesTest``: each tied window sends its gradient to one maximum."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = pool_inputs(rng, *TILED, ties=True, uncovered=(0, 1))
        calls = [
            Call("max_pool_forward", (inputs["x"], inputs["param"]), keep="forward"),
            Call("max_pool_backward", (inputs["dout"], Ref("forward", 1))),
        ]
        return Probe(calls, inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        i = probe.context
        dx = gradient_of(records[1], 1, 0, "dx", RETURNS)
        if dx.shape != i["x"].shape:
            return Verdict(False, f"expected dx of shape {i['x'].shape}, measured {dx.shape}")
        if one_max_each(i["x"], dx, i["dout"], i["pool"], i["stride"]):
            return Verdict(True, "", 0.0)
        mistakes = pool_diagnoses.backward_mistakes(i["x"], i["dout"], i["pool"], i["stride"])
        detail = "expected each window's dout at exactly one of its maxima, 0 elsewhere"
        return Verdict(False, detail, None, diagnoses.first_match(dx, mistakes))

    return TestSpec("MaxPoolBackwardTiesTest", "max_pool_backward", build, judge)


def max_pool_specs() -> list[TestSpec]:
    """The four max-pooling tests."""
    return [
        forward_spec("MaxPoolForwardTest", *TILED),
        forward_spec("MaxPoolForwardStrideTest", *OVERLAPPING),
        backward_spec(),
        ties_spec(),
    ]
