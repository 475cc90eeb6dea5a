"""Unit tests of spatial group normalisation, in CS231n's call form.

``spatial_groupnorm_forward(x, gamma, beta, G, gn_param) -> (out, cache)``: each
sample's C channels are split into G groups of consecutive channels, each group is
normalised over its channels and the whole map, then ``gamma`` and ``beta`` (shape
(1, C, 1, 1) as in CS231n; (C,) gradients are accepted) scale and shift each
channel. ``spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``. Four
tests: the forward, dx (numerical, kink-aware), dgamma and dbeta (exact).
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import norm_diagnoses
from barenet.grading.definitions.layer_references import groupnorm_out, normalized
from barenet.grading.definitions.norm_family import (
    NormFamily,
    draw_eps,
    family_specs,
    scale_shift,
    spread_features,
)

INTERLEAVED = (
    "the groups take every G-th channel (x.reshape(N, C // G, G, H, W)): a group is "
    "C // G consecutive channels, x.reshape(N, G, C // G, H, W), statistics over "
    "axis=(2, 3, 4)."
)
PER_CHANNEL = (
    "each channel is normalised on its own (instance norm): a group of C // G channels "
    "shares one mean and variance, over axis=(2, 3, 4) of x.reshape(N, G, C // G, H, W)."
)
ALL_CHANNELS = (
    "all channels of a sample are normalised together (G ignored, layer norm): split "
    "them into G groups, x.reshape(N, G, C // G, H, W)."
)
OVER_THE_BATCH = (
    "the statistics include the batch axis: group norm normalises each sample on its "
    "own, over axis=(2, 3, 4) of x.reshape(N, G, C // G, H, W)."
)


def gn_inputs(rng: np.random.Generator) -> dict:
    """x (N, C, H, W) with C = 6 or 8 and G = 2 (G = 3 or 4 would also divide)."""
    c = int(rng.choice([6, 8]))
    shape = (int(rng.integers(2, 4)), c, 3, int(rng.integers(3, 5)))
    gamma, beta = scale_shift(rng, (1, c, 1, 1))
    return {
        "x": spread_features(rng, shape),
        "gamma": gamma,
        "beta": beta,
        "G": 2,
        "dout": rng.standard_normal(shape),
        "eps": draw_eps(rng),
    }


def grouped(inputs: dict, key: str = "x") -> np.ndarray:
    """x (or dout) as (N, G, C // G, H, W)."""
    n, c, h, w = inputs["x"].shape
    g = inputs["G"]
    return inputs[key].reshape(n, g, c // g, h, w)


def grouped_params(inputs: dict) -> tuple[np.ndarray, np.ndarray]:
    c, g = inputs["x"].shape[1], inputs["G"]
    shape = (1, g, c // g, 1, 1)
    return inputs["gamma"].reshape(shape), inputs["beta"].reshape(shape)


def reference(inputs: dict, x: np.ndarray) -> np.ndarray:
    return groupnorm_out(x, inputs["gamma"], inputs["beta"], inputs["G"], inputs["eps"])


def forward_mistakes(inputs: dict) -> list[tuple[np.ndarray, str]]:
    x, gamma, beta, eps, g = (inputs[k] for k in ("x", "gamma", "beta", "eps", "G"))
    n, c, h, w = x.shape
    interleaved = normalized(x.reshape(n, c // g, g, h, w), (1, 3, 4), eps).reshape(x.shape)
    wrong = [
        (interleaved * gamma + beta, INTERLEAVED),
        (normalized(x, (2, 3), eps) * gamma + beta, PER_CHANNEL),
        (normalized(x, (1, 2, 3), eps) * gamma + beta, ALL_CHANNELS),
        (
            normalized(grouped(inputs), (0, 2, 3, 4), eps).reshape(x.shape) * gamma + beta,
            OVER_THE_BATCH,
        ),
    ]
    gg, gb = grouped_params(inputs)
    shared = norm_diagnoses.forward_mistakes(grouped(inputs), gg, gb, eps, (2, 3, 4))
    return wrong + [(value.reshape(x.shape), message) for value, message in shared]


def dx_mistakes(inputs: dict) -> list[tuple[np.ndarray, str]]:
    gg, _ = grouped_params(inputs)
    shared = norm_diagnoses.dx_mistakes(
        grouped(inputs), gg, inputs["eps"], grouped(inputs, "dout"), (2, 3, 4)
    )
    return [(value.reshape(inputs["x"].shape), message) for value, message in shared]


def xhat(inputs: dict) -> np.ndarray:
    return normalized(grouped(inputs), (2, 3, 4), inputs["eps"]).reshape(inputs["x"].shape)


def param_mistakes(inputs: dict, which: str) -> list[tuple[np.ndarray, str]]:
    dout, x = inputs["dout"], inputs["x"]
    terms = dout * xhat(inputs) if which == "dgamma" else dout
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mistakes = [
        (terms.sum(axis=(0, 2, 3)) / m, norm_diagnoses.PARAM_AVERAGED.format(name=which, m=m))
    ]
    if which == "dgamma":
        mistakes.append(((dout * x).sum(axis=(0, 2, 3)), norm_diagnoses.DPARAM_OF_X))
    return mistakes


GROUPNORM = NormFamily(
    prefix="GroupNorm",
    forward="spatial_groupnorm_forward",
    backward="spatial_groupnorm_backward",
    inputs=gn_inputs,
    arguments=lambda i: (i["x"], i["gamma"], i["beta"], i["G"], {"eps": i["eps"]}),
    reference=reference,
    param_axes=(0, 2, 3),
    forward_mistakes=forward_mistakes,
    dx_mistakes=dx_mistakes,
    param_mistakes=param_mistakes,
    xhat=xhat,
    forward_name="ForwardTest",
)


def groupnorm_specs() -> list:
    """``GroupNormForwardTest`` and ``GroupNormBackwardTestDx`` / ``Dgamma`` / ``Dbeta``."""
    return family_specs(GROUPNORM)
