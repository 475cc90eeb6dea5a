"""Max, average and global average pooling over ``(N, C, H, W)`` batches.

Every window offset ``(i, j)`` of a ``PH x PW`` pool picks the strided slice
``x[:, :, i::stride, j::stride]`` of the input: pooling is ``PH * PW`` vectorised
operations over the whole batch (a loop over the window, never over pixels), and the
slices are views, so any memory order of ``x`` (the convolution's channels-last one
included) is read in place. For the usual 2x2 pool with stride 2 that is four
slices, each element read once. Outputs keep the input's memory order.

Output sizes are ``1 + (H - PH) // stride`` (and likewise for the width), as in
PyTorch: rows and columns that no window reaches get no gradient.
"""

from __future__ import annotations

import functools

import numpy as np

from barenet.layers import compiled
from barenet.layers.base import Cache, Layer, Workspace


def _pool_params(pool_param: dict, x_shape: tuple) -> tuple[int, int, int]:
    """``(pool_height, pool_width, stride)`` from ``pool_param``, checked against x."""
    if not isinstance(pool_param, dict):
        raise ValueError(
            "pool_param must be a dict {'pool_height', 'pool_width', 'stride'}; "
            f"got {pool_param!r}"
        )
    missing = {"pool_height", "pool_width", "stride"} - set(pool_param)
    if missing:
        raise ValueError(f"pool_param: missing keys {sorted(missing)}")
    values = [pool_param[k] for k in ("pool_height", "pool_width", "stride")]
    for key, value in zip(("pool_height", "pool_width", "stride"), values, strict=True):
        if int(value) != value or value < 1:
            raise ValueError(f"pool_param: {key} must be an integer >= 1, got {value!r}")
    ph, pw, stride = (int(v) for v in values)
    if len(x_shape) != 4:
        raise ValueError(f"pooling: x must have shape (N, C, H, W); got {x_shape}")
    if ph > x_shape[2] or pw > x_shape[3]:
        raise ValueError(
            f"pool_param: the {ph}x{pw} window is larger than the input's {x_shape[2]}x"
            f"{x_shape[3]} (H x W)"
        )
    return ph, pw, stride


def _windows(x_shape: tuple, ph: int, pw: int, stride: int):
    """Output size and, for each window offset, the input slice it reads."""
    ho = 1 + (x_shape[2] - ph) // stride
    wo = 1 + (x_shape[3] - pw) // stride
    h_end, w_end = stride * (ho - 1) + 1, stride * (wo - 1) + 1
    offsets = [
        (slice(None), slice(None), slice(i, i + h_end, stride), slice(j, j + w_end, stride))
        for i in range(ph)
        for j in range(pw)
    ]
    return (ho, wo), offsets


def _grad_buffer(x_shape: tuple, dtype, like: np.ndarray, covered: bool) -> np.ndarray:
    """The input-gradient array, in ``like``'s memory order (zeros unless fully written)."""
    dx = np.empty(x_shape, dtype=dtype) if like.shape != x_shape else np.empty_like(like, dtype)
    if not covered:
        dx.fill(0)
    return dx


def max_pool_forward(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, Cache]:
    """Max pooling.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``{'pool_height': PH, 'pool_width': PW, 'stride': S}``.

    Returns
    -------
    out : ndarray, shape (N, C, Ho, Wo), dtype and memory order of ``x``
    cache : tuple
        ``(argmax, x, (PH, PW, S))``: ``argmax`` (N, C, Ho, Wo), uint8 or int32, is the
        row-major index inside each window of its *first* maximum: with ties the
        gradient goes to that one entry.
    """
    ph, pw, stride = _pool_params(pool_param, np.shape(x))
    # >>> exercise: max_pool_forward
    _, offsets = _windows(x.shape, ph, pw, stride)
    out = np.array(x[offsets[0]], order="K")
    index_dtype = np.uint8 if ph * pw < 256 else np.int32
    argmax = np.zeros(out.shape, dtype=index_dtype)
    larger = np.empty(out.shape, dtype=bool)
    for k, window in enumerate(offsets[1:], start=1):
        candidate = x[window]
        np.greater(candidate, out, out=larger)  # strict: the first maximum wins a tie
        np.maximum(out, candidate, out=out)
        np.copyto(argmax, k, where=larger)
    return out, (argmax, x, (ph, pw, stride))
    # <<< exercise


def max_pool_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Route each window's gradient to its (first) maximum.

    Parameters
    ----------
    dout : ndarray, shape (N, C, Ho, Wo)
    cache : tuple from :func:`max_pool_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    # >>> exercise: max_pool_backward
    argmax, x, (ph, pw, stride) = cache
    _, offsets = _windows(x.shape, ph, pw, stride)
    tiles = stride == ph == pw and x.shape[2] % ph == 0 and x.shape[3] % pw == 0
    dx = _grad_buffer(x.shape, dout.dtype, x, covered=tiles)
    for k, window in enumerate(offsets):
        if tiles:  # windows do not overlap: write each slice once
            np.multiply(dout, argmax == k, out=dx[window])
        else:
            dx[window] += dout * (argmax == k)
    return dx
    # <<< exercise


def max_pool_window_argmax(x: np.ndarray, pool_param: dict) -> np.ndarray:
    """Index of the maximum inside each pooling window, shape (N, C, Ho, Wo).

    The discrete state of max pooling: where it changes between two inputs, the
    pooling is not differentiable in between (see :mod:`barenet.gradcheck`).
    """
    return max_pool_forward(x, pool_param)[1][0]


def avg_pool_forward(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, Cache]:
    """Average pooling (every window's mean).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``{'pool_height': PH, 'pool_width': PW, 'stride': S}``.

    Returns
    -------
    out : ndarray, shape (N, C, Ho, Wo), dtype of ``x``
    cache : tuple
        ``(x.shape, (PH, PW, S))``.
    """
    ph, pw, stride = _pool_params(pool_param, np.shape(x))
    _, offsets = _windows(x.shape, ph, pw, stride)
    out = np.array(x[offsets[0]], order="K")
    for window in offsets[1:]:
        out += x[window]
    out *= out.dtype.type(1.0 / (ph * pw))
    return out, (x.shape, (ph, pw, stride))


def avg_pool_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """Spread each window's gradient evenly over it.

    Parameters
    ----------
    dout : ndarray, shape (N, C, Ho, Wo)
    cache : tuple from :func:`avg_pool_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x_shape, (ph, pw, stride) = cache
    _, offsets = _windows(x_shape, ph, pw, stride)
    share = dout * dout.dtype.type(1.0 / (ph * pw))
    tiles = stride == ph == pw and x_shape[2] % ph == 0 and x_shape[3] % pw == 0
    dx = _grad_buffer(x_shape, share.dtype, share, covered=tiles)
    for window in offsets:
        if tiles:
            dx[window] = share
        else:
            dx[window] += share
    return dx


def global_avg_pool_forward(x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Mean of every channel over its whole map.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)

    Returns
    -------
    out : ndarray, shape (N, C), dtype of ``x``
    cache : tuple
        ``(x.shape,)``.
    """
    if np.ndim(x) != 4:
        raise ValueError(
            f"global_avg_pool_forward: x must have shape (N, C, H, W); got {np.shape(x)}"
        )
    return x.mean(axis=(2, 3), dtype=x.dtype), (x.shape,)


def global_avg_pool_backward(dout: np.ndarray, cache: Cache) -> np.ndarray:
    """``dout / (H * W)`` broadcast over every map.

    Parameters
    ----------
    dout : ndarray, shape (N, C)
    cache : tuple from :func:`global_avg_pool_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), a fresh writable array
    """
    (x_shape,) = cache
    dx = np.empty(x_shape, dtype=dout.dtype)
    dx[...] = (dout * dout.dtype.type(1.0 / (x_shape[2] * x_shape[3])))[:, :, None, None]
    return dx


def compiled_max_pool_forward(
    x: np.ndarray, pool_param: dict, workspace: Workspace | None = None
) -> tuple[np.ndarray, Cache] | None:
    """:func:`max_pool_forward` in one compiled pass, or ``None`` where it does not apply.

    It applies to float32 and float64 ``x`` in either memory order (see
    :mod:`barenet.layers.compiled`) with ``pool_height == pool_width == stride``. The
    output, the cache and their values are the function form's; ``argmax`` has the
    output's memory order. Arrays are reused from ``workspace`` where that is safe.
    """
    ph, pw, stride = _pool_params(pool_param, np.shape(x))
    if not (ph == pw == stride < 16 and isinstance(x, np.ndarray) and compiled.compiled_dtype(x)):
        return None
    layout = compiled.layout_of(x)
    if layout is None:
        return None
    n, c, h, w = x.shape
    shape = (n, c, h // ph, w // ph)
    out = compiled.empty_like_layout(layout, x.dtype, shape, workspace, "out")
    argmax = compiled.empty_like_layout(layout, np.uint8, shape, workspace, "argmax")
    view = functools.partial(compiled.pool_view, layout=layout)
    compiled.kernels().max_pool_loop(view(x), ph, view(out), view(argmax))
    return out, (argmax, x, (ph, pw, stride))


def compiled_max_pool_backward(
    dout: np.ndarray, cache: Cache, workspace: Workspace | None = None
) -> np.ndarray | None:
    """:func:`max_pool_backward` in one compiled pass, or ``None`` where it does not apply
    (the cache of an overlapping pool, another dtype, a strided input)."""
    argmax, x, (ph, pw, stride) = cache
    layout = compiled.layout_of(x)
    if not (
        ph == pw == stride
        and argmax.dtype == np.uint8
        and layout is not None
        and isinstance(dout, np.ndarray)
        and compiled.compiled_dtype(dout)
    ):
        return None
    dtype = dout.dtype
    dx = compiled.empty_like_layout(layout, dtype, None, workspace, "dx")
    if x.shape[2] % ph or x.shape[3] % ph:  # rows or columns no window reaches
        dx.fill(0)
    compiled.kernels().max_pool_backward_loop(
        compiled.pool_view(compiled.in_layout(dout, layout), layout),
        compiled.pool_view(compiled.in_layout(argmax, layout), layout),
        ph,
        np.array([0, 1], dtype),
        compiled.pool_view(dx, layout),
    )
    return dx


class MaxPool2d(Layer):
    """Max pooling over ``kernel_size x kernel_size`` windows (stride defaults to the size).

    Parameters
    ----------
    kernel_size : int
    stride : int, optional
    """

    _forward = staticmethod(max_pool_forward)
    _backward = staticmethod(max_pool_backward)
    # The compiled passes of these two, used where they apply (float32/64, stride equal
    # to the window); a subclass that defines its own ``_forward`` runs that instead.
    _compiled = (compiled_max_pool_forward, compiled_max_pool_backward)

    def __init__(self, kernel_size: int = 2, stride: int | None = None):
        super().__init__()
        stride = kernel_size if stride is None else stride
        self.pool_param = {"pool_height": kernel_size, "pool_width": kernel_size, "stride": stride}

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """``x`` (N, C, H, W) -> ``out`` (N, C, Ho, Wo), compiled where that applies."""
        passes = self._compiled_passes()
        result = passes[0](x, self.pool_param, self._workspace()) if passes else None
        return self._forward(x, self.pool_param) if result is None else result

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        """``dx`` (N, C, H, W), compiled where that applies."""
        passes = self._compiled_passes()
        dx = passes[1](dout, cache, self._workspace()) if passes else None
        return self._backward(dout, cache) if dx is None else dx

    def config(self) -> dict:
        return {"kernel_size": self.pool_param["pool_height"], "stride": self.pool_param["stride"]}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.pool_param['pool_height']}, stride={self.pool_param['stride']})"


class AvgPool2d(MaxPool2d):
    """Average pooling over ``kernel_size x kernel_size`` windows (no compiled passes:
    NumPy's four slice additions already beat PyTorch here)."""

    _forward = staticmethod(avg_pool_forward)
    _backward = staticmethod(avg_pool_backward)


class GlobalAvgPool2d(Layer):
    """The mean of each channel over its map: ``(N, C, H, W) -> (N, C)``."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        return global_avg_pool_forward(x)

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        return global_avg_pool_backward(dout, cache)

    def __repr__(self) -> str:
        return "GlobalAvgPool2d()"
