"""Optimizers: SGD and Adam are given; ``SGDMomentum._update`` is yours.

An update rule takes a parameter ``w``, its gradient ``dw`` (same shape), a
``config`` dict with the hyperparameters and the rule's state for this parameter,
and the learning rate ``lr``; it returns ``(next_w, config)``. An optimizer keeps
one ``config`` per parameter of the model and applies its rule to every parameter
in ``step()``; the base class ``Optimizer`` is barenet's.

These are barenet's own rules and optimizer classes (``barenet.optim``), without
barenet's compiled one-pass steps, so that the rule written here is the one that runs.
"""

from __future__ import annotations

import math

import numpy as np

from barenet.optim import Optimizer

# barenet-kit: include barenet.optim.rules LEARNING_RATE _learning_rate sgd


# barenet-kit: include barenet.optim.rules ADAM_DEFAULTS adam_state adam DENORMAL_FLUSH FLUSH_EVERY
# barenet-kit: include barenet.optim.rules flush_denormals


# barenet-kit: include-solution barenet.optim.rules momentum_state sgd_momentum


# barenet-kit: include barenet.optim.rules MOMENTUM_DEFAULTS
# barenet-kit: include barenet.optim.optimizers _check_range


# barenet-kit: include barenet.optim.optimizers SGD SGDMomentum Adam without _fused
