"""The layers you write: batch and layer normalisation and dropout, in CS231n's call forms.

``batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)`` normalises each feature
of ``x`` (N, D) over the batch; ``spatial_batchnorm_forward`` each channel of
``x`` (N, C, H, W) over (N, H, W): both run the shared ``_batchnorm``, and their
backward passes the shared ``_batchnorm_backward``. ``layernorm_forward(x, gamma, beta,
ln_param)`` normalises each sample over its features. ``dropout_forward(x, dropout_param)``
keeps each unit with probability ``p`` (CS231n's meaning: ``p`` KEEPS).

Each ``# TODO`` says what to write; the notebook's cells check your code against
numerical gradients.
"""

from __future__ import annotations

import warnings

import numpy as np

# barenet-kit: include barenet.layers.base Cache
# barenet-kit: include barenet.layers.norm check_eps
# barenet-kit: include-solution barenet.layers.norm normalize


# barenet-kit: include barenet.layers.batchnorm BN_KEYS _check_bn_param _batchnorm _batchnorm_backward _check_shapes


# barenet-kit: include barenet.layers.batchnorm batchnorm_forward batchnorm_backward


# barenet-kit: include barenet.layers.batchnorm spatial_batchnorm_forward spatial_batchnorm_backward


# barenet-kit: include-solution barenet.layers.norm normalize_backward
# barenet-kit: include barenet.layers.norm _check_affine_params layernorm_forward layernorm_backward


# barenet-kit: include barenet.layers.dropout DropoutProbabilityWarning _keep_probability


# barenet-kit: include barenet.layers.dropout dropout_forward dropout_backward
