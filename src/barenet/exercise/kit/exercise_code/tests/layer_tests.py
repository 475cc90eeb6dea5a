"""Unit tests of your layers in ``exercise_code/networks/layer.py``.

Each wrapper runs its tests at once, prints one line per test and a score, and
returns the score: ``print(SigmoidTestWrapper())``. The tests are barenet's; the
code they test is yours.
"""

from barenet import grading

from ..networks import layer


def SigmoidTestWrapper(**options):
    """Test ``Sigmoid.forward`` and ``Sigmoid.backward``."""
    return grading.SigmoidTestWrapper(layer, **options)


def ReluTestWrapper(**options):
    """Test ``Relu.forward`` and ``Relu.backward``."""
    return grading.ReluTestWrapper(layer, **options)


def AffineTestWrapper(**options):
    """Test ``affine_forward`` and ``affine_backward`` (dx, dw and db)."""
    return grading.AffineTestWrapper(layer, **options)


__all__ = ["AffineTestWrapper", "ReluTestWrapper", "SigmoidTestWrapper"]
