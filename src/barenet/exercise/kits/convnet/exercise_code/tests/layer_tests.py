"""Unit tests of your layers in ``exercise_code/layers.py``.

Each wrapper runs its tests at once, prints one line per test, ``Tests passed: k/n``
and a score, and returns the score: ``print(ConvTestWrapper())``. The tests are
barenet's wrappers, pointed at your ``layers`` module; options such as ``seed=1``
pass through.
"""

from functools import partial

from barenet import grading

from .. import layers

#: ``conv_forward`` (stride 1 and 2) and ``conv_backward``'s dx, dw and db.
ConvTestWrapper = partial(grading.ConvTestWrapper, layers)
#: ``max_pool_forward`` (stride 2 and overlapping windows) and ``max_pool_backward``.
MaxPoolTestWrapper = partial(grading.MaxPoolTestWrapper, layers)
#: ``spatial_batchnorm_forward`` (training and test mode, running statistics) and backward.
SpatialBatchNormTestWrapper = partial(grading.SpatialBatchNormTestWrapper, layers)
#: ``spatial_groupnorm_forward`` and ``spatial_groupnorm_backward``.
GroupNormTestWrapper = partial(grading.GroupNormTestWrapper, layers)

__all__ = [
    "ConvTestWrapper",
    "GroupNormTestWrapper",
    "MaxPoolTestWrapper",
    "SpatialBatchNormTestWrapper",
]
