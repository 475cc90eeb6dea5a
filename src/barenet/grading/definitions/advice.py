"""Advice from the records of a learner's calls: remarks that cost no points.

Three things are worth saying but are not what the exercise grades: NumPy
warned about an overflow, an argument (input, ``dout``, cache) was modified in
place, or the code loops over the elements in Python. Each becomes one sentence
under the test's line; with ``strict`` grading it also fails the test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from barenet.grading.sandboxed.learner_calls import Call, Ref

MIN_LOOP_STEPS = 24  # below this many Python steps, no loop is worth a remark

OVERFLOW = (
    "NumPy warned '{warning}' in {call}. The values are right (exp overflows to inf and "
    "1 / (1 + inf) is 0), but a stable form avoids the warning: e = np.exp(-np.abs(x)), then "
    "1 / (1 + e) where x >= 0 and e / (1 + e) where x < 0."
)
MUTATED = (
    "{what} modified in place by {call}: a layer should not write into its arguments "
    "(e.g. x[x < 0] = 0 or dout[mask] = 0), since the caller may use them again; "
    "build a new array instead (np.maximum(x, 0), dout * mask)."
)
LOOPED = (
    "{call} ran {steps} Python steps for {size} elements: a Python loop over the elements "
    "(for, map or a comprehension). NumPy's whole-array operations (np.maximum, "
    "boolean masks, @) give the same values many times faster."
)


def same_data(before: object, after: object) -> bool:
    """True when two values in record form (see ``to_data``) hold the same arrays and values."""
    if isinstance(before, np.ndarray) or isinstance(after, np.ndarray):
        return (
            isinstance(before, np.ndarray)
            and isinstance(after, np.ndarray)
            and before.shape == after.shape
            and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
        )
    if isinstance(before, dict) and isinstance(after, dict):
        return before.keys() == after.keys() and all(same_data(before[k], after[k]) for k in before)
    if isinstance(before, list) and isinstance(after, list):
        return len(before) == len(after) and all(
            same_data(b, a) for b, a in zip(before, after, strict=True)
        )
    return before == after


def label(call: Call) -> str:
    """How a call is named in sentences, e.g. ``"backward"`` or ``"affine_forward"``."""
    return call.target.split(".")[-1]


def written_arguments(call: Call, record: dict) -> list[str]:
    """The named arguments of ``call`` that the learner's code changed."""
    after = record.get("args_after") or []
    changed = []
    for position, (name, sent) in enumerate(zip(call.names, call.args, strict=False)):
        if not name or position >= len(after):
            continue
        if isinstance(sent, Ref):
            before = record["refs_before"].get(str(position))
        else:
            before = sent
        if not same_data(before, after[position]):
            changed.append(name)
    return changed


def largest_input(call: Call) -> int:
    """The number of elements of the call's largest array argument."""
    sizes = [a.size for a in call.args if isinstance(a, np.ndarray)]
    return max(sizes, default=0)


def advice_for(calls: Sequence[Call], records: Sequence[dict]) -> list[str]:
    """Every remark on a plan's calls, each said once."""
    remarks: list[str] = []
    for call, record in zip(calls, records, strict=False):
        for warning in record.get("warnings", []):
            if "overflow" in warning["message"]:
                remarks.append(OVERFLOW.format(warning=warning["message"], call=label(call)))
        changed = written_arguments(call, record)
        if changed:
            remarks.append(MUTATED.format(what=" and ".join(changed), call=label(call)))
        size = largest_input(call)
        if call.names and size and record.get("steps", 0) >= max(MIN_LOOP_STEPS, size):
            remarks.append(LOOPED.format(call=label(call), steps=record["steps"], size=size))
    return list(dict.fromkeys(remarks))
