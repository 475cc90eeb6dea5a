"""Optimizers: the update rules, their compiled one-pass steps, the classes, the registry.

* :mod:`barenet.optim.rules` -- ``sgd``, ``sgd_momentum``, ``adam`` as plain functions
  ``update(w, dw, config, lr) -> (next_w, config)``, their state set-up and every
  default (imports only NumPy);
* :mod:`barenet.optim.fused` -- the same arithmetic as one compiled pass per parameter,
  which ``Optimizer.step`` uses (imports only the rules);
* :mod:`barenet.optim.optimizers` -- ``Optimizer`` and its subclasses ``SGD``,
  ``SGDMomentum``, ``Adam``, built as ``optimizer(model, loss_func, learning_rate,
  **hyperparameters)``;
* :mod:`barenet.optim.registry` -- ``OPTIMIZERS``, every optimizer by name.
"""

from barenet.optim.optimizers import SGD, Adam, Optimizer, SGDMomentum
from barenet.optim.registry import OPTIMIZERS, optimizer_class
from barenet.optim.rules import (
    ADAM_DEFAULTS,
    DENORMAL_FLUSH,
    FLUSH_EVERY,
    LEARNING_RATE,
    MOMENTUM_DEFAULTS,
    adam,
    adam_state,
    flush_denormals,
    momentum_state,
    sgd,
    sgd_momentum,
)

__all__ = [
    "ADAM_DEFAULTS",
    "Adam",
    "DENORMAL_FLUSH",
    "FLUSH_EVERY",
    "LEARNING_RATE",
    "MOMENTUM_DEFAULTS",
    "OPTIMIZERS",
    "Optimizer",
    "SGD",
    "SGDMomentum",
    "adam",
    "adam_state",
    "flush_denormals",
    "momentum_state",
    "optimizer_class",
    "sgd",
    "sgd_momentum",
]
