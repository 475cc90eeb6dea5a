"""The layers of ``ClassificationNet``: activations, the affine layer, dropout.

These are barenet's layers, copied into this file, so that a saved model needs only
NumPy and this package to run (the grader runs it without barenet).
"""

from __future__ import annotations

import numpy as np

# barenet-kit: include barenet.layers.base Cache
# barenet-kit: include barenet.layers.activations Sigmoid Relu LeakyRelu Tanh
# barenet-kit: include barenet.layers.affine _check_affine_shapes affine_forward affine_backward affine_param_grads
# barenet-kit: include barenet.layers.dropout Dropout
