"""The classic mistakes of the normalisation layers (batch, spatial batch, layer, group norm).

Each function returns ``(wrong value, sentence)`` pairs: the value a known mistake gives
on the test's inputs, and what to change. A test names the first one the learner's
array equals (see :func:`barenet.grading.definitions.diagnoses.first_match`). ``axes``
are the axes the statistics are taken over (batch norm ``(0,)``, spatial batch norm
``(0, 2, 3)``, layer norm ``(1, ..., k)``); ``gamma`` and ``beta`` come broadcastable.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions.layer_references import normalized

UNBIASED_VARIANCE = (
    "the variance is the unbiased one (divided by M - 1, np.var(ddof=1) or torch.var): "
    "normalise with the biased variance, divided by the number of values M "
    "(x.var(axis=...) or np.mean((x - mean) ** 2, axis=...))."
)
EPS_OUTSIDE_SQRT = (
    "eps is added outside the square root, (x - mean) / (sqrt(var) + eps): "
    "it belongs inside, (x - mean) / np.sqrt(var + eps)."
)
EPS_IGNORED = (
    "eps is not the one given: read it from the parameter dict (param.get('eps', 1e-5)) "
    "instead of a fixed 1e-5."
)
NO_SCALE_SHIFT = "gamma and beta are not applied: out = gamma * xhat + beta."
SHIFT_SCALE_SWAPPED = "gamma and beta are swapped: out = gamma * xhat + beta (gamma scales)."
STATS_CONSTANT = (
    "dx is gamma * dout / sqrt(var + eps): it treats the mean and the variance as "
    "constants, but both depend on x. Add the paths through the mean and the variance: "
    "dx = gamma / sqrt(var + eps) / M * (M * dout - sum(dout) - xhat * sum(dout * xhat))."
)
MISSING_VARIANCE_PATH = (
    "dx misses the path through the variance: the term - xhat * mean(dout * xhat) "
    "(dvar = sum(dxhat * (x - mean)) * -0.5 * (var + eps) ** -1.5, then dvar * 2 * "
    "(x - mean) / M into dx) is missing."
)
MISSING_MEAN_PATH = (
    "dx misses the path through the mean: the term - mean(dout) (dmean = -sum(dxhat) / "
    "sqrt(var + eps), then dmean / M into dx) is missing."
)
DX_WITHOUT_GAMMA = "dx is missing the factor gamma: dxhat = dout * gamma comes first."
DPARAM_OF_X = "dgamma multiplies dout by x: it is sum(dout * xhat), with the normalised xhat."
PARAM_AVERAGED = (
    "{name} is averaged over the {m} values it sums (divided by M): the sum is the "
    "gradient, and the loss already averages over the batch."
)


def forward_mistakes(
    x: np.ndarray, gamma, beta, eps: float, axes: tuple[int, ...]
) -> list[tuple[np.ndarray, str]]:
    """Wrong training-mode outputs any normaliser can give."""
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    xhat = normalized(x, axes, eps)
    return [
        (normalized(x, axes, eps, ddof=1) * gamma + beta, UNBIASED_VARIANCE),
        ((x - mean) / (np.sqrt(var) + eps) * gamma + beta, EPS_OUTSIDE_SQRT),
        (normalized(x, axes, 1e-5) * gamma + beta, EPS_IGNORED),
        (xhat, NO_SCALE_SHIFT),
        (xhat * beta + gamma, SHIFT_SCALE_SWAPPED),
    ]


def dx_mistakes(
    x: np.ndarray, gamma, eps: float, dout: np.ndarray, axes: tuple[int, ...]
) -> list[tuple[np.ndarray, str]]:
    """Wrong ``dx`` of a normaliser: a path of the computational graph left out."""
    xhat = normalized(x, axes, eps)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    dxhat = dout * gamma

    def mean(v):
        return v.mean(axis=axes, keepdims=True)

    return [
        (dxhat * inv_std, STATS_CONSTANT),
        ((dxhat - mean(dxhat)) * inv_std, MISSING_VARIANCE_PATH),
        ((dxhat - xhat * mean(dxhat * xhat)) * inv_std, MISSING_MEAN_PATH),
        ((dout - mean(dout) - xhat * mean(dout * xhat)) * inv_std, DX_WITHOUT_GAMMA),
    ]


def param_mistakes(
    which: str, x: np.ndarray, eps: float, dout: np.ndarray, norm_axes, sum_axes
) -> list[tuple[np.ndarray, str]]:
    """Wrong ``dgamma`` or ``dbeta``, summed over ``sum_axes`` (the axes gamma is shared on)."""
    xhat = normalized(x, norm_axes, eps)
    terms = dout * xhat if which == "dgamma" else dout
    m = int(np.prod([x.shape[a] for a in sum_axes]))
    total = terms.sum(axis=sum_axes)
    mistakes = [(total / m, PARAM_AVERAGED.format(name=which, m=m))]
    if which == "dgamma":
        mistakes.append(((dout * x).sum(axis=sum_axes), DPARAM_OF_X))
    return mistakes


def wrong_axes(name: str, used: tuple[int, ...], right: tuple[int, ...], layout: str) -> str:
    """The sentence for statistics taken over the wrong axes."""
    return (
        f"{name} takes its mean and variance over axis {used} of {layout}; they belong "
        f"over axis {right}."
    )
