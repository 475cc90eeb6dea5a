"""One definition per test, whatever runs the learner's code.

A :class:`TestSpec` builds a :class:`Probe` from a random generator (the calls
to make, and on the grader's side only, what the judge needs to know) and
judges the records those calls produced (:mod:`barenet.grading.engine.judge`).
Where the calls run does not matter: :mod:`barenet.grading.local.in_process`
runs them here (the test wrappers, ``barenet check``); the grader sends the same
calls to a sandboxed child and judges the records that come back
(:mod:`barenet.grading.submissions.grader`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from barenet.grading.engine.results import Verdict
from barenet.grading.sandboxed.learner_calls import Call

CONVENTIONS = ("exact", "batch-mean")


@dataclass(frozen=True)
class Probe:
    """The calls of one test and, kept by the judge, the inputs and expected values.

    Attributes
    ----------
    calls : list of Call
    context : dict
        Anything the judge needs (inputs, reference values); never sent to the child.
    """

    calls: list[Call]
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TestSpec:
    """A named test.

    Attributes
    ----------
    name : str
        The course's name where the course has the test (``SigmoidForwardTest``).
    exercise : str
        The exercise it tests: ``Sigmoid``, ``Relu``, ``affine_forward`` /
        ``affine_backward`` or ``SGDMomentum``.
    build : callable
        ``build(rng) -> Probe``, with ``rng`` a ``numpy.random.Generator``.
    judge : callable
        ``judge(probe, records) -> Verdict``; called only when no call raised.
    explain_exception : callable, optional
        ``explain_exception(error) -> str | None`` for ``error = {"type", "message"}``.
    """

    __test__ = False

    name: str
    exercise: str
    build: Callable[[np.random.Generator], Probe]
    judge: Callable[[Probe, list[dict]], Verdict]
    explain_exception: Callable[[dict], str | None] | None = None


def fresh_seed() -> int:
    """A new seed from the operating system's entropy (recorded with a grade)."""
    return int(np.random.SeedSequence().entropy % 2**63)


def build_probes(specs: Sequence[TestSpec], seed: int) -> list[Probe]:
    """Each spec's probe, from a generator seeded by ``seed`` and the test's name."""
    return [
        spec.build(np.random.default_rng([seed, zlib.crc32(spec.name.encode())])) for spec in specs
    ]


def suite_calls(groups: Sequence[tuple[str, Sequence[TestSpec]]], seed: int) -> list[list[Call]]:
    """Every test's calls, one list per test, in the order of ``groups`` (what the child runs).

    Parameters
    ----------
    groups : sequence of (group name, specs)
    seed : int
    """
    return [probe.calls for _, specs in groups for probe in build_probes(specs, seed)]


def check_convention(convention: str) -> str:
    """``convention`` itself, or ``ValueError`` naming the argument and the choices."""
    if convention not in CONVENTIONS:
        raise ValueError(
            f"convention must be one of {', '.join(map(repr, CONVENTIONS))}, got {convention!r}"
        )
    return convention
