"""Layers as forward/backward pairs, one file per family.

The contract every layer follows is in :mod:`barenet.layers.base`.
"""

from barenet.layers.activations import ACTIVATIONS, LeakyRelu, Relu, Sigmoid, Tanh
from barenet.layers.affine import Linear, affine_backward, affine_forward, affine_param_grads
from barenet.layers.base import Cache, Layer
from barenet.layers.batchnorm import (
    BatchNorm1d,
    BatchNorm2d,
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from barenet.layers.conv import Conv2d, conv_backward, conv_forward
from barenet.layers.dropout import (
    Dropout,
    DropoutProbabilityWarning,
    dropout_backward,
    dropout_forward,
)
from barenet.layers.norm import (
    GroupNorm,
    LayerNorm,
    layernorm_backward,
    layernorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from barenet.layers.patch_whitening import PatchWhitening, patch_whitening_filters
from barenet.layers.pool import (
    AvgPool2d,
    GlobalAvgPool2d,
    MaxPool2d,
    avg_pool_backward,
    avg_pool_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
    max_pool_window_argmax,
)
from barenet.layers.reshape import ChannelsFirst, Flatten

__all__ = [
    "ACTIVATIONS",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Cache",
    "ChannelsFirst",
    "Conv2d",
    "Dropout",
    "DropoutProbabilityWarning",
    "Flatten",
    "GlobalAvgPool2d",
    "GroupNorm",
    "Layer",
    "LayerNorm",
    "LeakyRelu",
    "Linear",
    "MaxPool2d",
    "PatchWhitening",
    "Relu",
    "Sigmoid",
    "Tanh",
    "affine_backward",
    "affine_forward",
    "affine_param_grads",
    "avg_pool_backward",
    "avg_pool_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "conv_backward",
    "conv_forward",
    "dropout_backward",
    "dropout_forward",
    "global_avg_pool_backward",
    "global_avg_pool_forward",
    "layernorm_backward",
    "layernorm_forward",
    "max_pool_backward",
    "max_pool_forward",
    "max_pool_window_argmax",
    "patch_whitening_filters",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
]
