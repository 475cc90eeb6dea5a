"""The whole exercise suite, run on whatever a learner's module or submission defines.

Used by ``barenet check FILE.py`` (on an imported module) and by the grader's
sandboxed child (on the unpickled dict). Exercises whose names are missing are
still run, so that each of their tests fails with a clear message and counts
against the score.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass

from barenet.grading.harness import Counted, GroupResult, TestResult, summary_lines
from barenet.grading.wrappers import (
    AffineTestWrapper,
    ReluTestWrapper,
    SGDMTestWrapper,
    SigmoidTestWrapper,
)

# Each exercise, and the names that provide it (any one of them for the optimizer).
REQUIRED_NAMES: dict[str, tuple[str, ...]] = {
    "Sigmoid": ("Sigmoid",),
    "Relu": ("Relu",),
    "affine_forward": ("affine_forward",),
    "affine_backward": ("affine_backward",),
    "SGDMomentum or sgd_momentum": ("SGDMomentum", "sgd_momentum"),
}
EXERCISE_NAMES: tuple[str, ...] = (
    "Sigmoid",
    "Relu",
    "affine_forward",
    "affine_backward",
    "SGDMomentum",
    "sgd_momentum",
)


@dataclass(frozen=True)
class SuiteResult(Counted):
    """The results of every exercise's tests, as data.

    Attributes
    ----------
    groups : tuple of GroupResult
        One per wrapper, in the order Sigmoid, Relu, affine, SGD+momentum.
    missing : tuple of str
        Exercise names the module or submission does not define.
    notes : tuple of str
        Remarks on what was found (e.g. a name imported from barenet, not the learner's).
    """

    groups: tuple[GroupResult, ...]
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def results(self) -> list[TestResult]:
        return [result for group in self.groups for result in group.results]

    def lines(self) -> list[str]:
        """What the suite prints: missing names, notes, one line per test, summary, score."""
        head = [f"Missing: {name} (its tests count as failed)" for name in self.missing]
        head += [f"Note: {note}" for note in self.notes]
        return head + [r.message for r in self.results] + summary_lines(self.passed, self.total)

    def to_dict(self) -> dict:
        """A JSON-ready dict: score, tests (name, passed, message, ...), missing, notes."""
        return {
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "tests": [r.to_dict() for r in self.results],
            "missing": list(self.missing),
            "notes": list(self.notes),
        }


def _has(source: object, name: str) -> bool:
    return name in source if isinstance(source, Mapping) else hasattr(source, name)


def _get(source: object, name: str) -> object:
    return source[name] if isinstance(source, Mapping) else getattr(source, name)


def missing_names(source: object) -> list[str]:
    """The exercises that ``source`` (a module or mapping) does not provide."""
    return [
        label
        for label, names in REQUIRED_NAMES.items()
        if not any(_has(source, name) for name in names)
    ]


def provenance_notes(source: object) -> list[str]:
    """Point out exercise names that are barenet's own objects rather than the learner's."""
    notes = []
    for name in EXERCISE_NAMES:
        if not _has(source, name):
            continue
        obj = _get(source, name)
        module = getattr(
            obj if inspect.isclass(obj) or callable(obj) else type(obj), "__module__", ""
        )
        if module and (module == "barenet" or module.startswith("barenet.")):
            notes.append(f"{name} is barenet's own (from {module}), not an implementation of yours")
    return notes


def run_exercise_suite(source: object, verbose: bool = True) -> SuiteResult:
    """Run every exercise's tests on the names defined by ``source``.

    Parameters
    ----------
    source : module or mapping
        Defines some of ``Sigmoid``, ``Relu``, ``affine_forward``,
        ``affine_backward``, ``SGDMomentum`` / ``sgd_momentum``.
    verbose : bool
        Print the lines (see :meth:`SuiteResult.lines`).
    """
    groups = tuple(
        wrapper.run(verbose=False)
        for wrapper in (
            SigmoidTestWrapper(source),
            ReluTestWrapper(source),
            AffineTestWrapper(source),
            SGDMTestWrapper(source),
        )
    )
    result = SuiteResult(groups, tuple(missing_names(source)), tuple(provenance_notes(source)))
    if verbose:
        for line in result.lines():
            print(line)
    return result
