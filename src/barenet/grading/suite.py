"""The whole exercise suite: every group's tests, on what a module or submission defines.

Used by ``barenet check`` (on the learner's imported files) and, with the calls
made in a sandboxed child, by ``barenet grade``. Exercises whose names are
missing still run, so that each of their tests fails with a clear message and
counts against the score.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from barenet.grading.activation_tests import relu_specs, sigmoid_specs
from barenet.grading.affine_tests import affine_specs
from barenet.grading.harness import Counted, GroupResult, TestResult, summary_lines
from barenet.grading.momentum_tests import momentum_specs
from barenet.grading.sandboxed.exercise_names import EXERCISE_KEYS, key_for, source_keys
from barenet.grading.spec import TestSpec, build_probes, fresh_seed, judge_all, run_in_process


@dataclass(frozen=True)
class SuiteResult(Counted):
    """The results of every exercise's tests, as data.

    Attributes
    ----------
    groups : tuple of GroupResult
        One per wrapper, in the order Sigmoid, Relu, affine, SGD+momentum.
    missing : tuple of str
        Exercises the module or submission does not define.
    found : tuple of str
        The names it does define (so that a missing name can be told from a typo).
    notes : tuple of str
        Remarks on what was found.
    seed : int
        The seed of the test inputs.
    """

    groups: tuple[GroupResult, ...]
    missing: tuple[str, ...] = ()
    found: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seed: int = 0

    @property
    def results(self) -> list[TestResult]:
        return [result for group in self.groups for result in group.results]

    def head_lines(self) -> list[str]:
        """The lines before the tests: what is missing (with what was found), the notes."""
        lines = []
        if self.missing:
            lines.append(
                f"Missing: {', '.join(self.missing)} (their tests count as failed); "
                f"found: {', '.join(self.found) or 'nothing'}"
            )
        return lines + [f"Note: {note}" for note in self.notes]

    def lines(self) -> list[str]:
        """What the suite prints: missing names, notes, each test with advice, summary, score."""
        tests = [line for result in self.results for line in result.lines()]
        return self.head_lines() + tests + summary_lines(self.passed, self.total)

    def to_dict(self) -> dict:
        """A JSON-ready dict: score, counts, tests, missing, found, notes, seed."""
        return {
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "tests": [r.to_dict() for r in self.results],
            "missing": list(self.missing),
            "found": list(self.found),
            "notes": list(self.notes),
            "seed": self.seed,
        }


def suite_groups(convention: str) -> list[tuple[str, list[TestSpec]]]:
    """Each wrapper's name and tests, in the order they run."""
    return [
        ("SigmoidTestWrapper", sigmoid_specs()),
        ("ReluTestWrapper", relu_specs()),
        ("AffineTestWrapper", affine_specs(convention)),
        ("SGDMTestWrapper", momentum_specs()),
    ]


def missing_exercises(source: object) -> list[str]:
    """The exercises that ``source`` (a module or mapping) does not provide."""
    return [exercise for exercise in EXERCISE_KEYS if key_for(source, exercise) is None]


def exercise_names_found(source: object) -> list[str]:
    """The names ``source`` defines, sorted."""
    return sorted(source_keys(source))


def run_exercise_suite(
    source: object,
    verbose: bool = True,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
) -> SuiteResult:
    """Run every exercise's tests, in this process, on the names ``source`` defines.

    Parameters
    ----------
    source : module or mapping
        Defines some of ``Sigmoid``, ``Relu``, ``affine_forward`` / ``AffineForward``,
        ``affine_backward`` / ``AffineBackward``, ``SGD_Momentum_update`` /
        ``SGDMomentum`` / ``sgd_momentum``.
    verbose : bool
        Print the lines (see :meth:`SuiteResult.lines`).
    convention : {"exact", "batch-mean"}
    strict : bool
    seed : int, optional
        Fresh by default.
    """
    seed = fresh_seed() if seed is None else seed
    implementations = dict.fromkeys(EXERCISE_KEYS, source)
    groups = tuple(
        run_in_process(name, specs, implementations, seed, strict)
        for name, specs in suite_groups(convention)
    )
    result = SuiteResult(
        groups,
        tuple(missing_exercises(source)),
        tuple(exercise_names_found(source)) if missing_exercises(source) else (),
        seed=seed,
    )
    if verbose:
        print("\n".join(result.lines()))
    return result


def judge_suite(
    records: list[list[dict]],
    convention: str,
    strict: bool,
    seed: int,
    found: Mapping[str, object] | list[str],
) -> SuiteResult:
    """The suite's result from the records of every test's calls, made elsewhere.

    ``records`` holds one list per test, in the order of :func:`suite_groups`.
    """
    groups, start = [], 0
    for name, specs in suite_groups(convention):
        probes = build_probes(specs, seed)
        chunk = records[start : start + len(specs)]
        groups.append(judge_all(name, specs, probes, chunk, strict))
        start += len(specs)
    keys = dict.fromkeys(found)
    missing = missing_exercises(keys)
    return SuiteResult(
        tuple(groups), tuple(missing), tuple(sorted(keys)) if missing else (), seed=seed
    )
