"""The whole exercise suite: each wrapper's group of tests, in the order they run.

Used by ``barenet check`` and the wrappers (the calls made in this process) and
by ``barenet grade`` (the calls made in a sandboxed child). Exercises whose
names are missing still run, so that each of their tests fails with a clear
message and counts against the score.
"""

from __future__ import annotations

from barenet.grading.definitions.activation_tests import relu_specs, sigmoid_specs
from barenet.grading.definitions.affine_tests import affine_specs
from barenet.grading.definitions.momentum_tests import momentum_specs
from barenet.grading.engine.spec import TestSpec


def suite_groups(convention: str) -> list[tuple[str, list[TestSpec]]]:
    """Each wrapper's name and tests, in the order they run."""
    return [
        ("SigmoidTestWrapper", sigmoid_specs()),
        ("ReluTestWrapper", relu_specs()),
        ("AffineTestWrapper", affine_specs(convention)),
        ("SGDMTestWrapper", momentum_specs()),
    ]
