"""Reading the records of a learner's calls: the returned arrays, compared with references.

Records hold plain data (see ``barenet.grading.sandboxed.learner_calls.to_data``):
arrays, numbers, and tagged ``{"seq": [...]}``, ``{"dict": [...]}``,
``{"object": name}``. These helpers take what a test needs out of them, and
raise :class:`ShapeOfResultError` with a sentence when the learner returned
something of another form.
"""

from __future__ import annotations

import numpy as np

from barenet.gradcheck import rel_error


class ShapeOfResultError(ValueError):
    """The learner's call returned something of an unexpected form."""


def describe(value: object) -> str:
    """A value in record form, named in words."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, dict) and "seq" in value:
        return f"a sequence of {len(value['seq'])} items"
    if isinstance(value, dict) and "dict" in value:
        return "a dict"
    if isinstance(value, dict) and "object" in value:
        return f"a {value['object']}"
    return f"a {type(value).__name__}"


def items(value: object, count: int, what: str) -> list:
    """The ``count`` items of a returned tuple or list, e.g. ``(out, cache)``."""
    if isinstance(value, dict) and "seq" in value and len(value["seq"]) == count:
        return value["seq"]
    raise ShapeOfResultError(f"{what}, returned {describe(value)}")


def as_array(value: object, what: str) -> np.ndarray:
    """A returned array (or number) as float64."""
    if isinstance(value, np.ndarray) or isinstance(value, (int, float)):
        return np.asarray(value, dtype=np.float64)
    raise ShapeOfResultError(f"expected {what} to be an array, got {describe(value)}")


def dict_value(value: object, key: str) -> object | None:
    """``value[key]`` of a returned dict in record form, or None."""
    if isinstance(value, dict) and "dict" in value:
        for k, v in value["dict"]:
            if k == key:
                return v
    return None


def compare(
    name: str, measured: np.ndarray, expected: np.ndarray, tolerance: float, against: str
) -> tuple[bool, str, float | None]:
    """``(passed, detail, error)`` of one array against its expected value.

    The detail says what was expected and measured only for a failure, so that
    no message reads "failed" next to a small error.
    """
    if measured.shape != expected.shape:
        return False, f"expected {name} of shape {expected.shape}, measured {measured.shape}", None
    if not np.all(np.isfinite(measured)):
        return False, f"{name} contains NaN or inf", None
    error = float(rel_error(measured, expected))
    if error < tolerance:
        return True, "", error
    detail = f"expected rel_error({name}, {against}) < {tolerance:.0e}, measured {error:.3g}"
    return False, detail, error
