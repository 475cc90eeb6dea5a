"""The fully connected layer ``out = x.reshape(N, -1) @ w + b`` and its gradients."""

from __future__ import annotations

import numpy as np

from barenet.layers.base import Cache, Layer, weight_std


def _check_affine_shapes(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> None:
    """Raise ``ValueError`` naming the argument whose shape does not fit."""
    if np.ndim(x) < 1:
        raise ValueError(
            f"affine_forward: x must have a batch axis, shape (N, d1, ...); got {np.shape(x)}"
        )
    if np.ndim(w) != 2:
        raise ValueError(f"affine_forward: w must be 2-D, shape (D, M); got shape {np.shape(w)}")
    d = int(np.prod(np.shape(x)[1:], dtype=np.int64))
    if w.shape[0] != d:
        raise ValueError(
            f"affine_forward: w must have shape (D, M) with D = {d} (the product of x's "
            f"non-batch dimensions {np.shape(x)[1:]}); got w of shape {w.shape}"
        )
    if np.shape(b) != (w.shape[1],):
        raise ValueError(
            f"affine_forward: b must have shape (M,) = ({w.shape[1]},) to match w; "
            f"got b of shape {np.shape(b)}"
        )


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Fully connected layer ``out = x.reshape(N, D) @ w + b``.

    Parameters
    ----------
    x : ndarray, shape (N, d1, ..., dk)
        A batch of N inputs; each is flattened to ``D = d1 * ... * dk`` values.
    w : ndarray, shape (D, M)
    b : ndarray, shape (M,)

    Returns
    -------
    out : ndarray, shape (N, M)
    cache : tuple
        ``(x, w, b)``, the arrays themselves (no copies).

    Raises
    ------
    ValueError
        If the shapes of ``x``, ``w`` and ``b`` do not fit together.
    """
    _check_affine_shapes(x, w, b)
    # >>> exercise: affine_forward
    out = x.reshape(x.shape[0], -1) @ w
    out += b  # in place: `out` is a fresh array, so this saves one (N, M) temporary
    return out, (x, w, b)
    # <<< exercise


def affine_backward(dout: np.ndarray, cache: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the affine layer; no averaging over the batch.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
        Upstream gradient.
    cache : tuple
        ``(x, w, b)`` from :func:`affine_forward`.

    Returns
    -------
    dx : ndarray, shape (N, d1, ..., dk)
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    # >>> exercise: affine_backward
    x, w, _ = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw, db = affine_param_grads(dout, x)
    return dx, dw, db
    # <<< exercise


def affine_param_grads(dout: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the affine layer wrt its parameters only.

    The first layer of a network never needs ``dx`` (nothing is below it); skipping
    that product saves a third of the layer's backward work.

    Parameters
    ----------
    dout : ndarray, shape (N, M)
    x : ndarray, shape (N, d1, ..., dk)

    Returns
    -------
    dw : ndarray, shape (D, M)
    db : ndarray, shape (M,)
    """
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dw, db


class Linear(Layer):
    """A fully connected layer: :func:`affine_forward` with its own weights.

    Parameters
    ----------
    in_features, out_features : int
        D and M; the input is flattened to ``(N, D)``.
    std : float or {'he', 'xavier'}
        Gaussian init of ``W`` (fan-in D); ``b`` starts at 0.
    dtype : numpy dtype
    seed : int or numpy.random.Generator, optional

    Attributes
    ----------
    params : dict
        ``'W'`` (D, M) and ``'b'`` (M,), barenet's (and CS231n's) layout: ``x @ W``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        std: float | str = "he",
        dtype: type = np.float32,
        seed: int | np.random.Generator | None = None,
    ):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.std, self.dtype = std, np.dtype(dtype)
        w = np.random.default_rng(seed).standard_normal((self.in_features, self.out_features))
        w *= weight_std(std, self.in_features)
        self.params = {"W": w.astype(self.dtype), "b": np.zeros(self.out_features, self.dtype)}

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Cache]:
        """``x`` (N, d1, ..., dk) -> ``out`` (N, M)."""
        return affine_forward(x, self.params["W"], self.params["b"])

    def backward(self, dout: np.ndarray, cache: Cache) -> np.ndarray:
        """``dx`` (x's shape); ``dW``, ``db`` go to :attr:`grads`."""
        dx, self.grads["W"], self.grads["b"] = affine_backward(dout, cache)
        return dx

    def param_grads(self, dout: np.ndarray, cache: Cache) -> None:
        self.grads["W"], self.grads["b"] = affine_param_grads(dout, cache[0])

    def config(self) -> dict:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "std": self.std,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
