"""Unit tests of batch normalisation, ``(N, D)`` and spatial ``(N, C, H, W)``.

CS231n's call forms: ``batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)``
with ``bn_param = {'mode', 'eps', 'momentum', 'running_mean', 'running_var'}``, whose
running statistics the training forward stores back (``momentum`` weighs the old
value), and ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``; the same for
``spatial_batchnorm_*``, which normalises each channel over ``(N, H, W)``.

Six tests each: the training forward, the running statistics after it, the test-mode
forward (running statistics, left unchanged), and dx (numerical, kink-aware), dgamma
and dbeta (exact). The momentum is drawn away from 0.5 and 0.9, so that a momentum
the wrong way round or hard-coded shows.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import batchnorm_diagnoses as bn_diagnoses
from barenet.grading.definitions import diagnoses, norm_diagnoses
from barenet.grading.definitions.gradient_checks import EXACT_TOLERANCE
from barenet.grading.definitions.layer_references import (
    batchnorm_out,
    batchnorm_test_out,
    channel_shape,
    normalized,
    running_stats,
)
from barenet.grading.definitions.norm_family import (
    NormFamily,
    draw_eps,
    family_specs,
    scale_shift,
    spread_features,
)
from barenet.grading.engine.records import as_array, compare, dict_value, items
from barenet.grading.engine.results import Verdict
from barenet.grading.engine.spec import Probe, TestSpec
from barenet.grading.sandboxed.learner_calls import Call

STAT_KEYS = ("running_mean", "running_var")


def flat_shape(rng: np.random.Generator) -> tuple[int, int]:
    """(N, D) with N != D, so that a sum over the wrong axis has the wrong shape."""
    return int(rng.integers(10, 15)), int(rng.integers(15, 20))


def image_shape(rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(N, C, H, W), small, with every size different."""
    return int(rng.integers(2, 4)), int(rng.integers(4, 6)), 4, int(rng.integers(6, 8)) - 1


def bn_inputs(rng: np.random.Generator, shape: tuple[int, ...]) -> dict:
    """x, gamma, beta (C,), dout, eps, momentum and the running statistics (C,)."""
    c = shape[1]
    gamma, beta = scale_shift(rng, (c,))
    return {
        "x": spread_features(rng, shape),
        "gamma": gamma,
        "beta": beta,
        "dout": rng.standard_normal(shape),
        "eps": draw_eps(rng),
        "momentum": float(rng.choice([rng.uniform(0.2, 0.4), rng.uniform(0.6, 0.8)])),
        "running_mean": rng.standard_normal(c),
        "running_var": rng.uniform(0.5, 2.0, c),
    }


def bn_param(inputs: dict, mode: str) -> dict:
    return {
        "mode": mode,
        "eps": inputs["eps"],
        "momentum": inputs["momentum"],
        "running_mean": inputs["running_mean"],
        "running_var": inputs["running_var"],
    }


def stat_axes(inputs: dict) -> tuple[int, ...]:
    return (0,) if inputs["x"].ndim == 2 else (0, 2, 3)


def broadcast(inputs: dict, key: str) -> np.ndarray:
    return inputs[key].reshape(channel_shape(inputs["x"]))


def reference(inputs: dict, x: np.ndarray) -> np.ndarray:
    return batchnorm_out(x, inputs["gamma"], inputs["beta"], inputs["eps"], stat_axes(inputs))


def forward_mistakes(inputs: dict) -> list[tuple[np.ndarray, str]]:
    x, eps, axes = inputs["x"], inputs["eps"], stat_axes(inputs)
    gamma, beta = broadcast(inputs, "gamma"), broadcast(inputs, "beta")
    wrong = bn_diagnoses.wrong_axes_outputs(x, gamma, beta, eps)
    return norm_diagnoses.forward_mistakes(x, gamma, beta, eps, axes) + wrong


def family(prefix: str, forward: str, backward: str, shape_of) -> NormFamily:
    def inputs(rng):
        return bn_inputs(rng, shape_of(rng))

    return NormFamily(
        prefix=prefix,
        forward=forward,
        backward=backward,
        inputs=inputs,
        arguments=lambda i: (i["x"], i["gamma"], i["beta"], bn_param(i, "train")),
        reference=reference,
        param_axes=(0,) if forward == "batchnorm_forward" else (0, 2, 3),
        forward_mistakes=forward_mistakes,
        dx_mistakes=lambda i: norm_diagnoses.dx_mistakes(
            i["x"], broadcast(i, "gamma"), i["eps"], i["dout"], stat_axes(i)
        ),
        param_mistakes=lambda i, which: norm_diagnoses.param_mistakes(
            which, i["x"], i["eps"], i["dout"], stat_axes(i), stat_axes(i)
        ),
        xhat=lambda i: normalized(i["x"], stat_axes(i), i["eps"]),
    )


def stored_stats(record: dict) -> dict[str, np.ndarray | None]:
    """bn_param's running statistics after the call (None where missing)."""
    after = (record.get("args_after") or [None] * 4)[3]
    stats = {}
    for key in STAT_KEYS:
        value = dict_value(after, key)
        stats[key] = None if value is None else as_array(value, f"bn_param['{key}']")
    return stats


def running_stats_spec(fam: NormFamily) -> TestSpec:
    """``<Prefix>RunningStatsTest``: bn_param's running statistics after a training forward."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = fam.inputs(rng)
        return Probe([Call(fam.forward, fam.arguments(inputs))], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs = probe.context
        expected = running_stats(
            inputs["x"],
            stat_axes(inputs),
            inputs["momentum"],
            inputs["running_mean"],
            inputs["running_var"],
        )
        stats = stored_stats(records[0])
        for key, want in zip(STAT_KEYS, expected, strict=True):
            if stats[key] is None:
                return Verdict(
                    False,
                    f"bn_param has no '{key}' after the training forward",
                    None,
                    bn_diagnoses.NOT_UPDATED,
                )
            passed, detail, error = compare(
                f"bn_param['{key}']", stats[key], want, EXACT_TOLERANCE, "the running average"
            )
            if not passed:
                found = diagnoses.first_match(
                    stats[key], bn_diagnoses.running_stat_mistakes(inputs, key, stat_axes(inputs))
                )
                return Verdict(False, detail, error, found)
        return Verdict(True, "", error)

    return TestSpec(f"{fam.prefix}RunningStatsTest", fam.forward, build, judge)


def test_mode_spec(fam: NormFamily) -> TestSpec:
    """``<Prefix>ForwardTestModeTest``: the running statistics normalise, and stay as they were."""

    def build(rng: np.random.Generator) -> Probe:
        inputs = fam.inputs(rng)
        args = (inputs["x"], inputs["gamma"], inputs["beta"], bn_param(inputs, "test"))
        return Probe([Call(fam.forward, args, names=("the input x", "gamma", "beta"))], inputs)

    def judge(probe: Probe, records: list[dict]) -> Verdict:
        inputs = probe.context
        out, _ = items(records[0]["result"], 2, f"{fam.forward} must return (out, cache)")
        out = as_array(out, "out")
        x, gamma, beta, eps = (inputs[k] for k in ("x", "gamma", "beta", "eps"))
        expected = batchnorm_test_out(
            x, gamma, beta, eps, inputs["running_mean"], inputs["running_var"]
        )
        passed, detail, error = compare("out", out, expected, EXACT_TOLERANCE, "the closed form")
        if not passed:
            found = diagnoses.first_match(out, bn_diagnoses.test_mode_mistakes(inputs, reference))
            return Verdict(False, detail, error, found)
        stats = stored_stats(records[0])
        for key in STAT_KEYS:
            if stats[key] is not None and not diagnoses.matches(stats[key], inputs[key]):
                return Verdict(
                    False,
                    f"bn_param['{key}'] changed in test mode",
                    error,
                    bn_diagnoses.UPDATED_IN_TEST_MODE,
                )
        return Verdict(True, "", error)

    return TestSpec(f"{fam.prefix}ForwardTestModeTest", fam.forward, build, judge)


BATCHNORM = family("BatchNorm", "batchnorm_forward", "batchnorm_backward", flat_shape)
SPATIAL_BATCHNORM = family(
    "SpatialBatchNorm", "spatial_batchnorm_forward", "spatial_batchnorm_backward", image_shape
)


def specs_of(fam: NormFamily) -> list[TestSpec]:
    forward, *gradients = family_specs(fam)
    return [forward, running_stats_spec(fam), test_mode_spec(fam), *gradients]


def batchnorm_specs() -> list[TestSpec]:
    """The six tests of ``batchnorm_forward`` / ``batchnorm_backward``."""
    return specs_of(BATCHNORM)


def spatial_batchnorm_specs() -> list[TestSpec]:
    """The six tests of ``spatial_batchnorm_forward`` / ``spatial_batchnorm_backward``."""
    return specs_of(SPATIAL_BATCHNORM)
