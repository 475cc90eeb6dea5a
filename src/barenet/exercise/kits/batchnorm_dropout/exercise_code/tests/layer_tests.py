"""Unit tests of your layers in ``exercise_code/layers.py``.

Each wrapper runs its tests at once, prints one line per test, ``Tests passed: k/n``
and a score, and returns the score: ``print(BatchNormTestWrapper())``. The tests are
barenet's wrappers, pointed at your ``layers`` module; options such as ``seed=1``
pass through.
"""

from functools import partial

from barenet import grading

from .. import layers

#: ``batchnorm_forward`` (training and test mode, running statistics) and backward.
BatchNormTestWrapper = partial(grading.BatchNormTestWrapper, layers)
#: ``layernorm_forward`` and ``layernorm_backward``'s dx, dgamma and dbeta.
LayerNormTestWrapper = partial(grading.LayerNormTestWrapper, layers)
#: ``dropout_forward`` (training statistics, inverted scaling, test mode) and backward.
DropoutTestWrapper = partial(grading.DropoutTestWrapper, layers)

__all__ = ["BatchNormTestWrapper", "DropoutTestWrapper", "LayerNormTestWrapper"]
