"""Optimizers: the update rules, their compiled one-pass steps, the classes, the registry.

* :mod:`barenet.optim.rules` -- ``sgd``, ``sgd_momentum``, ``sgd_nesterov``, ``adam`` as
  plain functions ``update(w, dw, config, lr) -> (next_w, config)``, their state set-up
  and every default (imports only NumPy);
* :mod:`barenet.optim.fused` -- the same arithmetic as one compiled pass per parameter,
  which ``Optimizer.step`` uses (imports only the rules);
* :mod:`barenet.optim.optimizers` -- ``Optimizer`` and its subclasses ``SGD``,
  ``SGDMomentum``, ``SGDNesterov``, ``Adam``, built as ``optimizer(model, loss_func,
  learning_rate, **hyperparameters)``;
* :mod:`barenet.optim.registry` -- ``OPTIMIZERS``, every optimizer by name;
* :mod:`barenet.optim.schedules` -- ``WarmupDecay``, a learning rate per update;
* :mod:`barenet.optim.averaging` -- ``WeightAverage``, the weights' moving average.
"""

from barenet.optim.averaging import WeightAverage
from barenet.optim.optimizers import SGD, Adam, Optimizer, SGDMomentum, SGDNesterov
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
    sgd_nesterov,
)
from barenet.optim.schedules import WarmupDecay

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
    "SGDNesterov",
    "WarmupDecay",
    "WeightAverage",
    "adam",
    "adam_state",
    "flush_denormals",
    "momentum_state",
    "optimizer_class",
    "sgd",
    "sgd_momentum",
    "sgd_nesterov",
]
