"""Each exercise's suite: its wrappers' groups of tests, in the order they run.

Used by ``barenet check`` and the wrappers (the calls made in this process) and
by ``barenet grade`` (the calls made in a sandboxed child). Exercises whose
names are missing still run, so that each of their tests fails with a clear
message and counts against the score. The exercises and the parts each asks for
are named in :data:`barenet.grading.sandboxed.exercise_names.GRADED_EXERCISES`.
"""

from __future__ import annotations

from barenet.grading.definitions.activation_tests import relu_specs, sigmoid_specs
from barenet.grading.definitions.affine_tests import affine_specs
from barenet.grading.definitions.batchnorm_tests import batchnorm_specs, spatial_batchnorm_specs
from barenet.grading.definitions.conv_tests import conv_specs
from barenet.grading.definitions.dropout_tests import dropout_specs
from barenet.grading.definitions.groupnorm_tests import groupnorm_specs
from barenet.grading.definitions.layernorm_tests import layernorm_specs
from barenet.grading.definitions.momentum_tests import momentum_specs
from barenet.grading.definitions.pool_tests import max_pool_specs
from barenet.grading.engine.spec import TestSpec
from barenet.grading.sandboxed.exercise_names import DEFAULT_EXERCISE, GRADED_EXERCISES


def check_exercise(exercise: str) -> str:
    """``exercise`` itself, or ``ValueError`` naming the argument and the choices."""
    if exercise not in GRADED_EXERCISES:
        raise ValueError(
            f"exercise must be one of {', '.join(map(repr, GRADED_EXERCISES))}, got {exercise!r}"
        )
    return exercise


def suite_groups(
    convention: str, exercise: str = DEFAULT_EXERCISE
) -> list[tuple[str, list[TestSpec]]]:
    """Each wrapper's name and tests, in the order they run, for one exercise."""
    check_exercise(exercise)
    if exercise == "batchnorm-dropout":
        return [
            ("BatchNormTestWrapper", batchnorm_specs()),
            ("LayerNormTestWrapper", layernorm_specs()),
            ("DropoutTestWrapper", dropout_specs()),
        ]
    if exercise == "convnet":
        return [
            ("ConvTestWrapper", conv_specs()),
            ("MaxPoolTestWrapper", max_pool_specs()),
            ("SpatialBatchNormTestWrapper", spatial_batchnorm_specs()),
            ("GroupNormTestWrapper", groupnorm_specs()),
        ]
    return [
        ("SigmoidTestWrapper", sigmoid_specs()),
        ("ReluTestWrapper", relu_specs()),
        ("AffineTestWrapper", affine_specs(convention)),
        ("SGDMTestWrapper", momentum_specs()),
    ]
