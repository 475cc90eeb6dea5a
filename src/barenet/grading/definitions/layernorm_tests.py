"""Unit tests of layer normalisation, in CS231n's call form.

``layernorm_forward(x, gamma, beta, ln_param) -> (out, cache)`` normalises each sample
of ``x`` (N, D) over its D features (``ln_param = {'eps': ...}``), then scales by
``gamma`` and shifts by ``beta`` (D,); ``layernorm_backward(dout, cache) -> (dx,
dgamma, dbeta)``. There is no running statistic and no mode: the same in training
and evaluation. Four tests: the forward, dx (numerical, kink-aware), dgamma and
dbeta (exact; summed over the batch, since gamma is per feature).
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions import norm_diagnoses
from barenet.grading.definitions.layer_references import layernorm_out, normalized
from barenet.grading.definitions.norm_family import (
    NormFamily,
    draw_eps,
    family_specs,
    scale_shift,
    spread_features,
)

OVER_THE_BATCH = (
    "layer norm normalises over the batch axis (axis=0), which is batch norm: normalise "
    "each sample over its own features, mean and variance over axis=1 (keepdims=True)."
)
DPARAM_OVER_FEATURES = (
    "{name} is summed over the features (axis=1): gamma and beta are per feature, so "
    "their gradients sum over the batch, axis=0, shape (D,)."
)


def ln_inputs(rng: np.random.Generator) -> dict:
    """x (N, D) with N != D, whose samples have different means and spreads."""
    n, d = int(rng.integers(5, 9)), int(rng.integers(9, 13))
    x = spread_features(rng, (d, n)).T.copy()  # spread over samples, not features
    gamma, beta = scale_shift(rng, (d,))
    return {
        "x": x,
        "gamma": gamma,
        "beta": beta,
        "dout": rng.standard_normal((n, d)),
        "eps": draw_eps(rng),
    }


def reference(inputs: dict, x: np.ndarray) -> np.ndarray:
    return layernorm_out(x, inputs["gamma"], inputs["beta"], inputs["eps"])


def forward_mistakes(inputs: dict) -> list[tuple[np.ndarray, str]]:
    x, gamma, beta, eps = (inputs[k] for k in ("x", "gamma", "beta", "eps"))
    over_batch = (normalized(x, (0,), eps) * gamma + beta, OVER_THE_BATCH)
    return [over_batch] + norm_diagnoses.forward_mistakes(x, gamma, beta, eps, (1,))


def param_mistakes(inputs: dict, which: str) -> list[tuple[np.ndarray, str]]:
    x, eps, dout = inputs["x"], inputs["eps"], inputs["dout"]
    terms = dout * normalized(x, (1,), eps) if which == "dgamma" else dout
    over_features = (terms.sum(axis=1), DPARAM_OVER_FEATURES.format(name=which))
    return [over_features] + norm_diagnoses.param_mistakes(which, x, eps, dout, (1,), (0,))


LAYERNORM = NormFamily(
    prefix="LayerNorm",
    forward="layernorm_forward",
    backward="layernorm_backward",
    inputs=ln_inputs,
    arguments=lambda i: (i["x"], i["gamma"], i["beta"], {"eps": i["eps"]}),
    reference=reference,
    param_axes=(0,),
    forward_mistakes=forward_mistakes,
    dx_mistakes=lambda i: norm_diagnoses.dx_mistakes(i["x"], i["gamma"], i["eps"], i["dout"], (1,)),
    param_mistakes=param_mistakes,
    xhat=lambda i: normalized(i["x"], (1,), i["eps"]),
    forward_name="ForwardTest",
)


def layernorm_specs() -> list:
    """``LayerNormForwardTest`` and ``LayerNormBackwardTestDx`` / ``Dgamma`` / ``Dbeta``."""
    return family_specs(LAYERNORM)
