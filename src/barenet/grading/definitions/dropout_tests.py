"""Unit tests of inverted dropout, in CS231n's call form.

``dropout_forward(x, dropout_param) -> (out, cache)`` with ``dropout_param = {'mode':
'train' | 'test', 'p': ..., 'seed': ...}``; ``dropout_backward(dout, cache) -> dx``.
In CS231n ``p`` is the probability of KEEPING a unit (``p_means="keep"``, the
default); a course that follows PyTorch's meaning (dropping) is graded with
``p_means="drop"``. The keep probability is drawn between 0.6 and 0.85, so that
the two readings of ``p`` keep clearly different fractions.

Four tests: ``DropoutTrainStatisticsTest`` (the kept fraction over 12,000 units is
within 0.03 of the keep probability: 6 standard deviations; the mean is preserved),
``DropoutInvertedScalingTest`` (every kept unit is x / keep), ``DropoutTestModeTest``
(test mode returns x) and ``DropoutBackwardTest`` (dx is dout * mask / keep, with the
forward's mask). x has no zeros, so the mask is read from the output.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import diagnoses
from barenet.grading.definitions import dropout_diagnoses as words
from barenet.grading.definitions.gradient_checks import EXACT_TOLERANCE, repeat_verdict
from barenet.grading.engine.records import as_array, compare, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.sandboxed.learner_calls import Call, Ref

P_MEANINGS = (words.KEEP, words.DROP)
FRACTION_TOLERANCE = 0.03
STAT_SHAPE = (120, 100)


def dropout_inputs(rng: np.random.Generator, shape: tuple[int, int], p_means: str) -> dict:
    """x without zeros, dout, the keep probability and the dropout_param of a train call."""
    keep = float(rng.uniform(0.6, 0.85))
    x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    p = keep if p_means == words.KEEP else 1.0 - keep
    seed = int(rng.integers(0, 2**31))
    return {
        "x": x,
        "dout": rng.standard_normal(shape),
        "keep": keep,
        "p": p,
        "param": {"mode": "train", "p": p, "seed": seed},
    }


def small_shape(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(8, 13)), int(rng.integers(10, 16))


def forward_out(record: dict) -> np.ndarray:
    out, _ = items(record["result"], 2, "dropout_forward must return (out, cache)")
    return as_array(out, "out")


def check_shape(out: np.ndarray, x: np.ndarray, name: str = "out") -> Verdict | None:
    if out.shape != x.shape:
        return Verdict(False, f"expected {name} of shape {x.shape}, measured {out.shape}")
    return None


def statistics_spec(p_means: str) -> TestSpec:
    """``DropoutTrainStatisticsTest``: the kept fraction and the mean in training."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = dropout_inputs(rng, STAT_SHAPE, p_means)
        inputs["x"] = np.abs(inputs["x"])  # a positive mean, so that preserving it shows
        return Probe([Call("dropout_forward", (inputs["x"], inputs["param"]))], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        i = probe.context
        out = forward_out(records[0])
        wrong = check_shape(out, i["x"])
        if wrong:
            return wrong
        kept = float(np.mean(out != 0))
        if abs(kept - i["keep"]) > FRACTION_TOLERANCE:
            detail = f"expected a kept fraction of {i['keep']:.3f} +- {FRACTION_TOLERANCE}, measured {kept:.3f}"
            found = None
            if abs(kept - (1 - i["keep"])) <= FRACTION_TOLERANCE:
                found = words.keep_fraction_message(kept, i["p"], p_means)
            return Verdict(False, detail, abs(kept - i["keep"]), found)
        ratio = float(out.mean() / i["x"].mean())
        if abs(ratio - 1) > FRACTION_TOLERANCE / i["keep"]:
            detail = f"expected mean(out) / mean(x) of 1 +- {FRACTION_TOLERANCE / i['keep']:.2f}, measured {ratio:.3f}"
            found = words.NOT_SCALED if abs(ratio - i["keep"]) < 0.05 else None
            return Verdict(False, detail, abs(ratio - 1), found)
        return Verdict(True, "", abs(kept - i["keep"]))

    return TestSpec("DropoutTrainStatisticsTest", "dropout_forward", build, judge)


def scaling_spec(p_means: str) -> TestSpec:
    """``DropoutInvertedScalingTest``: each kept unit is x / keep."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = dropout_inputs(rng, small_shape(rng), p_means)
        call = Call("dropout_forward", (inputs["x"], inputs["param"]), names=("the input x",))
        return Probe([call], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        i = probe.context
        out = forward_out(records[0])
        wrong = check_shape(out, i["x"])
        if wrong:
            return wrong
        kept = out != 0
        if not kept.any():
            return Verdict(False, "out is all zeros: no unit was kept")
        x, keep = i["x"][kept], i["keep"]
        measured = out[kept]
        passed, detail, error = compare(
            "the kept units", measured, x / keep, EXACT_TOLERANCE, "x / keep"
        )
        if passed:
            return Verdict(True, "", error)
        found = diagnoses.first_match(
            measured,
            [
                (x, words.NOT_SCALED),
                (x / (1 - keep), words.SCALED_BY_DROP),
                (x * keep, words.MULTIPLIED),
            ],
        )
        return Verdict(False, detail, error, found)

    return TestSpec("DropoutInvertedScalingTest", "dropout_forward", build, judge)


def test_mode_spec(p_means: str) -> TestSpec:
    """``DropoutTestModeTest``: test mode returns x unchanged."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = dropout_inputs(rng, small_shape(rng), p_means)
        param = {**inputs["param"], "mode": "test"}
        call = Call("dropout_forward", (inputs["x"], param), names=("the input x",))
        return Probe([call], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        i = probe.context
        out = forward_out(records[0])
        wrong = check_shape(out, i["x"])
        if wrong:
            return wrong
        passed, detail, error = compare("out", out, i["x"], EXACT_TOLERANCE, "x")
        if passed:
            return Verdict(True, "", error)
        if np.any(out == 0):
            return Verdict(False, detail, error, words.ACTIVE_IN_TEST)
        keep = i["keep"]
        found = diagnoses.first_match(
            out, [(i["x"] * keep, words.SCALES_IN_TEST), (i["x"] / keep, words.SCALES_IN_TEST)]
        )
        return Verdict(False, detail, error, found)

    return TestSpec("DropoutTestModeTest", "dropout_forward", build, judge)


def backward_spec(p_means: str) -> TestSpec:
    """``DropoutBackwardTest``: dx = dout * mask / keep with the forward's mask, twice."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = dropout_inputs(rng, small_shape(rng), p_means)
        cache = Ref("forward", 1)
        calls = [
            Call("dropout_forward", (inputs["x"], inputs["param"]), keep="forward"),
            Call("dropout_backward", (inputs["dout"], cache), names=("dout", "the cache")),
            Call("dropout_backward", (inputs["dout"], cache)),
        ]
        return Probe(calls, inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        i = probe.context
        out = forward_out(records[0])
        dx = as_array(records[1]["result"], "dx")
        wrong = check_shape(out, i["x"]) or check_shape(dx, i["x"], "dx")
        if wrong:
            return wrong
        mask = out != 0
        expected = i["dout"] * mask / i["keep"]
        passed, detail, error = compare("dx", dx, expected, EXACT_TOLERANCE, "dout * mask / keep")
        if passed:
            return repeat_verdict(as_array(records[2]["result"], "dx"), dx, "dx", error)
        dout = i["dout"]
        found = diagnoses.first_match(
            dx, [(dout, words.NO_MASK_IN_BACKWARD), (dout * mask, words.BACKWARD_NOT_SCALED)]
        )
        if found is None and np.any((dx != 0) != mask):
            found = words.NEW_MASK
        return Verdict(False, detail, error, found)

    return TestSpec("DropoutBackwardTest", "dropout_backward", build, judge)


def dropout_specs(p_means: str = words.KEEP) -> list[TestSpec]:
    """The four dropout tests; ``p_means`` is what ``dropout_param['p']`` means."""
    if p_means not in P_MEANINGS:
        raise ValueError(f"p_means must be 'keep' or 'drop', got {p_means!r}")
    return [
        statistics_spec(p_means),
        scaling_spec(p_means),
        test_mode_spec(p_means),
        backward_spec(p_means),
    ]
