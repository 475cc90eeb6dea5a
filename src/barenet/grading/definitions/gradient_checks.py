"""The shared checks of the new layers' tests: a numerical gradient check, and repeatability.

A learner's ``dx`` of a non-linear layer (batch, layer and group norm, max pooling) is
checked by :func:`barenet.gradcheck.check_gradient_kink_aware` against the grader's own
forward (:mod:`.layer_references`): centred differences away from kinks, one-sided ones
across them (a pooling window whose maximum moves within ``+-h``). Gradients that are
linear in the inputs (convolution, ``dgamma``, ``dbeta``, dropout) are compared with
their exact closed form instead, as the affine tests do: differencing would only add
rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from barenet.gradcheck import check_gradient_kink_aware
from barenet.grading.definitions import diagnoses
from barenet.grading.engine.records import as_array, items
from barenet.grading.engine.results import Verdict

# Centred differences of these layers in float64 reach about 1e-9; a real bug is 1e-3 or more.
NUMERIC_TOLERANCE = 1e-6
EXACT_TOLERANCE = 1e-7
ONE_SIDED_TOLERANCE = 1e-4  # check_gradient_kink_aware's default


def numeric_check(
    name: str,
    measured: np.ndarray,
    forward: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    dout: np.ndarray,
    state: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[bool, str, float | None]:
    """``(passed, detail, error)`` of a learner's gradient against the kink-aware check.

    Parameters
    ----------
    name : str
        The gradient's name in the detail, e.g. ``"dx"``.
    measured : ndarray
        The learner's gradient; x's shape when right.
    forward : callable
        The grader's forward as a function of ``x`` alone.
    x : ndarray, float64
    dout : ndarray, shape of ``forward(x)``
    state : callable, optional
        The discrete state whose change marks a kink (max pooling's argmax).
    """
    if measured.shape != x.shape:
        return False, f"expected {name} of shape {x.shape}, measured {measured.shape}", None
    if not np.all(np.isfinite(measured)):
        return False, f"{name} contains NaN or inf", None
    check = check_gradient_kink_aware(
        forward, x.copy(), dout, measured, state=state, tol=NUMERIC_TOLERANCE
    )
    if check.passed:
        return True, "", max(check.error, check.kink_error)
    # An entry near 0 has a large relative error from the differences' rounding alone
    # (about 1e-9 here): away from kinks, measure the error against the largest entry too.
    smooth = ~check.kinks
    scale = max(float(np.abs(check.numerical[smooth]).max(initial=0.0)), 1e-8)
    normwise = float(np.abs(measured - check.numerical)[smooth].max(initial=0.0)) / scale
    if normwise <= NUMERIC_TOLERANCE and check.kink_error <= ONE_SIDED_TOLERANCE:
        return True, "", normwise
    return False, f"the gradient check of {name} failed: {check}", check.error


def gradient_of(record: dict, count: int, index: int, name: str, returns: str) -> np.ndarray:
    """Item ``index`` of a backward's returned tuple of ``count`` (or the array itself)."""
    result = record["result"]
    value = result if count == 1 else items(result, count, returns)[index]
    return as_array(value, name)


def repeat_verdict(again: np.ndarray, measured: np.ndarray, name: str, error) -> Verdict:
    """Pass when a second backward with the same cache returned the same gradient."""
    if again.shape != measured.shape or not np.allclose(again, measured, rtol=1e-12, atol=0.0):
        return Verdict(
            False,
            f"a second backward call with the same cache gave another {name}",
            error,
            diagnoses.NOT_REPEATABLE,
        )
    return Verdict(True, "", error)
