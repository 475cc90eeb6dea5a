"""Layers as forward/backward pairs, one file per family.

The contract every layer follows is in :mod:`barenet.layers.base`.
"""

from barenet.layers.activations import ACTIVATIONS, LeakyRelu, Relu, Sigmoid, Tanh
from barenet.layers.affine import affine_backward, affine_forward, affine_param_grads
from barenet.layers.base import Cache
from barenet.layers.dropout import Dropout

__all__ = [
    "ACTIVATIONS",
    "Cache",
    "Dropout",
    "LeakyRelu",
    "Relu",
    "Sigmoid",
    "Tanh",
    "affine_backward",
    "affine_forward",
    "affine_param_grads",
]
