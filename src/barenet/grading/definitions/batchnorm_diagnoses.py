"""The classic mistakes of batch normalisation: axes, running statistics, test mode.

Each function returns ``(wrong value, sentence)`` pairs for
:func:`barenet.grading.definitions.diagnoses.first_match`; the mistakes every
normaliser shares (variance, eps, the backward's paths) are in :mod:`.norm_diagnoses`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from barenet.grading.definitions.layer_references import channel_shape, normalized
from barenet.grading.definitions.norm_diagnoses import wrong_axes

NOT_UPDATED = (
    "the running statistics are not updated in train mode: after the batch's mean and "
    "variance, store bn_param['running_mean'] = momentum * running_mean + (1 - momentum) * "
    "mean, and the same for running_var."
)
MOMENTUM_REVERSED = (
    "the momentum is the wrong way round: momentum weighs the OLD running value, "
    "running = momentum * running + (1 - momentum) * batch statistic (PyTorch's momentum "
    "is the other way round)."
)
REPLACED = (
    "the running statistic is replaced by the batch's instead of averaged with it: "
    "running = momentum * running + (1 - momentum) * batch statistic."
)
RESTARTED = (
    "the running statistics start from zero on every call: take them from "
    "bn_param.get('running_mean', zeros) when they are there."
)
RUNNING_UNBIASED = (
    "running_var averages the unbiased variance (divided by M - 1): here it averages "
    "the same biased variance the normalisation uses (divided by M)."
)
HARD_CODED_MOMENTUM = "the momentum is fixed at 0.9: read it from bn_param.get('momentum', 0.9)."
UPDATED_IN_TEST_MODE = (
    "the running statistics are updated in test mode: only the training forward updates "
    "them; the test forward only reads them."
)
BATCH_STATS_IN_TEST = (
    "test mode normalises with the batch's own mean and variance: use the running "
    "statistics, (x - running_mean) / np.sqrt(running_var + eps)."
)
TEST_EPS_OUTSIDE = (
    "eps is added outside the square root in test mode: (x - running_mean) / "
    "np.sqrt(running_var + eps)."
)
RESHAPED_WITHOUT_TRANSPOSE = (
    "x is reshaped to (N * H * W, C) without moving the channel axis last first, so each "
    "'feature' mixes channels: transpose to (N, H, W, C), reshape to (-1, C), normalise, "
    "then reshape and transpose back (or take the statistics over axis=(0, 2, 3))."
)


def spatial_axes_mistakes(x, gamma, beta, eps) -> list[tuple[np.ndarray, str]]:
    """(N, C, H, W): statistics over the wrong axes, or channels mixed by a reshape."""
    layout = "(N, C, H, W)"
    candidates = []
    for axes in ((0,), (2, 3), (1, 2, 3), (0, 1, 2, 3), (0, 2), (0, 3)):
        message = wrong_axes("spatial batch norm", axes, (0, 2, 3), layout)
        candidates.append((normalized(x, axes, eps) * gamma + beta, message))
    c = x.shape[1]
    flat = normalized(x.reshape(-1, c), (0,), eps) * gamma.reshape(1, c) + beta.reshape(1, c)
    candidates.append((flat.reshape(x.shape), RESHAPED_WITHOUT_TRANSPOSE))
    return candidates


def wrong_axes_outputs(x, gamma, beta, eps) -> list[tuple[np.ndarray, str]]:
    """Training outputs normalised over the wrong axes."""
    if x.ndim == 4:
        return spatial_axes_mistakes(x, gamma, beta, eps)
    message = wrong_axes("batch norm", (1,), (0,), "(N, D)") + (
        " Normalising each sample over its features is layer norm."
    )
    return [(normalized(x, (1,), eps) * gamma + beta, message)]


def running_stat_mistakes(inputs: dict, key: str, axes) -> list[tuple[np.ndarray, str]]:
    """Wrong running statistics after one training forward."""
    x, m = inputs["x"], inputs["momentum"]
    old = inputs[key]
    batch = x.mean(axis=axes) if key == "running_mean" else x.var(axis=axes)
    mistakes = [
        (old, NOT_UPDATED),
        ((1 - m) * old + m * batch, MOMENTUM_REVERSED),
        (batch, REPLACED),
        ((1 - m) * batch, RESTARTED),
        (0.9 * old + 0.1 * batch, HARD_CODED_MOMENTUM),
    ]
    if key == "running_var":
        unbiased = x.var(axis=axes, ddof=1)
        mistakes.append((m * old + (1 - m) * unbiased, RUNNING_UNBIASED))
    return mistakes


def test_mode_mistakes(inputs: dict, train_reference: Callable) -> list[tuple[np.ndarray, str]]:
    """Wrong test-mode outputs."""
    x, eps = inputs["x"], inputs["eps"]
    shape = channel_shape(x)
    mean = inputs["running_mean"].reshape(shape)
    var = inputs["running_var"].reshape(shape)
    gamma, beta = inputs["gamma"].reshape(shape), inputs["beta"].reshape(shape)
    return [
        (train_reference(inputs, x), BATCH_STATS_IN_TEST),
        ((x - mean) / (np.sqrt(var) + eps) * gamma + beta, TEST_EPS_OUTSIDE),
    ]
