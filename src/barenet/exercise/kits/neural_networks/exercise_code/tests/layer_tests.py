"""Unit tests of your layers in ``exercise_code/networks/layer.py``.

Each wrapper runs its tests at once, prints one line per test and a score, and
returns the score: ``print(SigmoidTestWrapper())``. The tests are barenet's
wrappers, pointed at your ``layer`` module; options such as ``seed=1`` pass through.
"""

from functools import partial

from barenet import grading

from ..networks import layer

#: Tests ``Sigmoid.forward`` and ``Sigmoid.backward``.
SigmoidTestWrapper = partial(grading.SigmoidTestWrapper, layer)
#: Tests ``Relu.forward`` and ``Relu.backward``.
ReluTestWrapper = partial(grading.ReluTestWrapper, layer)
#: Tests ``affine_forward`` and ``affine_backward`` (dx, dw and db).
AffineTestWrapper = partial(grading.AffineTestWrapper, layer)

__all__ = ["AffineTestWrapper", "ReluTestWrapper", "SigmoidTestWrapper"]
