"""Layer objects for a ``Sequential`` network, batch normalisation built on yours.

``BatchNorm1d`` and ``BatchNorm2d`` are barenet's layer objects (PyTorch's
constructor: ``momentum=0.1`` is the weight of the new batch statistic), here running
your ``batchnorm_forward`` / ``spatial_batchnorm_forward`` and their backward passes.
``Sequential``, ``Linear``, ``Relu`` and ``Dropout`` (``p`` DROPS, as in PyTorch) are
barenet's.
"""

from __future__ import annotations

import numpy as np

from barenet import Sequential
from barenet.layers import Dropout, Flatten, Linear, Relu
from barenet.layers.base import Layer

from .layers import (
    Cache,
    batchnorm_backward,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

# barenet-kit: include barenet.layers.batchnorm BatchNorm1d


# barenet-kit: include barenet.layers.batchnorm BatchNorm2d without _compiled

__all__ = ["BatchNorm1d", "BatchNorm2d", "Dropout", "Flatten", "Linear", "Relu", "Sequential"]
