"""Layer normalisation and group normalisation, and the normalisation step they share.

Both normalise each sample on its own (no running statistics, the same in training and
evaluation): layer norm over all of a sample's features, group norm over the channels
of one group and the whole map. ``gamma`` and ``beta`` then scale and shift each
feature or channel. Batch normalisation, which normalises each feature over the batch,
is in :mod:`barenet.layers.batchnorm`.

With ``xhat = (x - mean) * inv_std`` over the normalised axes (``M`` values), the
gradient of the normalisation is, in closed form,
``dx = inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))``.
"""

from __future__ import annotations

import numpy as np

from barenet.layers import compiled
from barenet.layers.base import Cache, Layer, Workspace, new_array


def check_eps(param: dict, name: str) -> float:
    """``param['eps']`` (default 1e-5), checked to be > 0."""
    if not isinstance(param, dict):
        raise ValueError(f"{name} must be a dict such as {{'eps': 1e-5}}; got {param!r}")
    eps = param.get("eps", 1e-5)
    if not eps > 0:
        raise ValueError(f"{name}: eps must be > 0, got {eps!r}")
    return float(eps)


def normalize(x: np.ndarray, axes: tuple, eps: float) -> tuple[np.ndarray, ...]:
    """``xhat = (x - mean) / sqrt(var + eps)`` over ``axes`` (biased variance).

    Parameters
    ----------
    x : ndarray, any shape
    axes : tuple of int
    eps : float

    Returns
    -------
    xhat : ndarray, shape, dtype and memory order of ``x``
    inv_std, mean, var : ndarray, ``x``'s shape with 1 on ``axes``
    """
    mean = x.mean(axis=axes, keepdims=True, dtype=x.dtype)
    xhat = x - mean
    var = np.square(xhat).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(eps))
    xhat *= inv_std  # xhat is a fresh array: scale it in place
    return xhat, inv_std, mean, var


def normalize_backward(
    dxhat: np.ndarray, xhat: np.ndarray, inv_std: np.ndarray, axes: tuple
) -> np.ndarray:
    """Gradient of :func:`normalize` wrt ``x`` from the gradient wrt ``xhat``.

    Parameters
    ----------
    dxhat, xhat : ndarray, same shape
    inv_std : ndarray, broadcastable to it, 1 on ``axes``
    axes : tuple of int

    Returns
    -------
    dx : ndarray, shape of ``xhat``
    """
    mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axes, keepdims=True)
    dx = dxhat - mean_dxhat
    dx -= xhat * mean_dxhat_xhat
    dx *= inv_std
    return dx


def _check_affine_params(gamma, beta, shape: tuple, name: str) -> None:
    if np.shape(gamma) != shape or np.shape(beta) != shape:
        raise ValueError(
            f"{name}: gamma and beta must have shape {shape}; got gamma {np.shape(gamma)} "
            f"and beta {np.shape(beta)}"
        )


def layernorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, ln_param: dict
) -> tuple[np.ndarray, Cache]:
    """Layer normalisation: each sample normalised over all its features.

    Parameters
    ----------
    x : ndarray, shape (N, D) or (N, d1, ..., dk)
    gamma, beta : ndarray, shape x.shape[1:]
        Per-feature scale and shift.
    ln_param : dict
        ``{'eps': 1e-5}`` (optional).

    Returns
    -------
    out : ndarray, shape and dtype of ``x``
    cache : tuple
        ``(xhat, gamma, inv_std)``; ``inv_std`` has shape (N, 1, ..., 1).
    """
    eps = check_eps(ln_param, "ln_param")
    if np.ndim(x) < 2:
        raise ValueError(f"layernorm_forward: x must have shape (N, D); got {np.shape(x)}")
    _check_affine_params(gamma, beta, x.shape[1:], "layernorm_forward")
    # >>> exercise: layernorm_forward
    xhat, inv_std, _, _ = normalize(x, tuple(range(1, x.ndim)), eps)
    out = xhat * gamma.astype(x.dtype, copy=False)
    out += beta.astype(x.dtype, copy=False)
    return out, (xhat, gamma, inv_std)
    # <<< exercise


def layernorm_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`layernorm_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, D) or (N, d1, ..., dk)
    cache : tuple from :func:`layernorm_forward`

    Returns
    -------
    dx : ndarray, shape of ``dout``
    dgamma, dbeta : ndarray, shape dout.shape[1:]
    """
    # >>> exercise: layernorm_backward
    xhat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = normalize_backward(dout * gamma, xhat, inv_std, tuple(range(1, dout.ndim)))
    return dx, dgamma.astype(gamma.dtype, copy=False), dbeta.astype(gamma.dtype, copy=False)
    # <<< exercise


def _check_groups(x: np.ndarray, G: int) -> int:
    """``C // G``, the channels per group, or ``ValueError``."""
    if np.ndim(x) != 4:
        raise ValueError(
            f"spatial_groupnorm_forward: x must have shape (N, C, H, W); got {np.shape(x)}"
        )
    c = x.shape[1]
    if int(G) != G or G < 1 or c % G:
        raise ValueError(
            f"spatial_groupnorm_forward: G must be a positive divisor of the {c} channels; got {G!r}"
        )
    return c // int(G)


def _group_mean(a: np.ndarray, G: int) -> np.ndarray:
    """Mean of ``a`` (N, C, H, W) over each group's channels and map, per channel (N, C, 1, 1).

    Summing each channel's map first, then the channels of a group, reads ``a`` in any
    memory order (channels-last included) without a copy: a reduction over the grouped
    axes ``(C // G, H, W)`` of a channels-last array would stride through memory.
    """
    n, c, h, w = a.shape
    sums = a.sum(axis=(2, 3)).reshape(n, G, c // G).sum(axis=2) / (c // G * h * w)
    return np.repeat(sums, c // G, axis=1).astype(a.dtype, copy=False)[:, :, None, None]


def spatial_groupnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, G: int, gn_param: dict
) -> tuple[np.ndarray, Cache]:
    """Group normalisation: each sample's channels split into ``G`` groups, each group
    normalised over its channels and the whole map, then a per-channel scale and shift.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (1, C, 1, 1) as in CS231n, or (C,)
    G : int
        Number of groups, a divisor of C (``G = 1`` is layer norm over (C, H, W);
        ``G = C`` is instance norm).
    gn_param : dict
        ``{'eps': 1e-5}`` (optional).

    Returns
    -------
    out : ndarray, shape, dtype and memory order of ``x``
    cache : tuple
        ``(xhat, gamma, inv_std, G)``: ``xhat`` (N, C, H, W), ``inv_std`` (N, C, 1, 1)
        (each channel's group's value).
    """
    eps = check_eps(gn_param, "gn_param")
    _check_groups(x, G)
    G, c = int(G), x.shape[1]
    if np.shape(gamma) not in ((c,), (1, c, 1, 1)) or np.shape(beta) != np.shape(gamma):
        raise ValueError(
            f"spatial_groupnorm_forward: gamma and beta must have shape (1, {c}, 1, 1) or "
            f"({c},); got gamma {np.shape(gamma)} and beta {np.shape(beta)}"
        )
    # >>> exercise: spatial_groupnorm_forward
    xhat = x - _group_mean(x, G)
    inv_std = 1.0 / np.sqrt(_group_mean(np.square(xhat), G) + x.dtype.type(eps))
    xhat *= inv_std
    out = xhat * gamma.reshape(1, c, 1, 1).astype(x.dtype, copy=False)
    out += beta.reshape(1, c, 1, 1).astype(x.dtype, copy=False)
    return out, (xhat, gamma, inv_std, G)
    # <<< exercise


def spatial_groupnorm_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`spatial_groupnorm_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple from :func:`spatial_groupnorm_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, the shape of ``gamma``
    """
    # >>> exercise: spatial_groupnorm_backward
    xhat, gamma, inv_std, G = cache
    c = dout.shape[1]
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * xhat).sum(axis=(0, 2, 3))
    dxhat = dout * gamma.reshape(1, c, 1, 1).astype(dout.dtype, copy=False)
    dx = dxhat - _group_mean(dxhat, G)
    dxhat *= xhat  # dxhat is this function's own array
    dx -= xhat * _group_mean(dxhat, G)
    dx *= inv_std
    shape = np.shape(gamma)
    return dx, dgamma.reshape(shape).astype(gamma.dtype), dbeta.reshape(shape).astype(gamma.dtype)
    # <<< exercise


def compiled_norm_forward(
    x: np.ndarray,
    layout: compiled.Layout,
    gamma: np.ndarray,
    beta: np.ndarray,
    G: int,
    eps: float,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, Cache]:
    """Group norm of ``x`` (N, C, ...) in ``layout``'s memory order, ``G`` groups of its
    (C,) channels, in one compiled pass; layer norm is ``G = 1`` on (N, D) features.

    Returns
    -------
    out : ndarray, shape, dtype and memory order of ``x``
    cache : NormCache
        ``x``, each sample's group statistics (N, G), ``gamma``.
    """
    dtype, n = x.dtype, len(x)
    mean, inv_std = np.empty((n, G), dtype), np.empty((n, G), dtype)
    g, b = (a.astype(dtype, copy=False).reshape(-1) for a in (gamma, beta))
    out = compiled.empty_like_layout(layout, dtype, None, workspace, "out")
    view = compiled.channel_view
    compiled.kernels().group_norm_loop(
        view(x, layout), g, b, dtype.type(1), dtype.type(eps), view(out, layout), mean, inv_std
    )
    return out, compiled.NormCache(x, mean, inv_std, gamma, True)


def compiled_norm_backward(
    dout: np.ndarray, cache: Cache, workspace: Workspace | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The backward pass of :func:`compiled_norm_forward` in one compiled pass (chunks of
    samples add to their own sums for ``dgamma`` and ``dbeta``), or ``None`` for another
    cache.

    Returns
    -------
    dx : ndarray, shape and memory order of the cached ``x``
    dgamma, dbeta : ndarray, shape and dtype of ``gamma``
    """
    if not isinstance(cache, compiled.NormCache):
        return None
    dout, layout = compiled.backward_input(dout, cache)
    x, gamma = cache.x, cache.gamma
    dtype, view = x.dtype, compiled.channel_view
    parts = min(len(x), 64)  # a fixed number of chunks: the sums do not depend on the threads
    dgamma = new_array(workspace, "dgamma", (parts, gamma.size), np.float64)
    dbeta = new_array(workspace, "dbeta", (parts, gamma.size), np.float64)
    dx = compiled.empty_like_layout(layout, dtype, None, workspace, "dx")
    compiled.kernels().group_norm_backward_loop(
        view(dout, layout),
        view(x, layout),
        cache.mean,
        cache.inv_std,
        gamma.astype(dtype, copy=False).reshape(-1),
        view(dx, layout),
        dgamma,
        dbeta,
    )
    shape = np.shape(gamma)
    dgamma, dbeta = (a.sum(axis=0).astype(dtype).reshape(shape) for a in (dgamma, dbeta))
    return dx, dgamma.astype(gamma.dtype), dbeta.astype(gamma.dtype)


def compiled_layernorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    eps: float,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, Cache] | None:
    """:func:`layernorm_forward` in one compiled pass over the rows, or ``None`` where it
    does not apply: ``x`` (N, d1, ...) must be C-contiguous, float32 or float64,
    ``gamma`` and ``beta`` of shape ``x.shape[1:]``.

    Returns
    -------
    out : ndarray, shape and dtype of ``x``
    cache : NormCache
        ``x``, ``mean`` and ``inv_std`` (N,), ``gamma``.
    """
    if not (
        isinstance(x, np.ndarray)
        and x.ndim >= 2
        and x.flags.c_contiguous
        and np.shape(gamma) == np.shape(beta) == x.shape[1:]
        and compiled.compiled_dtype(x)
    ):
        return None
    dtype, rows = x.dtype, x.reshape(len(x), -1)
    out = new_array(workspace, "out", rows.shape, dtype)
    mean, inv_std = np.empty(len(x), dtype), np.empty(len(x), dtype)
    g, b = (a.astype(dtype, copy=False).reshape(-1) for a in (gamma, beta))
    one, eps = dtype.type(1), dtype.type(eps)
    compiled.kernels().layernorm_loop(rows, g, b, one, eps, out, mean, inv_std)
    return out.reshape(x.shape), compiled.NormCache(x, mean, inv_std, gamma, True)


def compiled_layernorm_backward(
    dout: np.ndarray, cache: Cache, workspace: Workspace | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`layernorm_backward` of a :func:`compiled_layernorm_forward` cache in one
    compiled pass (chunks of rows add to their own column sums for ``dgamma`` and
    ``dbeta``), or ``None`` for another cache.

    Returns
    -------
    dx : ndarray, shape of ``dout``
    dgamma, dbeta : ndarray, shape dout.shape[1:], dtype of ``gamma``
    """
    if not isinstance(cache, compiled.NormCache) or cache.mean.ndim != 1:
        return None
    x, gamma = cache.x, cache.gamma
    dtype, n = x.dtype, len(x)
    rows = x.reshape(n, -1)
    dout = np.ascontiguousarray(dout, dtype=dtype).reshape(rows.shape)
    dx = new_array(workspace, "dx", rows.shape, dtype)
    parts = min(n, 64)  # a fixed number of chunks: the sums do not depend on the threads
    dgamma = new_array(workspace, "dgamma", (parts, rows.shape[1]), np.float64)
    dbeta = new_array(workspace, "dbeta", (parts, rows.shape[1]), np.float64)
    compiled.kernels().layernorm_backward_loop(
        dout,
        rows,
        cache.mean,
        cache.inv_std,
        gamma.astype(dtype, copy=False).reshape(-1),
        np.empty((n, 2), dtype),
        dx,
        dgamma,
        dbeta,
    )
    shape = np.shape(gamma)
    dgamma, dbeta = (a.sum(axis=0).astype(dtype).reshape(shape) for a in (dgamma, dbeta))
    return dx.reshape(x.shape), dgamma.astype(gamma.dtype), dbeta.astype(gamma.dtype)


def compiled_groupnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    G: int,
    eps: float,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, Cache] | None:
    """:func:`spatial_groupnorm_forward` compiled, or ``None`` where that does not apply
    (see :mod:`barenet.layers.compiled`; ``gamma`` and ``beta`` of shape (C,))."""
    if not (isinstance(x, np.ndarray) and x.ndim == 4 and compiled.compiled_dtype(x)):
        return None
    layout = compiled.layout_of(x)
    c = x.shape[1]
    if layout is None or np.shape(gamma) != (c,) or np.shape(beta) != (c,):
        return None
    _check_groups(x, G)
    return compiled_norm_forward(x, layout, gamma, beta, int(G), eps, workspace)


class LayerNorm(Layer):
    """Layer normalisation over a sample's trailing ``normalized_shape`` (all its features).

    Parameters
    ----------
    normalized_shape : int or tuple of int
        ``x.shape[1:]``.
    eps : float
    dtype : numpy dtype
    """

    def __init__(self, normalized_shape: int | tuple, eps: float = 1e-5, dtype: type = np.float32):
        super().__init__()
        shape = (normalized_shape,) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
        self.shape, self.eps, self.dtype = tuple(int(s) for s in shape), float(eps), np.dtype(dtype)
        self.params = {
            "gamma": np.ones(self.shape, self.dtype),
            "beta": np.zeros(self.shape, self.dtype),
        }

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """Compiled where that applies, else :func:`layernorm_forward`."""
        g, b = self.params["gamma"], self.params["beta"]
        result = compiled_layernorm_forward(x, g, b, self.eps, self._workspace())
        return layernorm_forward(x, g, b, {"eps": self.eps}) if result is None else result

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        result = compiled_layernorm_backward(dout, cache, self._workspace())
        result = layernorm_backward(dout, cache) if result is None else result
        dx, self.grads["gamma"], self.grads["beta"] = result
        return dx

    def config(self) -> dict:
        return {"normalized_shape": list(self.shape), "eps": self.eps, "dtype": self.dtype.name}

    def __repr__(self) -> str:
        return f"LayerNorm({self.shape}, eps={self.eps})"


class GroupNorm(Layer):
    """Group normalisation of ``(N, C, H, W)`` maps, with PyTorch's constructor.

    Parameters
    ----------
    num_groups : int
        G, a divisor of C.
    num_channels : int
        C.
    eps : float
    dtype : numpy dtype
    """

    def __init__(
        self, num_groups: int, num_channels: int, eps: float = 1e-5, dtype: type = np.float32
    ):
        super().__init__()
        if int(num_groups) < 1 or int(num_channels) % int(num_groups):
            raise ValueError(
                f"GroupNorm: num_groups must be a positive divisor of num_channels {num_channels}; "
                f"got {num_groups!r}"
            )
        self.groups, self.channels = int(num_groups), int(num_channels)
        self.eps, self.dtype = float(eps), np.dtype(dtype)
        c = self.channels
        self.params = {"gamma": np.ones(c, self.dtype), "beta": np.zeros(c, self.dtype)}

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """Compiled where that applies, else :func:`spatial_groupnorm_forward`."""
        g, b = self.params["gamma"], self.params["beta"]
        result = compiled_groupnorm_forward(x, g, b, self.groups, self.eps, self._workspace())
        if result is None:
            return spatial_groupnorm_forward(x, g, b, self.groups, {"eps": self.eps})
        return result

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        result = compiled_norm_backward(dout, cache, self._workspace())
        result = spatial_groupnorm_backward(dout, cache) if result is None else result
        dx, self.grads["gamma"], self.grads["beta"] = result
        return dx

    def config(self) -> dict:
        return {
            "num_groups": self.groups,
            "num_channels": self.channels,
            "eps": self.eps,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        return f"GroupNorm({self.groups}, {self.channels}, eps={self.eps})"
