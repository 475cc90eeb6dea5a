"""Compiled passes of max pooling and of batch, group and layer normalisation.

The function forms (``max_pool_forward``, ``batchnorm_forward``, ...) are the readable
reference, a few NumPy operations each; each operation is a pass over memory on one
thread. The layer objects (``MaxPool2d``, ``BatchNorm2d``, ``GroupNorm``, ``LayerNorm``)
run the loops of :mod:`barenet.layers.kernels` instead, where they apply: one pass per
step, on every core (numba's ``prange``). Their results equal the reference's to float32
rounding (max pooling's exactly); ``tests/core/test_kernels.py`` compares the two.

What applies: float32 and float64 arrays in either memory order of an ``(N, C, H, W)``
map (contiguous NCHW, or the channels-last memory the convolution writes), or
C-contiguous ``(N, D)`` features; for max pooling, square windows with the stride
equal to the window. Anything else (other dtypes, other strides, overlapping windows)
goes to the function forms, as does everything where numba is not installed.

numba is imported, and the loops compiled (or loaded from numba's on-disk cache), the
first time a layer needs them; each loop has one compiled version per dtype.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

LOOPS = (
    "max_pool_loop",
    "max_pool_backward_loop",
    "channel_sums_loop",
    "normalize_loop",
    "grad_sums_loop",
    "normalize_backward_loop",
    "layernorm_loop",
    "layernorm_backward_loop",
)


@functools.lru_cache(maxsize=1)
def kernels() -> SimpleNamespace | None:
    """The loops of :mod:`barenet.layers.kernels` compiled with numba, or ``None``
    where numba is unavailable.

    Compiled lazily, per dtype, on first call; ``cache=True`` keeps the machine code on
    disk for the next process where the package's folder (or numba's user cache) is
    writable. ``error_model="numpy"``: a division by zero gives inf or nan, as in NumPy.
    """
    try:
        import numba

        from barenet.layers import kernels as loops
    except ImportError:
        return None
    options = {"parallel": True, "fastmath": False, "error_model": "numpy"}
    try:
        compile_ = numba.njit(cache=True, **options)
        return SimpleNamespace(**{name: compile_(getattr(loops, name)) for name in LOOPS})
    except RuntimeError:  # no writable cache location: compile in every process
        compile_ = numba.njit(**options)
        return SimpleNamespace(**{name: compile_(getattr(loops, name)) for name in LOOPS})


def compiled_dtype(*arrays: np.ndarray) -> bool:
    """Whether the loops take these arrays: one dtype, float32 or float64, no empty one,
    and numba installed."""
    dtype = arrays[0].dtype
    return (
        dtype in COMPILED_DTYPES
        and all(a.dtype == dtype and a.size > 0 for a in arrays)
        and kernels() is not None
    )


class Layout(NamedTuple):
    """How an array maps to the loops' canonical shape: its own ``shape`` and whether
    its memory is channels-last."""

    shape: tuple
    channels_last: bool


def layout_of(x: np.ndarray) -> Layout | None:
    """The memory order of ``x`` (N, C, H, W) or (N, D), or ``None`` when it is neither
    C-contiguous nor channels-last (a strided view: the function forms take it)."""
    if x.flags.c_contiguous:
        return Layout(x.shape, False)
    if x.ndim == 4 and x.transpose(0, 2, 3, 1).flags.c_contiguous:
        return Layout(x.shape, True)
    return None


def in_layout(a: np.ndarray, layout: Layout) -> np.ndarray:
    """``a`` (of ``layout.shape``) with ``layout``'s memory order, copied only if not."""
    if layout.channels_last:
        return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(a)


def empty_like_layout(layout: Layout, dtype, shape: tuple | None = None) -> np.ndarray:
    """A new array of ``shape`` (default ``layout.shape``) in ``layout``'s memory order."""
    shape = layout.shape if shape is None else shape
    if layout.channels_last:
        n, c, h, w = shape
        return np.empty((n, h, w, c), dtype).transpose(0, 3, 1, 2)
    return np.empty(shape, dtype)


def channel_view(a: np.ndarray, layout: Layout) -> np.ndarray:
    """``a`` (N, C, H, W) or (N, D), in ``layout``'s memory order, as the normalisation
    loops' C-contiguous ``(N, A, C, B)``: ``(N, H*W, C, 1)`` channels-last, ``(N, 1, C,
    H*W)`` NCHW, ``(N, 1, D, 1)`` features. A view, no copy."""
    n, c = a.shape[:2]
    if layout.channels_last:
        return a.transpose(0, 2, 3, 1).reshape(n, -1, c, 1)
    return a.reshape(n, 1, c, -1)


def pool_view(a: np.ndarray, layout: Layout) -> np.ndarray:
    """``a`` (N, C, H, W) in ``layout``'s memory order as the pooling loops' C-contiguous
    ``(A, H, W, C)``: ``(N, H, W, C)`` channels-last, ``(N * C, H, W, 1)`` NCHW."""
    n, c, h, w = a.shape
    if layout.channels_last:
        return a.transpose(0, 2, 3, 1)
    return a.reshape(n * c, h, w, 1)


def channel_sums(x4: np.ndarray, center: np.ndarray, square: bool = False) -> np.ndarray:
    """Sum over each ``(n, c)`` of ``x4 - center`` (or its square), float64 (N, C)."""
    sums = np.empty(center.shape, np.float64)
    kernels().channel_sums_loop(x4, center, square, sums)
    return sums


def grad_sums(dout4: np.ndarray, x4: np.ndarray, mean, inv_std) -> tuple[np.ndarray, np.ndarray]:
    """Sums over each ``(n, c)`` of ``dout`` and of ``dout * xhat``, float64 (N, C) each."""
    sum_dout, sum_dout_xhat = np.empty(mean.shape), np.empty(mean.shape)
    kernels().grad_sums_loop(dout4, x4, mean, inv_std, sum_dout, sum_dout_xhat)
    return sum_dout, sum_dout_xhat


def per_sample(values: np.ndarray, n: int, dtype) -> np.ndarray:
    """A per-channel ``(C,)`` array as the loops' per-sample ``(N, C)``, of ``dtype``."""
    return np.ascontiguousarray(np.broadcast_to(values.astype(dtype, copy=False), (n, values.size)))


class NormCache(NamedTuple):
    """The cache of a compiled normalisation pass: the input and its statistics.

    ``x`` is the layer's input (the backward pass recomputes ``xhat`` from it);
    ``mean`` and ``inv_std`` (N, C) are per sample and channel, in x's dtype; ``gamma``
    the layer's scale as given; ``extra``: batch norm's training flag or group norm's G.
    """

    x: np.ndarray
    mean: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    extra: bool | int


def normalize(x: np.ndarray, layout: Layout, mean, inv_std, gamma, beta) -> np.ndarray:
    """``(x - mean) * inv_std * gamma + beta`` in x's memory order; ``mean``, ``inv_std``
    (N, C) and ``gamma``, ``beta`` (C,) of x's dtype."""
    out = empty_like_layout(layout, x.dtype)
    kernels().normalize_loop(
        channel_view(x, layout), mean, inv_std, gamma, beta, channel_view(out, layout)
    )
    return out


def normalize_backward(
    dout: np.ndarray, cache: NormCache, layout: Layout, g, mean_dy, mean_dy_xhat, scale
) -> np.ndarray:
    """``dx = (dout * g - mean_dy - xhat * mean_dy_xhat) * scale`` in x's memory order."""
    dx = empty_like_layout(layout, cache.x.dtype)
    kernels().normalize_backward_loop(
        channel_view(dout, layout),
        channel_view(cache.x, layout),
        cache.mean,
        cache.inv_std,
        g,
        mean_dy,
        mean_dy_xhat,
        scale,
        channel_view(dx, layout),
    )
    return dx


def backward_input(dout: np.ndarray, cache: NormCache) -> tuple[np.ndarray, Layout]:
    """``dout`` in the memory order of the cached input (a copy only if it is not), of its
    dtype, and that layout."""
    layout = layout_of(cache.x)
    return in_layout(dout.astype(cache.x.dtype, copy=False), layout), layout


def group_means(sums: np.ndarray, groups: int, count: int, dtype) -> np.ndarray:
    """Per-channel sums (N, C) -> each channel's group mean (N, C) of ``dtype``: the
    sums of a group's ``C // groups`` channels divided by ``count``."""
    n, c = sums.shape
    means = (sums.reshape(n, groups, c // groups).sum(axis=2) / count).astype(dtype)
    return np.repeat(means, c // groups, axis=1)
