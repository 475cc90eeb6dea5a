"""The layers you write: convolution, max pooling, spatial batch and group normalisation.

The call forms are CS231n's. ``conv_forward(x, w, b, conv_param) -> (out, cache)``
convolves ``x`` (N, C, H, W) with ``w`` (F, C, HH, WW) as one matrix product over
image patches (im2col); ``conv_backward(dout, cache) -> (dx, dw, db)`` is given and
runs your ``conv_input_grad`` and ``conv_param_grads``. ``max_pool_forward(x,
pool_param)`` takes each window's maximum. ``spatial_batchnorm_forward`` normalises
each channel over (N, H, W) with the batch normalisation of the previous exercise
(``_batchnorm`` and ``_batchnorm_backward``: bring your code along);
``spatial_groupnorm_forward(x, gamma, beta, G, gn_param)`` normalises each group of
channels of each sample. Every backward is ``*_backward(dout, cache)``.

Images are (N, C, H, W) at the API; inside, the convolution keeps them channels-last,
(N, H, W, C), so that a patch's values are contiguous (see ``im2col``). Each ``# TODO``
says what to write; the notebook's test cells check your code.
"""

from __future__ import annotations

import sys

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# barenet-kit: include barenet.layers.base Cache Workspace new_array


# barenet-kit: include barenet.layers.conv conv_output_size _conv_params _check_conv_shapes
# barenet-kit: include barenet.layers.conv pad_channels_last im2col col2im


# barenet-kit: include barenet.layers.conv conv_forward conv_backward _dout_matrix
# barenet-kit: include-solution barenet.layers.conv _patch_products
# barenet-kit: include barenet.layers.conv conv_param_grads conv_input_grad


# barenet-kit: include barenet.layers.pool _pool_params _windows _grad_buffer
# barenet-kit: include barenet.layers.pool max_pool_forward max_pool_backward


# barenet-kit: include barenet.layers.norm check_eps
# barenet-kit: include-solution barenet.layers.norm normalize
# barenet-kit: include barenet.layers.batchnorm BN_KEYS _check_bn_param _batchnorm _batchnorm_backward _check_shapes


# barenet-kit: include barenet.layers.batchnorm batchnorm_forward batchnorm_backward
# barenet-kit: include barenet.layers.batchnorm spatial_batchnorm_forward spatial_batchnorm_backward


# barenet-kit: include barenet.layers.norm _check_groups
# barenet-kit: include-solution barenet.layers.norm _group_mean
# barenet-kit: include barenet.layers.norm spatial_groupnorm_forward spatial_groupnorm_backward
