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
from types import ModuleType
from typing import NamedTuple

import numpy as np

from barenet.layers.base import Workspace, new_array

COMPILED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@functools.lru_cache(maxsize=1)
def kernels() -> ModuleType | None:
    """:mod:`barenet.layers.kernels`, whose loops numba compiles per dtype on first call
    (or loads from its on-disk cache), or ``None`` where numba is unavailable."""
    try:
        from barenet.layers import kernels as loops
    except ImportError:
        return None
    return loops


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


def empty_like_layout(
    layout: Layout,
    dtype,
    shape: tuple | None = None,
    workspace: Workspace | None = None,
    name: str = "out",
) -> np.ndarray:
    """A new array of ``shape`` (default ``layout.shape``) in ``layout``'s memory order,
    reused from ``workspace`` under ``name`` when nothing refers to it any more.

    Reuse matters here: a fresh array past glibc's reuse threshold (32 MiB, or less
    after a trim) is new pages, and on these machines each first write to a page costs
    about as much as the loops' own pass over it.
    """
    shape = layout.shape if shape is None else shape
    if layout.channels_last:
        n, c, h, w = shape
        return new_array(workspace, name, (n, h, w, c), dtype).transpose(0, 3, 1, 2)
    return new_array(workspace, name, shape, dtype)


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


def combine_moments(
    shift: np.ndarray, sums: np.ndarray, squares: np.ndarray, count: int, axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and biased variance of groups of parts, from each part's shifted sums.

    Part ``i`` (an entry of the (N, C) arrays) holds ``count`` values ``v``, summed as
    ``sums = sum(v - shift)`` and ``squares = sum((v - shift)^2)``. Each part's mean and
    sum of squared deviations, then Chan's combination of the parts along ``axis``
    (their squared deviations, plus ``count`` times the squared distance of each part's
    mean to the overall mean): no term cancels against another.

    Returns
    -------
    mean, var : float64 arrays, the shape of ``sums`` without ``axis``
    """
    part_mean = sums / count
    part_m2 = np.maximum(squares - sums * part_mean, 0.0)
    part_mean += shift
    mean = part_mean.mean(axis=axis)
    spread = np.square(part_mean - np.expand_dims(mean, axis)).sum(axis=axis)
    var = (part_m2.sum(axis=axis) + count * spread) / (count * sums.shape[axis])
    return mean, var


class NormCache(NamedTuple):
    """The cache of a compiled normalisation pass: the input and its statistics.

    ``x`` is the layer's input (the backward pass recomputes ``xhat`` from it); ``mean``
    and ``inv_std`` are of x's dtype, (C,) per channel for batch norm, (N, G) per sample
    and group for group and layer norm; ``gamma`` is the layer's scale as given;
    ``training``: whether the statistics came from this batch.
    """

    x: np.ndarray
    mean: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    training: bool


def backward_input(dout: np.ndarray, cache: NormCache) -> tuple[np.ndarray, Layout]:
    """``dout`` in the memory order of the cached input (a copy only if it is not), of its
    dtype, and that layout."""
    layout = layout_of(cache.x)
    return in_layout(dout.astype(cache.x.dtype, copy=False), layout), layout
