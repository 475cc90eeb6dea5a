"""Recognising the classic mistakes behind a failed test, and saying them in plain words.

A failed comparison only says *that* a gradient is wrong. These helpers say *why*
when the measured array matches a known wrong formula exactly (a gradient N
times too small, a transposed ``dw``, a ReLU gradient that follows ``dout``'s
sign, ...). Each returns a sentence, or ``None`` when nothing was recognised.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from barenet.gradcheck import rel_error

MATCH_TOLERANCE = 1e-6  # "equals the wrong formula", far below any honest near-miss

BATCH_AVERAGED = (
    "{name} is exactly 1/N (N = {n}) of the expected gradient: it is averaged over the "
    "batch, but the loss already averages (its backward divides by N). A layer's backward "
    "must not divide by N."
)
TRANSPOSED = (
    "{name} equals the expected gradient transposed (shape {shape} instead of {expected}): "
    "w has shape (D, M), so dw = x.reshape(N, -1).T @ dout has w's shape, and "
    "dx = dout @ w.T."
)
AFFINE_SHAPE_ERROR = (
    "a shape mismatch: flatten x to (N, D) with x.reshape(x.shape[0], -1) before "
    "multiplying; w has shape (D, M), so out = x2d @ w + b, dx = (dout @ w.T) "
    "reshaped to x's shape, dw = x2d.T @ dout and db = dout.sum(axis=0)."
)
NOT_REPEATABLE = (
    "calling backward twice with the same cache gave different results: backward changes "
    "its cache or keeps state between calls."
)


def matches(measured: np.ndarray, candidate: np.ndarray, tol: float = MATCH_TOLERANCE) -> bool:
    """True when ``measured`` equals ``candidate`` (same shape, rel_error below ``tol``).

    Parameters
    ----------
    measured, candidate : array_like, any shape
    """
    measured, candidate = np.asarray(measured), np.asarray(candidate)
    if measured.shape != candidate.shape or not np.all(np.isfinite(measured)):
        return False
    return rel_error(measured, candidate) < tol


def first_match(measured: np.ndarray, candidates: Iterable[tuple[np.ndarray, str]]) -> str | None:
    """The message of the first wrong formula that ``measured`` equals exactly.

    Parameters
    ----------
    measured : ndarray
    candidates : iterable of (ndarray, str)
        Each wrong formula's value on the test inputs and the sentence explaining it.
    """
    for value, message in candidates:
        if matches(measured, value):
            return message
    return None


def batch_averaged(measured: np.ndarray, reference: np.ndarray, n: int, name: str) -> str | None:
    """Diagnose a gradient that is exactly ``reference / n`` (averaged over the batch).

    Parameters
    ----------
    measured, reference : ndarray, same shape
    n : int
        Batch size N.
    name : str
        The gradient's name in the message, e.g. ``"dw"``.
    """
    if n > 1 and matches(measured, reference / n):
        return BATCH_AVERAGED.format(name=name, n=n)
    return None


def transposed(measured: np.ndarray, reference: np.ndarray, name: str) -> str | None:
    """Diagnose a 2-D gradient that equals ``reference.T`` (``w`` used transposed).

    Parameters
    ----------
    measured : ndarray, shape (M, D) when transposed
    reference : ndarray, shape (D, M)
    name : str
    """
    measured = np.asarray(measured)
    if measured.ndim != 2 or reference.ndim != 2 or reference.shape[0] == reference.shape[1]:
        return None
    if matches(measured, reference.T):
        return TRANSPOSED.format(name=name, shape=measured.shape, expected=reference.shape)
    return None
