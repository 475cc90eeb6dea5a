"""The classic mistakes of max pooling, as ``(wrong value, sentence)`` pairs.

The gradient spread over the whole window, or sent to every tied maximum; the stride
ignored or taken for the window size; overlapping windows whose gradients overwrite
instead of adding up.
"""

from __future__ import annotations

import numpy as np

from barenet.grading.definitions.layer_references import max_pool_out, pool_windows

SPREAD_EVENLY = (
    "dx spreads each window's gradient evenly over the window (average pooling's "
    "gradient): max pooling sends dout only to the position of the window's maximum."
)
EVERY_POSITION = (
    "dx sends dout to every position of the window: only the maximum gets it, "
    "e.g. mask = (window == window.max()) for one maximum."
)
EVERY_TIED_MAX = (
    "with ties, dx sends dout to every tied maximum, so the window's gradient is counted "
    "more than once: send it to one maximum only (the first, as np.argmax picks)."
)
OVERWRITTEN = (
    "where windows overlap (stride < pool size), a later window overwrites the gradient of "
    "an earlier one: add each window's share, dx[window] += ..., instead of assigning."
)
STRIDE_IGNORED = (
    "the stride is ignored (the windows move by one pixel): step them by "
    "pool_param['stride'], rows i*stride and columns j*stride."
)
STRIDE_IS_POOL = (
    "the windows move by the pool size instead of the stride: step them by "
    "pool_param['stride'] (here smaller than the window, so windows overlap)."
)
SIZE_TOO_SMALL = (
    "the output is one row and column too small: Ho = 1 + (H - pool_height) // stride, "
    "and likewise Wo."
)
HEIGHT_WIDTH_SWAPPED = (
    "pool_height and pool_width are swapped: the window is pool_height rows by pool_width columns."
)


def forward_mistakes(x: np.ndarray, pool: tuple[int, int], stride: int):
    """Wrong outputs of max_pool_forward."""
    right = max_pool_out(x, pool, stride)
    mistakes = [(right[:, :, :-1, :-1], SIZE_TOO_SMALL)]
    if stride != 1:
        mistakes.append((max_pool_out(x, pool, 1), STRIDE_IGNORED))
    if stride != pool[0] and pool[0] == pool[1]:
        mistakes.append((max_pool_out(x, pool, pool[0]), STRIDE_IS_POOL))
    if pool[0] != pool[1]:
        mistakes.append((max_pool_out(x, pool[::-1], stride), HEIGHT_WIDTH_SWAPPED))
    return mistakes


def scatter(per_window: np.ndarray, x_shape: tuple, pool: tuple[int, int], stride: int):
    """dx from each window's share, per_window (N, C, Ho, Wo, PH * PW), added up."""
    ho, wo = per_window.shape[2:4]
    dx = np.zeros(x_shape)
    for k in range(pool[0] * pool[1]):
        i, j = divmod(k, pool[1])
        rows, cols = slice(i, i + stride * ho, stride), slice(j, j + stride * wo, stride)
        dx[:, :, rows, cols] += per_window[..., k]
    return dx


def overwritten(per_window: np.ndarray, x_shape: tuple, pool: tuple[int, int], stride: int):
    """The naive loop's bug: each output pixel ASSIGNS its window (row-major order)."""
    ho, wo = per_window.shape[2:4]
    dx = np.zeros(x_shape)
    for i in range(ho):
        for j in range(wo):
            block = per_window[:, :, i, j].reshape(*x_shape[:2], *pool)
            dx[:, :, i * stride : i * stride + pool[0], j * stride : j * stride + pool[1]] = block
    return dx


def backward_mistakes(x: np.ndarray, dout: np.ndarray, pool: tuple[int, int], stride: int):
    """Wrong dx of max_pool_backward."""
    windows = pool_windows(x, pool, stride)
    size = pool[0] * pool[1]
    is_max = windows == windows.max(axis=-1, keepdims=True)
    first = np.zeros_like(is_max)
    np.put_along_axis(first, windows.argmax(axis=-1)[..., None], True, axis=-1)
    share = dout[..., None]
    mistakes = [
        (
            scatter(np.broadcast_to(share / size, windows.shape), x.shape, pool, stride),
            SPREAD_EVENLY,
        ),
        (scatter(np.broadcast_to(share, windows.shape), x.shape, pool, stride), EVERY_POSITION),
        (scatter(np.where(is_max, share, 0.0), x.shape, pool, stride), EVERY_TIED_MAX),
    ]
    if stride < max(pool):
        mistakes.append(
            (overwritten(np.where(first, share, 0.0), x.shape, pool, stride), OVERWRITTEN)
        )
    return mistakes
