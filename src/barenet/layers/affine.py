"""The fully connected layer ``out = x.reshape(N, -1) @ w + b`` and its gradients."""

from __future__ import annotations

import numpy as np

from barenet.layers.base import Cache


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
