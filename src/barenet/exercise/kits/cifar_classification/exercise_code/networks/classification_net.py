"""``ClassificationNet``: affine -> activation -> ... -> affine, one score per class.

barenet's network, copied into this file without its ``save``/``load`` (they need
barenet's file helpers): a model you hand in with ``save_pickle`` carries this code
with it, and the grader calls its ``forward`` on the hidden test images.
"""

from __future__ import annotations

import numpy as np

from .layer import (
    Dropout,
    LeakyRelu,
    Relu,
    Sigmoid,
    Tanh,
    affine_backward,
    affine_forward,
    affine_param_grads,
)

# barenet-kit: include barenet.layers.activations ACTIVATIONS


# barenet-kit: include barenet.networks make_activation activation_name


# barenet-kit: include barenet.networks Network without save load get_dataset_prediction


# barenet-kit: include barenet.networks ClassificationNet
