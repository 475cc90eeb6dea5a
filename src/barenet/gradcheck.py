"""Numerical gradients by centred differences, and the relative error used to compare them.

These are the oracle every hand-written backward pass is checked against. Use them in
float64: in float32 the rounding error of ``f(x + h) - f(x - h)`` swamps the signal.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def eval_numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, verbose: bool = False, h: float = 1e-5
) -> np.ndarray:
    """Gradient of a scalar function by centred differences.

    Parameters
    ----------
    f : callable
        Takes an array shaped like ``x`` and returns a scalar.
    x : ndarray, any shape
        Point at which to differentiate. It is perturbed in place one entry at a
        time and restored before returning.
    verbose : bool
        Print each index and its gradient entry.
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, same shape as ``x``
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        f_plus = f(x)
        x[ix] = old - h
        f_minus = f(x)
        x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def eval_numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of ``sum(f(x) * df)`` wrt ``x``: the backward pass of ``f`` for upstream ``df``.

    Parameters
    ----------
    f : callable
        Takes an array shaped like ``x`` and returns an array shaped like ``df``.
    x : ndarray, any shape
        Point at which to differentiate (perturbed in place, then restored).
    df : ndarray, shape of ``f(x)``
        Upstream gradient.
    h : float
        Step size.

    Returns
    -------
    grad : ndarray, same shape as ``x``
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        # Subtract elementwise before weighting by df: computing sum(f(x) * df) first and
        # differencing two such sums loses ~1 digit to cancellation (measured with tanh).
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest elementwise relative error ``|x - y| / max(1e-8, |x| + |y|)``.

    Parameters
    ----------
    x, y : ndarray, same shape

    Returns
    -------
    float
        About 1e-8 or less for a correct float64 gradient; 1e-2 or more means a bug.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"rel_error: x has shape {x.shape} but y has shape {y.shape}")
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
