"""``ClassificationNet``: affine -> activation -> ... -> affine, giving one score per class.

It runs on your ``affine_forward``, ``affine_backward`` and activations from
``layer.py``: if one of them is wrong, training shows it too. The first layer needs
no ``dx`` (nothing is below it), so its ``dw`` and ``db`` come from barenet's
``affine_param_grads``, which saves a third of that layer's backward work. The other
activations (``Tanh``, ``LeakyRelu``) and ``Dropout`` are barenet's.

This is barenet's own network (``barenet.ClassificationNet``), built on your layers;
its base class ``Network`` (saving, loading, predictions) is barenet's.
"""

from __future__ import annotations

import numpy as np

from barenet.layers import Dropout, LeakyRelu, Tanh, affine_param_grads
from barenet.networks import Network

from .layer import Relu, Sigmoid, affine_backward, affine_forward

# barenet-kit: include barenet.layers.activations ACTIVATIONS


# barenet-kit: include barenet.networks make_activation activation_name


# barenet-kit: include barenet.networks ClassificationNet
