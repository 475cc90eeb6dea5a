"""The layers you write: ``Sigmoid``, ``Relu``, ``affine_forward`` and ``affine_backward``.

A layer is a pair: ``forward(x) -> (out, cache)`` and ``backward(dout, cache) -> dx``.
The cache holds what the backward pass needs. A backward pass computes the exact
derivative of its own forward pass: it does not average over the batch (the loss
already did) and does not write into ``dout``, ``x`` or the cache.

Each ``# TODO`` says what to write. Test your code with the notebook's test cells,
e.g. ``print(SigmoidTestWrapper())``.
"""

from __future__ import annotations

import numpy as np

# barenet-kit: include barenet.layers.base Cache
# barenet-kit: include barenet.layers.activations Sigmoid Relu
# barenet-kit: include barenet.layers.affine _check_affine_shapes affine_forward affine_backward


# barenet-kit: include-solution barenet.layers.affine affine_param_grads
