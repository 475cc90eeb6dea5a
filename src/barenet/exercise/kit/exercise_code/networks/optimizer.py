"""Optimizers: SGD and Adam are given; ``SGDMomentum._update`` is yours.

An update rule takes a parameter ``w``, its gradient ``dw`` (same shape), a
``config`` dict with the hyperparameters and the rule's state for this parameter,
and the learning rate ``lr``; it returns ``(next_w, config)``. An optimizer keeps
one ``config`` per parameter of the model and applies its rule to every parameter
in :meth:`Optimizer.step`.
"""

from __future__ import annotations

import math

import numpy as np

# barenet-kit: include barenet.optim.rules LEARNING_RATE _learning_rate sgd


# barenet-kit: include barenet.optim.rules ADAM_DEFAULTS adam_state adam DENORMAL_FLUSH FLUSH_EVERY
# barenet-kit: include barenet.optim.rules flush_denormals


# barenet-kit: include-solution barenet.optim.rules MOMENTUM_DEFAULTS momentum_state sgd_momentum


class Optimizer:
    """Applies an update rule to every parameter of ``model``.

    Parameters
    ----------
    model : ClassificationNet
        Has ``params`` and, after a backward pass, ``grads`` with the same keys.
    loss_func : Loss, optional
        Turns predictions into the gradient wrt the output in :meth:`backward`.
    learning_rate : float
        Step size.
    **hyperparameters
        Settings of the rule, e.g. ``momentum=0.9``; copied into each parameter's config.
    """

    def __init__(
        self, model, loss_func=None, learning_rate: float = LEARNING_RATE, **hyperparameters
    ):
        self.model = model
        self.loss_func = loss_func
        self.lr = learning_rate
        self.hyperparameters = hyperparameters
        self.configs: dict[str, dict] = {}

    def backward(self, y_pred: np.ndarray, y_true: np.ndarray) -> dict[str, np.ndarray]:
        """Gradients of the loss wrt every parameter, through the model."""
        return self.model.backward(self.loss_func.backward(y_pred, y_true))

    def step(self) -> None:
        """Update every parameter from ``model.grads``, keeping each one's config."""
        for name, w in self.model.params.items():
            config = self.configs.get(name, dict(self.hyperparameters))
            next_w, self.configs[name] = self._update(w, self.model.grads[name], config, self.lr)
            self.model.params[name] = next_w

    def _update(self, w, dw, config, lr):
        raise NotImplementedError


class SGD(Optimizer):
    """Plain SGD: ``w = w - lr * dw``."""

    _update = staticmethod(sgd)


class SGDMomentum(Optimizer):
    """SGD with momentum: steps that keep pointing the same way add up."""

    def _update(self, w, dw, config, lr, out=None):
        """One step of SGD with momentum.

        Parameters
        ----------
        w : ndarray, any shape
            The parameter.
        dw : ndarray, shape of ``w``
            Its gradient.
        config : dict
            ``'momentum'`` (a float, 0.9 when absent) and ``'velocity'`` (an array
            shaped like ``w``; absent before the first step).
        lr : float
            The learning rate.
        out : ndarray, optional
            Where to write ``next_w``. Nothing here passes it, so your code may
            ignore it; barenet's own optimizers use it to update ``w`` in place.

        Returns
        -------
        next_w : ndarray, shape of ``w``
        config : dict
            With the new ``'velocity'``.
        """
        # barenet-kit: region barenet.optim.optimizers sgdm_update


class Adam(Optimizer):
    """Adam: each parameter's step is scaled by a running estimate of its gradient's size."""

    _update = staticmethod(adam)
