"""The optimizer classes: one update rule applied to every parameter of a model.

An optimizer keeps one ``config`` per parameter name and updates ``model.params`` from
``model.grads`` in place. Its ``step()`` runs the rule's arithmetic as one compiled pass
over each parameter (:mod:`barenet.optim.fused`), with the rule itself
(:mod:`barenet.optim.rules`) as the fallback. A class's ``defaults`` are its rule's
hyperparameters and their default values, stated once in :mod:`barenet.optim.rules`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from barenet.optim import fused
from barenet.optim.rules import (
    ADAM_DEFAULTS,
    LEARNING_RATE,
    MOMENTUM_DEFAULTS,
    adam,
    sgd,
    sgd_momentum,
    sgd_nesterov,
)


def _check_range(name: str, value: float, low: float, high: float | None, owner: str) -> float:
    """Validate ``low <= value < high`` (``high=None``: no upper bound); name the culprit."""
    value = float(value)
    if not (low <= value and (high is None or value < high)) or np.isnan(value):
        allowed = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{owner}: {name} must be {allowed}, got {value!r}")
    return value


class Optimizer:
    """Applies one update rule to every parameter of ``model``.

    Parameters
    ----------
    model : Network
        Has ``params`` and, after ``backward``, ``grads`` with the same keys.
    loss_func : Loss
        Used by :meth:`backward` to turn predictions into the gradient wrt the output.
    learning_rate : float
        Step size, ``>= 0`` (default :data:`barenet.optim.rules.LEARNING_RATE`).
    **hyperparameters
        Rule-specific settings (e.g. ``momentum``), validated up front.
    """

    defaults: dict = {}

    def __init__(
        self, model, loss_func=None, learning_rate: float = LEARNING_RATE, **hyperparameters
    ):
        self.model = model
        self.loss_func = loss_func
        self.lr = _check_range("learning_rate", learning_rate, 0.0, None, type(self).__name__)
        unknown = set(hyperparameters) - set(self.defaults)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown hyperparameter(s) {sorted(unknown)}; "
                f"expected some of {sorted(self.defaults)}"
            )
        self.hyperparameters = {**self.defaults, **hyperparameters}
        self._validate(self.hyperparameters)
        self.state: dict[str, dict] = {}

    def _validate(self, hp: dict) -> None:
        """Check the hyperparameters; subclasses raise ``ValueError`` naming the bad one."""

    def _update(self, w, dw, config, lr, out=None):
        raise NotImplementedError

    def backward(self, y_pred: np.ndarray, y_true: np.ndarray) -> dict[str, np.ndarray]:
        """Gradient of the loss wrt ``y_pred``, back-propagated through the model."""
        dout = self.loss_func.backward(y_pred, y_true)
        return self.model.backward(dout)

    def _fused_rule(self) -> Callable[[np.ndarray, np.ndarray, dict, float], dict] | None:
        """The one-pass version of this optimizer's rule, or ``None``.

        ``None`` when the class that defines ``_update`` defines no ``_fused`` beside it:
        a subclass with its own ``_update`` (a learner's) is always the one called.
        """
        owner = next(c for c in type(self).__mro__ if "_update" in vars(c))
        return owner._fused if "_fused" in vars(owner) else None

    def step(self) -> None:
        """Apply one update to every parameter from ``model.grads``, in place.

        Uses the one-pass loops of :mod:`barenet.optim.fused` where they apply, which give
        the same numbers as the rule, and the rule itself (``_update``) elsewhere. The
        first update of a parameter creates its state. Parameters in the model's
        ``frozen`` set (see :class:`barenet.Sequential`) are left as they are.
        """
        one_pass = self._fused_rule()
        frozen = getattr(self.model, "frozen", ())
        for name, w in self.model.params.items():
            if name in frozen:
                continue
            dw = self.model.grads[name]
            config = self.state.get(name)
            if config is None:
                config = dict(self.hyperparameters)
            if one_pass is None:
                # A rule written without ``out``: copy its result into the parameter.
                next_w, config = self._update(w, dw, config, self.lr)
                if next_w is not w:
                    w[...] = next_w
            elif fused.can_fuse(w, dw, config):
                config = one_pass(w, dw, config, self.lr)
            else:
                config = self._update(w, dw, config, self.lr, out=w)[1]
            self.state[name] = config

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}(learning_rate={self.lr}{', ' if hp else ''}{hp})"


class SGD(Optimizer):
    """Vanilla SGD; see :func:`sgd`."""

    _update = staticmethod(sgd)
    _fused = staticmethod(fused.sgd_step)


class SGDMomentum(Optimizer):
    """SGD with momentum (default 0.9); see :func:`sgd_momentum`."""

    defaults = MOMENTUM_DEFAULTS

    def _validate(self, hp: dict) -> None:
        _check_range("momentum", hp["momentum"], 0.0, 1.0, "SGDMomentum")

    def _update(self, w, dw, config, lr, out=None):
        """One step of SGD with momentum; uses nothing from ``self`` (may be None).

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
            Where to write ``next_w`` (``w`` itself for an update in place). A rule may
            ignore it and return a new array: ``step()`` copies that into the parameter.

        Returns
        -------
        next_w : ndarray, shape of ``w``
        config : dict
            With the new ``'velocity'``.
        """
        # >>> exercise: sgdm_update
        return sgd_momentum(w, dw, config, lr, out=out)
        # <<< exercise

    _fused = staticmethod(fused.sgd_momentum_step)


class SGDNesterov(Optimizer):
    """SGD with Nesterov momentum (default 0.9), as PyTorch's ``SGD(nesterov=True)``;
    see :func:`sgd_nesterov`."""

    defaults = MOMENTUM_DEFAULTS

    def _validate(self, hp: dict) -> None:
        _check_range("momentum", hp["momentum"], 0.0, 1.0, "SGDNesterov")

    _update = staticmethod(sgd_nesterov)
    _fused = staticmethod(fused.sgd_nesterov_step)


class Adam(Optimizer):
    """Adam with bias correction; see :func:`adam`."""

    defaults = ADAM_DEFAULTS

    def _validate(self, hp: dict) -> None:
        _check_range("beta1", hp["beta1"], 0.0, 1.0, "Adam")
        _check_range("beta2", hp["beta2"], 0.0, 1.0, "Adam")
        _check_range("epsilon", hp["epsilon"], 0.0, None, "Adam")

    _update = staticmethod(adam)
    _fused = staticmethod(fused.adam_step)
