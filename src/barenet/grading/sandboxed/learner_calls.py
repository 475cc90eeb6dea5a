"""Calling a learner's code on given inputs, and recording what happened as plain data.

A test is a *plan*: a short list of :class:`Call` (e.g. ``Relu.forward(x)``, then
``Relu.backward(dout, <the cache of that forward>)``). :func:`run_plan` performs
the calls and returns one record per call: the returned value and the arguments
as they are afterwards (arrays copied, other objects named only), the warnings
raised, the exception if any, and how many Python steps ran in the learner's own
code. The records carry no verdict: whoever judges them compares them with the
expected values. The same function runs in-process (the test wrappers) and in
the grader's sandboxed child.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .exercise_names import EntryPoints

MAX_DEPTH = 6  # nesting kept in a record; deeper parts are only named
MAX_ITEMS = 64  # items kept per list or dict
MAX_TEXT = 600  # characters kept of a message


@dataclass(frozen=True)
class Ref:
    """An earlier call's result, or the ``index``-th item of it (e.g. a forward's cache)."""

    name: str
    index: int | None = None


@dataclass(frozen=True)
class Call:
    """One call of a learner's callable.

    Attributes
    ----------
    target : str
        ``"<Layer>.forward"``, ``"<Layer>.backward"`` (one layer object per plan),
        ``"affine_forward"``, ``"affine_backward"`` or ``"SGDMomentum"`` (the update rule).
    args : tuple
        Arrays, numbers, dicts of them, or :class:`Ref` to an earlier result.
        Each call gets its own copies.
    keep : str or None
        Name under which the raw result is kept for later calls.
    names : tuple of str
        How each argument is called in advice (``"dout"``, ``"the cache"``). Named
        arguments are watched for writes in place, and a call with names for
        Python loops over the elements; an empty name leaves its argument alone.
    """

    target: str
    args: tuple = ()
    keep: str | None = None
    names: tuple[str, ...] = field(default=())


def fresh_copy(value: Any) -> Any:
    """A deep copy of arrays inside dicts, lists and tuples; other values as they are."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: fresh_copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(fresh_copy(v) for v in value)
    return value


def to_data(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data: arrays copied, sequences and dicts tagged, other objects named.

    Returns
    -------
    ndarray, bool, int, float, str, None, or a dict ``{"seq": [...]}``,
    ``{"dict": [[key, value], ...]}`` or ``{"object": type name}``.
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc":
            return np.array(value, copy=True)
        return {"object": f"ndarray of dtype {value.dtype}"}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if value is None or isinstance(value, (bool, int, float)):
        return value if not isinstance(value, int) or abs(value) < 2**62 else float(value)
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if depth >= MAX_DEPTH:
        return {"object": type(value).__name__}
    if isinstance(value, (list, tuple)):
        return {"seq": [to_data(v, depth + 1) for v in list(value)[:MAX_ITEMS]]}
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {"dict": [[str(k)[:100], to_data(v, depth + 1)] for k, v in items]}
    return {"object": type(value).__name__[:100]}


def _library_folders() -> tuple[str, ...]:
    """Folders whose code is not the learner's: NumPy, the standard library, this folder."""
    folders = [os.path.dirname(np.__file__), os.path.dirname(os.__file__)]
    folders.append(os.path.dirname(os.path.abspath(__file__)))
    return tuple(os.path.abspath(f) + os.sep for f in folders)


LIBRARY_FOLDERS = _library_folders()


class StepCounter:
    """Counts the Python steps (calls and lines) run in the learner's own code.

    A whole-array solution runs a handful of lines; a Python loop over the
    elements runs at least one step per element.
    """

    def __init__(self):
        self.steps = 0

    def trace(self, frame, event, arg):
        filename = frame.f_code.co_filename
        if filename.startswith(LIBRARY_FOLDERS) or "<frozen" in filename:
            return None  # do not trace inside NumPy or the standard library
        self.steps += 1
        return self.trace

    def __enter__(self) -> StepCounter:
        self._previous = sys.gettrace()
        sys.settrace(self.trace)
        return self

    def __exit__(self, *exc_info) -> None:
        sys.settrace(self._previous)


class Plan:
    """The state of one plan: the layer objects made so far and the kept results."""

    def __init__(self, entry_points: EntryPoints):
        self.entry_points = entry_points
        self.layers: dict[str, Any] = {}
        self.kept: dict[str, Any] = {}

    def callable_for(self, target: str) -> Callable:
        if "." in target:
            exercise, method = target.split(".", 1)
            if exercise not in self.layers:
                self.layers[exercise] = self.entry_points.layer(exercise)
            return getattr(self.layers[exercise], method)
        if target == "SGDMomentum":
            return self.entry_points.rule()
        return self.entry_points.function(target)

    def argument(self, value: Any) -> Any:
        if isinstance(value, Ref):
            kept = self.kept[value.name]
            return kept if value.index is None else kept[value.index]
        return fresh_copy(value)


def error_data(exc: BaseException) -> dict:
    """An exception as data: its type's name and its message (shortened)."""
    try:
        message = str(exc)
    except Exception:  # a hostile __str__
        message = "<message could not be read>"
    if len(message) > MAX_TEXT:
        message = message[: MAX_TEXT - 4] + " ..."
    return {"type": type(exc).__name__[:100], "message": message}


MODES = ("record", "plain", "raise")
SAMPLE_STRIDE = 997  # of a timed call's output, every 997th value is sent back


class NoCounter:
    """Stands in for :class:`StepCounter` where tracing would distort a timing."""

    steps = 0

    def __enter__(self) -> NoCounter:
        return self

    def __exit__(self, *exc_info) -> None:
        return None


def run_call(plan: Plan, call: Call, mode: str = "record") -> dict:
    """Perform one call; return its record (see :func:`run_plan`).

    ``mode`` ``"record"`` counts the Python steps and records NumPy's warnings;
    ``"plain"`` only calls and returns every ``SAMPLE_STRIDE``-th value of the
    first output (for a timing: next to nothing to copy); ``"raise"`` makes every floating-point warning an exception
    (an overflow then fails the call; an underflow to 0 is no error).
    """
    record: dict = {"result": None, "args_after": None, "refs_before": {}, "warnings": []}
    record.update(error=None, steps=0)
    try:
        function = plan.callable_for(call.target)
        args = [plan.argument(a) for a in call.args]
        record["refs_before"] = {
            str(i): to_data(a)
            for i, (a, spec) in enumerate(zip(args, call.args, strict=True))
            if isinstance(spec, Ref)
        }
        float_errors = "raise" if mode == "raise" else "warn"
        errors = {"all": float_errors, "under": "ignore" if mode == "raise" else "warn"}
        with warnings.catch_warnings(record=True) as caught, np.errstate(**errors):
            warnings.simplefilter("error" if mode == "raise" else "always")
            with StepCounter() if mode == "record" else NoCounter() as counter:
                result = function(*args)
        record["steps"] = counter.steps
        record["warnings"] = [
            {"category": w.category.__name__, "message": str(w.message)[:MAX_TEXT]}
            for w in caught[:20]
        ]
        if call.keep:
            plan.kept[call.keep] = result
        if mode == "plain":  # a timing: a sample of the first output comes back, nothing else
            first = result[0] if isinstance(result, (tuple, list)) and result else result
            sample = (
                np.asarray(first).ravel()[::SAMPLE_STRIDE] if hasattr(first, "ravel") else first
            )
            record["result"] = to_data(sample)
            return record
        record["result"] = to_data(result)
        record["args_after"] = [to_data(a) for a in args]
    except (Exception, SystemExit) as exc:  # SystemExit: a stray exit() in learner code
        record["error"] = error_data(exc)
    return record


def run_plan(calls: list[Call], entry_points: EntryPoints, mode: str = "record") -> list[dict]:
    """Perform the calls in order; stop after the first one that raises.

    Returns
    -------
    list of dict
        One record per call made: ``result`` and ``args_after`` (plain data, see
        :func:`to_data`), ``refs_before`` (the :class:`Ref` arguments just before
        the call, by position), ``warnings`` (``{"category", "message"}``),
        ``error`` (None or ``{"type", "message"}``) and ``steps`` (Python steps in
        the learner's code).
    """
    plan = Plan(entry_points)
    records = []
    for call in calls:
        records.append(run_call(plan, call, mode))
        if records[-1]["error"] is not None:
            break
    return records


def run_plans(
    plans: list[list[Call]], implementations: Mapping[str, object], mode: str = "record"
) -> list[list[dict]]:
    """Run several plans, each with fresh layer objects (``mode``: see :func:`run_call`)."""
    entry_points = EntryPoints(implementations)
    mode = mode if mode in MODES else "record"
    return [run_plan(calls, entry_points, mode) for calls in plans]
