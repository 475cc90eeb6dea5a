"""Recognising the classic mistakes behind a failed test, and saying them in plain words.

A failed comparison only says *that* a gradient is wrong. These helpers say *why*
when the measured array matches a known wrong formula exactly (a gradient N
times too small, a transposed ``dw``, a ReLU gradient that follows ``dout``'s
sign, ...), when the implementation wrote into its inputs, or when a sigmoid
overflowed. Each returns a sentence, or ``None`` when nothing was recognised.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence

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
MUTATED = (
    "{what} was modified in place by {call}: a layer must never write into its arguments "
    "(e.g. x[x < 0] = 0 or dout[mask] = 0); build a new array instead "
    "(np.maximum(x, 0), dout * mask)."
)
NOT_REPEATABLE = (
    "calling backward twice with the same cache gave different results: backward changes "
    "its cache or keeps state between calls."
)
SIGMOID_OVERFLOW = (
    "the sigmoid overflows: np.exp(-x) is inf for large negative x (NumPy warns "
    "'{warning}'). Use a stable form, e.g. e = np.exp(-np.abs(x)), then 1 / (1 + e) "
    "where x >= 0 and e / (1 + e) where x < 0."
)
NOT_FINITE = "the output contains NaN or inf for large inputs |x| = 1000: {name} must stay finite."


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


def snapshot(value: object) -> object:
    """A deep copy of the arrays inside ``value`` (nested tuples, lists, dicts).

    Used to tell afterwards whether a call wrote into an array it was given.
    """
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [snapshot(v) for v in value]
    if isinstance(value, tuple):
        return tuple(snapshot(v) for v in value)
    if isinstance(value, Mapping):
        return {k: snapshot(v) for k, v in value.items()}
    return value


def unchanged(before: object, after: object) -> bool:
    """True when ``after`` holds the same array values as the snapshot ``before``."""
    if isinstance(before, np.ndarray):
        return (
            isinstance(after, np.ndarray)
            and before.shape == after.shape
            and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
        )
    if isinstance(before, (tuple, list)):
        return (
            isinstance(after, (tuple, list))
            and len(before) == len(after)
            and all(unchanged(b, a) for b, a in zip(before, after, strict=True))
        )
    if isinstance(before, Mapping):
        return (
            isinstance(after, Mapping)
            and before.keys() == after.keys()
            and all(unchanged(before[k], after[k]) for k in before)
        )
    return True  # scalars and other objects cannot be written through


def in_place_changes(
    originals: Mapping[str, object], passed: Mapping[str, object], call: str
) -> str | None:
    """Diagnose arguments that a call modified in place.

    Parameters
    ----------
    originals : mapping of name -> snapshot taken before the call
    passed : mapping of name -> the objects that were passed to the call
    call : str
        The call's name in the message, e.g. ``"backward"``.
    """
    changed = [name for name in originals if not unchanged(originals[name], passed[name])]
    if not changed:
        return None
    return MUTATED.format(what=" and ".join(changed), call=call)


def overflow_warning(caught: Sequence[warnings.WarningMessage]) -> str | None:
    """The text of the first overflow RuntimeWarning among ``caught``, if any."""
    for record in caught:
        if issubclass(record.category, RuntimeWarning) and "overflow" in str(record.message):
            return str(record.message)
    return None


def sigmoid_overflow(caught: Sequence[warnings.WarningMessage]) -> str | None:
    """Diagnose a sigmoid whose forward pass overflowed on large negative inputs."""
    warning = overflow_warning(caught)
    return None if warning is None else SIGMOID_OVERFLOW.format(warning=warning)


def affine_shape_error(exc: BaseException) -> str | None:
    """Diagnose a shape error raised inside an affine forward or backward pass.

    NumPy's matmul and broadcasting errors mention the mismatching shapes; they
    almost always mean a missing reshape of ``x`` or a transposed ``w``.
    """
    text = str(exc)
    if isinstance(exc, ValueError) and ("shape" in text or "mismatch" in text):
        return (
            "a shape mismatch: flatten x to (N, D) with x.reshape(x.shape[0], -1) before "
            "multiplying; w has shape (D, M), so out = x2d @ w + b, dx = (dout @ w.T) "
            "reshaped to x's shape, dw = x2d.T @ dout and db = dout.sum(axis=0)."
        )
    return None
