"""Running the tests here, in this process, on the learner's callables.

The test wrappers and ``barenet check`` run the learner's own code on the
learner's own machine: the calls are made in this process and judged at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from barenet.grading.definitions.suite import suite_groups
from barenet.grading.engine.judge import judge_all, missing_exercises
from barenet.grading.engine.results import GroupResult, SuiteResult
from barenet.grading.engine.spec import TestSpec, build_probes, fresh_seed
from barenet.grading.sandboxed.exercise_names import (
    DEFAULT_EXERCISE,
    EXERCISE_KEYS,
    source_keys,
)
from barenet.grading.sandboxed.learner_calls import run_plans


def run_in_process(
    name: str,
    specs: Sequence[TestSpec],
    implementations: Mapping[str, object],
    seed: int,
    strict: bool = False,
) -> GroupResult:
    """Run the learner's callables here, in this process, and judge them.

    Parameters
    ----------
    name : str
        The group's name.
    specs : sequence of TestSpec
    implementations : mapping of exercise -> object
        A source (module or mapping) or the object itself, per exercise.
    seed : int
    strict : bool
    """
    probes = build_probes(specs, seed)
    records = run_plans([probe.calls for probe in probes], implementations)
    return judge_all(name, specs, probes, records, strict)


def run_exercise_suite(
    source: object,
    verbose: bool = True,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    exercise: str = DEFAULT_EXERCISE,
) -> SuiteResult:
    """Run an exercise's tests, in this process, on the names ``source`` defines.

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
    exercise : str
        One of ``GRADED_EXERCISES`` (default: the first exercise).
    """
    seed = fresh_seed() if seed is None else seed
    implementations = dict.fromkeys(EXERCISE_KEYS, source)
    groups = tuple(
        run_in_process(name, specs, implementations, seed, strict)
        for name, specs in suite_groups(convention, exercise)
    )
    missing = tuple(missing_exercises(source, exercise))
    result = SuiteResult(
        groups,
        missing,
        tuple(sorted(source_keys(source))) if missing else (),
        seed=seed,
    )
    if verbose:
        print("\n".join(result.lines()))
    return result
