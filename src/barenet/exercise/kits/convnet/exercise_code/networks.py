"""Layer objects built on your layers, and CS231n's three-layer ConvNet made of them.

``Conv2d`` and ``MaxPool2d`` are barenet's layer objects (PyTorch's constructors),
here running your ``conv_forward``, ``conv_input_grad``, ``conv_param_grads``,
``max_pool_forward`` and ``max_pool_backward``. ``ThreeLayerConvNet`` is barenet's
conv - relu - 2x2 max pool - affine - relu - affine network, built from them: if one
of your layers is wrong, its training shows it too. ``Sequential``, ``Linear``,
``Relu``, ``Flatten`` and ``ChannelsFirst`` are barenet's.
"""

from __future__ import annotations

import inspect

import numpy as np

from barenet import Sequential
from barenet.layers import ChannelsFirst, Flatten, Linear, Relu
from barenet.layers.base import Layer, weight_std

from .layers import (
    Cache,
    Workspace,
    _conv_params,
    conv_forward,
    conv_input_grad,
    conv_param_grads,
    max_pool_backward,
    max_pool_forward,
)

# barenet-kit: include barenet.layers.conv _pair Conv2d


# barenet-kit: include barenet.layers.pool MaxPool2d without _compiled


# barenet-kit: include barenet.convnet ThreeLayerConvNet

__all__ = [
    "ChannelsFirst",
    "Conv2d",
    "Flatten",
    "Linear",
    "MaxPool2d",
    "Relu",
    "Sequential",
    "ThreeLayerConvNet",
]
