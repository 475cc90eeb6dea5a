"""The grader's own closed forms of the new layers, in float64, written for clarity.

The tests compare a learner's arrays with these, never with barenet's layers: the
oracle of a test must not share code with what it grades (a mutant of barenet's
convolution is graded against this one). Speed does not matter here: the test
inputs are a few hundred numbers. Images are ``(N, C, H, W)``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_windows(x: np.ndarray, kernel: tuple[int, int], stride: int, pad: int) -> np.ndarray:
    """Every patch a convolution reads: ``(N, C, Ho, Wo, HH, WW)``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel : (HH, WW)
    stride, pad : int
    """
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return sliding_window_view(xp, kernel, axis=(2, 3))[:, :, ::stride, ::stride]


def conv_out(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> np.ndarray:
    """Cross-correlation of x (N, C, H, W) with w (F, C, HH, WW) plus b (F,): (N, F, Ho, Wo)."""
    windows = conv_windows(x, w.shape[2:], stride, pad)
    return np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]


def conv_grads(
    x: np.ndarray, w: np.ndarray, dout: np.ndarray, stride: int, pad: int
) -> dict[str, np.ndarray]:
    """Exact ``dx`` (N, C, H, W), ``dw`` (F, C, HH, WW), ``db`` (F,) of ``sum(out * dout)``."""
    kh, kw = w.shape[2:]
    ho, wo = dout.shape[2:]
    windows = conv_windows(x, (kh, kw), stride, pad)
    dxp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * pad, x.shape[3] + 2 * pad))
    for i in range(kh):  # each kernel offset adds its share to a strided slice
        for j in range(kw):
            rows, cols = slice(i, i + stride * ho, stride), slice(j, j + stride * wo, stride)
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    return {
        "dx": dxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]],
        "dw": np.einsum("nchwij,nfhw->fcij", windows, dout),
        "db": dout.sum(axis=(0, 2, 3)),
    }


def pool_windows(x: np.ndarray, pool: tuple[int, int], stride: int) -> np.ndarray:
    """Every pooling window, flattened row-major: ``(N, C, Ho, Wo, PH * PW)``."""
    ho = 1 + (x.shape[2] - pool[0]) // stride
    wo = 1 + (x.shape[3] - pool[1]) // stride
    offsets = [
        x[:, :, i : i + stride * ho : stride, j : j + stride * wo : stride]
        for i in range(pool[0])
        for j in range(pool[1])
    ]
    return np.stack(offsets, axis=-1)


def max_pool_out(x: np.ndarray, pool: tuple[int, int], stride: int) -> np.ndarray:
    """Max pooling: (N, C, H, W) -> (N, C, Ho, Wo)."""
    return pool_windows(x, pool, stride).max(axis=-1)


def max_pool_argmax(x: np.ndarray, pool: tuple[int, int], stride: int) -> np.ndarray:
    """Row-major index of each window's first maximum, (N, C, Ho, Wo): pooling's kinks."""
    return pool_windows(x, pool, stride).argmax(axis=-1)


def max_pool_dx(x: np.ndarray, dout: np.ndarray, pool: tuple[int, int], stride: int):
    """Exact gradient of max pooling: each window's dout to its first maximum, (N, C, H, W)."""
    argmax = max_pool_argmax(x, pool, stride)
    ho, wo = dout.shape[2:]
    dx = np.zeros_like(x, dtype=np.float64)
    for k in range(pool[0] * pool[1]):
        i, j = divmod(k, pool[1])
        rows, cols = slice(i, i + stride * ho, stride), slice(j, j + stride * wo, stride)
        dx[:, :, rows, cols] += np.where(argmax == k, dout, 0.0)
    return dx


def normalized(x: np.ndarray, axes: tuple[int, ...], eps: float, ddof: int = 0) -> np.ndarray:
    """``(x - mean) / sqrt(var + eps)`` over ``axes`` (biased variance unless ``ddof``)."""
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True, ddof=ddof)
    return (x - mean) / np.sqrt(var + eps)


def channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """The shape that broadcasts a per-channel (C,) array over x: (1, C) or (1, C, 1, 1)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batchnorm_out(x, gamma, beta, eps: float, axes: tuple[int, ...]) -> np.ndarray:
    """Batch norm in training mode, per channel over ``axes``."""
    shape = channel_shape(x)
    return normalized(x, axes, eps) * gamma.reshape(shape) + beta.reshape(shape)


def batchnorm_test_out(x, gamma, beta, eps: float, running_mean, running_var) -> np.ndarray:
    """Batch norm in test mode: the running statistics, (C,) each, in place of the batch's."""
    shape = channel_shape(x)
    xhat = (x - running_mean.reshape(shape)) / np.sqrt(running_var.reshape(shape) + eps)
    return xhat * gamma.reshape(shape) + beta.reshape(shape)


def running_stats(x, axes, momentum: float, running_mean, running_var) -> tuple:
    """CS231n's update: ``momentum * old + (1 - momentum) * batch`` (biased batch variance)."""
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    return (
        momentum * running_mean + (1 - momentum) * mean,
        momentum * running_var + (1 - momentum) * var,
    )


def layernorm_out(x, gamma, beta, eps: float) -> np.ndarray:
    """Layer norm: each sample over all its features; gamma, beta of x.shape[1:]."""
    return normalized(x, tuple(range(1, x.ndim)), eps) * gamma + beta


def groupnorm_out(x, gamma, beta, groups: int, eps: float) -> np.ndarray:
    """Group norm of (N, C, H, W): G groups of consecutive channels, per sample."""
    n, c, h, w = x.shape
    xhat = normalized(x.reshape(n, groups, c // groups, h, w), (2, 3, 4), eps).reshape(x.shape)
    shape = (1, c, 1, 1)
    return xhat * gamma.reshape(shape) + beta.reshape(shape)
