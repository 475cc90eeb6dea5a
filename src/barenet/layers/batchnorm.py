"""Batch normalisation of features ``(N, D)`` and of channels ``(N, C, H, W)``.

In training, each feature (each channel, over ``N * H * W`` values) is normalised with
the batch's mean and biased variance, then scaled by ``gamma`` and shifted by
``beta``; running averages of both statistics are kept for evaluation. In test mode
the running averages are used instead.

The function form follows CS231n: ``bn_param = {'mode': 'train' | 'test', 'eps':
1e-5, 'momentum': 0.9, 'running_mean', 'running_var'}``, the running statistics are
created as zeros on first use and stored back into ``bn_param`` (new arrays, the old
ones are not written), and ``momentum`` is the weight of the *old* value::

    running_mean = momentum * running_mean + (1 - momentum) * batch_mean
    running_var = momentum * running_var + (1 - momentum) * batch_var

``batch_var`` is the biased variance (divided by the count ``M``), as in CS231n.
PyTorch's ``momentum=0.1`` is the weight of the *new* value (the same as 0.9 here), and
PyTorch keeps the unbiased variance (divided by ``M - 1``) in ``running_var``; the
layer objects (:class:`barenet.layers.BatchNorm2d`) take PyTorch's ``momentum``.

The backward pass is in closed form: with ``M`` values per feature,
``dx = gamma * inv_std / M * (M * dout - sum(dout) - xhat * sum(dout * xhat))``.
"""

from __future__ import annotations

import numpy as np

from barenet.layers import compiled
from barenet.layers.base import Cache, Layer, Workspace
from barenet.layers.norm import check_eps, normalize

BN_KEYS = {"mode", "eps", "momentum", "running_mean", "running_var"}


def _check_bn_param(bn_param: dict) -> tuple[str, float, float]:
    """``(mode, eps, momentum)`` from ``bn_param``, checked."""
    eps = check_eps(bn_param, "bn_param")
    unknown = set(bn_param) - BN_KEYS
    if unknown:
        raise ValueError(f"bn_param: unknown keys {sorted(unknown)}; expected {sorted(BN_KEYS)}")
    mode = bn_param.get("mode", "train")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param: mode must be 'train' or 'test', got {mode!r}")
    momentum = bn_param.get("momentum", 0.9)
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(
            f"bn_param: momentum must be in [0, 1] (the weight of the old running value, "
            f"CS231n's 0.9 = PyTorch's 0.1); got {momentum!r}"
        )
    return mode, eps, float(momentum)


def _batchnorm(
    x: np.ndarray, gamma, beta, bn_param: dict, axes: tuple, shape: tuple
) -> tuple[np.ndarray, Cache]:
    """Batch norm over ``axes``; ``gamma``, ``beta`` and the statistics reshaped to ``shape``."""
    mode, eps, momentum = _check_bn_param(bn_param)
    features = int(np.prod(shape))
    dtype = x.dtype
    running_mean = bn_param.get("running_mean", np.zeros(features, dtype=dtype))
    running_var = bn_param.get("running_var", np.zeros(features, dtype=dtype))
    for key, value in (("running_mean", running_mean), ("running_var", running_var)):
        if np.shape(value) != (features,):
            raise ValueError(
                f"bn_param: {key} must have shape ({features},); got {np.shape(value)}"
            )
    # >>> exercise: batchnorm_forward
    if mode == "train":
        xhat, inv_std, mean, var = normalize(x, axes, eps)
        keep = dtype.type(momentum)
        bn_param["running_mean"] = keep * running_mean + (1 - keep) * mean.reshape(features)
        bn_param["running_var"] = keep * running_var + (1 - keep) * var.reshape(features)
    else:
        inv_std = (1.0 / np.sqrt(running_var.astype(dtype) + dtype.type(eps))).reshape(shape)
        xhat = x - running_mean.astype(dtype).reshape(shape)
        xhat *= inv_std
    bn_param.setdefault("running_mean", running_mean)
    bn_param.setdefault("running_var", running_var)
    g = gamma.astype(dtype, copy=False).reshape(shape)
    out = xhat * g
    out += beta.astype(dtype, copy=False).reshape(shape)
    return out, (xhat, gamma, inv_std, axes, mode == "train")
    # <<< exercise


def _batchnorm_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, gamma, inv_std, axes, train = cache
    # >>> exercise: batchnorm_backward
    dbeta = dout.sum(axis=axes, keepdims=True)
    dgamma = (dout * xhat).sum(axis=axes, keepdims=True)
    scale = gamma.astype(dout.dtype, copy=False).reshape(inv_std.shape) * inv_std
    if train:
        m = dout.dtype.type(dout.size // dbeta.size)
        dx = dout - dbeta / m
        dx -= xhat * (dgamma / m)
        dx *= scale
    else:  # the statistics are constants: the layer is affine
        dx = dout * scale
    shape = np.shape(gamma)
    return (
        dx,
        dgamma.reshape(shape).astype(gamma.dtype, copy=False),
        dbeta.reshape(shape).astype(gamma.dtype, copy=False),
    )
    # <<< exercise


def _check_shapes(x, gamma, beta, ndim: int, name: str) -> None:
    layout = "(N, D)" if ndim == 2 else "(N, C, H, W)"
    if np.ndim(x) != ndim:
        raise ValueError(f"{name}: x must have shape {layout}; got {np.shape(x)}")
    c = x.shape[1]
    if np.shape(gamma) != (c,) or np.shape(beta) != (c,):
        raise ValueError(
            f"{name}: gamma and beta must have shape ({c},); got gamma {np.shape(gamma)} "
            f"and beta {np.shape(beta)}"
        )


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict
) -> tuple[np.ndarray, Cache]:
    """Batch normalisation of each feature over the batch (see the module's notes).

    Parameters
    ----------
    x : ndarray, shape (N, D)
    gamma, beta : ndarray, shape (D,)
    bn_param : dict
        ``{'mode': 'train' | 'test', 'eps': 1e-5, 'momentum': 0.9, 'running_mean': (D,),
        'running_var': (D,)}``; updated in place with the new running statistics.

    Returns
    -------
    out : ndarray, shape (N, D), dtype of ``x``
    cache : tuple
        ``(xhat, gamma, inv_std, axes, training)``.
    """
    _check_shapes(x, gamma, beta, 2, "batchnorm_forward")
    return _batchnorm(x, gamma, beta, bn_param, (0,), (1, x.shape[1]))


def batchnorm_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`batchnorm_forward`, in closed form.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
    cache : tuple from :func:`batchnorm_forward`

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma, dbeta : ndarray, shape (D,)
    """
    return _batchnorm_backward(dout, cache)


batchnorm_backward_alt = batchnorm_backward
"""CS231n asks for a second, simplified backward; the closed form above is that one."""


def spatial_batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict
) -> tuple[np.ndarray, Cache]:
    """Batch normalisation of each channel over ``(N, H, W)``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    bn_param : dict
        As for :func:`batchnorm_forward`, with statistics of shape (C,).

    Returns
    -------
    out : ndarray, shape (N, C, H, W), dtype and memory order of ``x``
    cache : tuple
    """
    _check_shapes(x, gamma, beta, 4, "spatial_batchnorm_forward")
    # >>> exercise: spatial_batchnorm_forward
    return _batchnorm(x, gamma, beta, bn_param, (0, 2, 3), (1, x.shape[1], 1, 1))
    # <<< exercise


def spatial_batchnorm_backward(
    dout: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`spatial_batchnorm_forward`.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : tuple from :func:`spatial_batchnorm_forward`

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma, dbeta : ndarray, shape (C,)
    """
    # >>> exercise: spatial_batchnorm_backward
    return _batchnorm_backward(dout, cache)
    # <<< exercise


def _running_statistics(bn_param: dict, features: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """``bn_param``'s running mean and variance (zeros when absent), checked to be (D,)."""
    stats = [
        bn_param.get(key, np.zeros(features, dtype=dtype))
        for key in ("running_mean", "running_var")
    ]
    for key, value in zip(("running_mean", "running_var"), stats, strict=True):
        if np.shape(value) != (features,):
            raise ValueError(
                f"bn_param: {key} must have shape ({features},); got {np.shape(value)}"
            )
    return stats[0], stats[1]


def compiled_batchnorm_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    bn_param: dict,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, Cache] | None:
    """:func:`spatial_batchnorm_forward` in compiled passes (in training, one for the
    statistics, then one that normalises), or ``None`` where they do not apply (see
    :mod:`barenet.layers.compiled`). ``bn_param`` is checked and updated as there;
    ``out`` is reused from ``workspace`` where that is safe.

    Returns
    -------
    out : ndarray, shape (N, C, H, W), dtype and memory order of ``x``
    cache : NormCache
        ``x``, the statistics (C,), ``gamma`` and the training flag.
    """
    mode, eps, momentum = _check_bn_param(bn_param)
    if not (isinstance(x, np.ndarray) and x.ndim == 4 and compiled.compiled_dtype(x)):
        return None
    layout = compiled.layout_of(x)
    if layout is None:
        return None
    _check_shapes(x, gamma, beta, 4, "spatial_batchnorm_forward")
    n, c = x.shape[:2]
    dtype, x4 = x.dtype, compiled.channel_view(x, layout)
    running_mean, running_var = _running_statistics(bn_param, c, dtype)
    if mode == "train":
        # Each sample's values shifted by its first one; see combine_moments.
        shift = np.ascontiguousarray(x4[:, 0, :, 0])
        sums, squares = np.empty((n, c)), np.empty((n, c))
        compiled.kernels().moments_loop(x4, shift, sums, squares)
        mean, var = compiled.combine_moments(shift, sums, squares, x.size // (n * c), axis=0)
        mean, var = mean.astype(dtype), var.astype(dtype)
        inv_std = 1.0 / np.sqrt(var + dtype.type(eps))
        keep = dtype.type(momentum)
        bn_param["running_mean"] = keep * running_mean + (1 - keep) * mean
        bn_param["running_var"] = keep * running_var + (1 - keep) * var
    else:
        mean = running_mean.astype(dtype)
        inv_std = 1.0 / np.sqrt(running_var.astype(dtype) + dtype.type(eps))
    bn_param.setdefault("running_mean", running_mean)
    bn_param.setdefault("running_var", running_var)
    g, b = (a.astype(dtype, copy=False) for a in (gamma, beta))
    out = compiled.empty_like_layout(layout, dtype, None, workspace, "out")
    compiled.kernels().normalize_loop(x4, mean, inv_std, g, b, compiled.channel_view(out, layout))
    return out, compiled.NormCache(x, mean, inv_std, gamma, mode == "train")


def compiled_batchnorm_backward(
    dout: np.ndarray, cache: Cache, workspace: Workspace | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`spatial_batchnorm_backward` of a :func:`compiled_batchnorm_forward` cache in
    two compiled passes (the sums of ``dout`` and ``dout * xhat``, then ``dx``), or
    ``None`` for another cache.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), memory order of the cached ``x``
    dgamma, dbeta : ndarray, shape (C,), dtype of ``gamma``
    """
    if not isinstance(cache, compiled.NormCache):
        return None
    dout, layout = compiled.backward_input(dout, cache)
    x, gamma = cache.x, cache.gamma
    n, c = x.shape[:2]
    dtype, loops = x.dtype, compiled.kernels()
    dout4, x4 = compiled.channel_view(dout, layout), compiled.channel_view(x, layout)
    sum_dout, sum_dout_xhat = np.empty((n, c)), np.empty((n, c))
    loops.grad_sums_loop(dout4, x4, cache.mean, cache.inv_std, sum_dout, sum_dout_xhat)
    dbeta, dgamma = (s.sum(axis=0).astype(dtype) for s in (sum_dout, sum_dout_xhat))
    scale = gamma.astype(dtype, copy=False) * cache.inv_std
    if cache.training:  # the statistics depend on x
        m = dtype.type(x.size // c)
        mean_dy, mean_dy_xhat = dbeta / m, dgamma / m
    else:  # the statistics are constants: the layer is affine
        mean_dy = mean_dy_xhat = np.zeros(c, dtype)
    dx = compiled.empty_like_layout(layout, dtype, None, workspace, "dx")
    loops.normalize_backward_loop(
        dout4,
        x4,
        cache.mean,
        cache.inv_std,
        np.ones(c, dtype),
        mean_dy,
        mean_dy_xhat,
        scale,
        compiled.channel_view(dx, layout),
    )
    return dx, dgamma.astype(gamma.dtype, copy=False), dbeta.astype(gamma.dtype, copy=False)


class BatchNorm1d(Layer):
    """Batch normalisation of ``(N, D)`` features, with PyTorch's constructor.

    Parameters
    ----------
    num_features : int
        D.
    eps : float
    momentum : float
        PyTorch's meaning: the weight of the *new* batch statistic (default 0.1), so
        ``bn_param['momentum']`` is ``1 - momentum`` (CS231n's 0.9).
    dtype : numpy dtype

    Attributes
    ----------
    params : dict
        ``'gamma'`` (ones) and ``'beta'`` (zeros), shape (D,).
    bn_param : dict
        CS231n's dict, holding the running statistics (mean 0, variance 1 at the start).
    buffers : dict
        ``'running_mean'``, ``'running_var'``: saved with the weights.
    """

    _forward = staticmethod(batchnorm_forward)
    _backward = staticmethod(batchnorm_backward)

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, dtype: type = np.float32
    ):
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"{type(self).__name__}: momentum must be in [0, 1] (PyTorch's meaning: the "
                f"weight of the new batch statistic); got {momentum!r}"
            )
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), float(momentum)
        self.dtype = np.dtype(dtype)
        d = self.num_features
        self.params = {"gamma": np.ones(d, self.dtype), "beta": np.zeros(d, self.dtype)}
        self.bn_param = {
            "mode": "train",
            "eps": self.eps,
            "momentum": 1.0 - self.momentum,
            "running_mean": np.zeros(d, self.dtype),
            "running_var": np.ones(d, self.dtype),
        }

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        return {k: self.bn_param[k] for k in ("running_mean", "running_var")}

    def set_buffers(self, buffers: dict[str, np.ndarray]) -> None:
        super().set_buffers(buffers)
        for key, value in buffers.items():
            if np.shape(value) != (self.num_features,):
                raise ValueError(
                    f"{self!r}: {key} must have shape ({self.num_features},); got {np.shape(value)}"
                )
            self.bn_param[key] = np.array(value, dtype=self.dtype)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """Batch statistics in training mode (updating the running ones), running ones in
        eval; compiled passes where they apply."""
        self.bn_param["mode"] = "train" if self.training else "test"
        args = (x, self.params["gamma"], self.params["beta"], self.bn_param)
        passes = self._compiled_passes()
        result = passes[0](*args, self._workspace()) if passes else None
        return self._forward(*args) if result is None else result

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        passes = self._compiled_passes()
        result = passes[1](dout, cache, self._workspace()) if passes else None
        result = self._backward(dout, cache) if result is None else result
        dx, self.grads["gamma"], self.grads["beta"] = result
        return dx

    def config(self) -> dict:
        return {
            "num_features": self.num_features,
            "eps": self.eps,
            "momentum": self.momentum,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum})"
        )


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation of each channel of ``(N, C, H, W)`` maps (``num_features = C``)."""

    _forward = staticmethod(spatial_batchnorm_forward)
    _backward = staticmethod(spatial_batchnorm_backward)
    # The compiled passes of these two, used where they apply (float32/64, either memory
    # order); a subclass that defines its own ``_forward`` runs that instead.
    _compiled = (compiled_batchnorm_forward, compiled_batchnorm_backward)
