"""Numerical gradients by centred differences, the relative error used to compare them,
and a check that tells the kinks of ReLU and max pooling from bugs.

These are the oracle every hand-written backward pass is checked against. Use them in
float64: in float32 the rounding error of ``f(x + h) - f(x - h)`` swamps the signal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class KinkAwareCheck:
    """Outcome of :func:`check_gradient_kink_aware`.

    Attributes
    ----------
    numerical : ndarray, shape of ``x``
        Centred differences.
    kinks : ndarray of bool, shape of ``x``
        Entries whose ``+-h`` step crosses a kink: the centred difference there is not
        the derivative, so it is not held against the analytic gradient.
    unverified : ndarray of bool, shape of ``x``
        Kink entries whose step crosses a kink on both sides: no difference checks them.
    error : float
        Largest relative error between the analytic gradient and the centred
        differences, away from kinks.
    kink_error : float
        Largest relative error at the kinks, against the one-sided difference that
        stays on the analytic gradient's side of the kink.
    passed : bool
    """

    numerical: np.ndarray
    kinks: np.ndarray
    unverified: np.ndarray
    error: float
    kink_error: float
    passed: bool

    def __str__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        text = f"gradient check {verdict}: max relative error {self.error:.2e} away from kinks"
        n_kinks = int(self.kinks.sum())
        if n_kinks:
            text += (
                f"; {n_kinks} entries cross a kink within +-h (not failures), checked against "
                f"one-sided differences: max relative error {self.kink_error:.2e}"
            )
            if self.unverified.any():
                text += f", {int(self.unverified.sum())} crossed on both sides (not checked)"
        return text


def _relative(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))


def check_gradient_kink_aware(
    f: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    df: np.ndarray,
    analytic: np.ndarray,
    state: Callable[[np.ndarray], np.ndarray] | None = None,
    h: float = 1e-5,
    tol: float = 1e-7,
    one_sided_tol: float = 1e-4,
) -> KinkAwareCheck:
    """Check a backward pass by finite differences, telling kinks from bugs.

    ReLU at 0 and max pooling with near-ties are not differentiable: where ``x +- h``
    lands on the other side of a kink (a ReLU input changes sign, a pooling window's
    maximum moves), the centred difference mixes two slopes and a correct backward
    pass fails a plain check. Here such an entry is reported as a kink instead; its
    analytic gradient is checked against the one-sided difference ``(f(x + h) - f(x))
    / h`` or ``(f(x) - f(x - h)) / h`` from the side that does not cross.

    Parameters
    ----------
    f : callable
        Takes an array shaped like ``x`` and returns an array shaped like ``df``.
    x : ndarray, any shape, float64
        Perturbed in place one entry at a time, then restored.
    df : ndarray, shape of ``f(x)``
        Upstream gradient.
    analytic : ndarray, shape of ``x``
        The backward pass's gradient, to be checked.
    state : callable, optional
        The discrete state of ``f`` at an input (e.g. ``lambda v: v > 0`` for a ReLU,
        :func:`barenet.layers.pool.max_pool_window_argmax` for max pooling): a step
        crosses a kink where the state changes. Without it, an entry whose centred
        difference disagrees with ``analytic`` counts as a kink when its two one-sided
        differences disagree with each other and one of them agrees with ``analytic``.
    h : float
        Step size.
    tol, one_sided_tol : float
        Largest relative errors accepted for centred and for one-sided differences
        (a one-sided difference is only first-order accurate).

    Returns
    -------
    KinkAwareCheck
    """
    base = np.array(f(x), dtype=np.float64, copy=True)
    s0 = None if state is None else np.array(state(x), copy=True)
    centred, forward, backward = (np.zeros_like(x, dtype=np.float64) for _ in range(3))
    plus_crosses, minus_crosses = (np.zeros(x.shape, dtype=bool) for _ in range(2))
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        if s0 is not None:
            plus_crosses[ix] = np.any(state(x) != s0)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        if s0 is not None:
            minus_crosses[ix] = np.any(state(x) != s0)
        x[ix] = old
        centred[ix] = np.sum((pos - neg) * df) / (2 * h)
        forward[ix] = np.sum((pos - base) * df) / h
        backward[ix] = np.sum((base - neg) * df) / h
    analytic = np.asarray(analytic, dtype=np.float64)
    fwd_err, bwd_err = _relative(analytic, forward), _relative(analytic, backward)
    if s0 is not None:
        kinks = plus_crosses | minus_crosses
        one_sided = np.where(plus_crosses, bwd_err, fwd_err)
        unverified = plus_crosses & minus_crosses
    else:
        mismatch = _relative(analytic, centred) > tol
        sides_differ = _relative(forward, backward) > one_sided_tol
        kinks = mismatch & sides_differ & (np.minimum(fwd_err, bwd_err) <= one_sided_tol)
        one_sided = np.minimum(fwd_err, bwd_err)
        unverified = np.zeros(x.shape, dtype=bool)
    smooth = ~kinks
    error = float(_relative(analytic[smooth], centred[smooth]).max(initial=0.0))
    kink_error = float(one_sided[kinks & ~unverified].max(initial=0.0))
    passed = error <= tol and kink_error <= one_sided_tol
    return KinkAwareCheck(centred, kinks, unverified, error, kink_error, passed)
