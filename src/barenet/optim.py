"""Optimizers: pure update rules and the classes that apply them to a model.

Each rule is a plain function ``update(w, dw, config, lr) -> (next_w, config)``:

* ``w``, ``dw`` : ndarray, the same shape -- a parameter and its gradient.
* ``config`` : dict of hyperparameters and per-parameter state (created on first
  use, with the paper's names); returned updated.
* ``next_w`` : ndarray, shape of ``w``.

The rules do not modify ``w`` or ``dw``. The classes keep one ``config`` per
parameter name and apply the rule to ``model.params`` from ``model.grads``.
"""

from __future__ import annotations

import numpy as np


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None, lr: float = 1e-2):
    """Vanilla stochastic gradient descent: ``w = w - lr * dw``."""
    config = {} if config is None else config
    return w - lr * dw, config


def sgd_momentum(w: np.ndarray, dw: np.ndarray, config: dict | None = None, lr: float = 1e-2):
    """SGD with momentum.

    ``v = momentum * v - lr * dw``, then ``w = w + v``. ``v`` (``config['velocity']``)
    starts at zero; ``config['momentum']`` defaults to 0.9.
    """
    config = {} if config is None else config
    config.setdefault("momentum", 0.9)
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)
    v = config["momentum"] * v - lr * dw
    config["velocity"] = v
    return w + v, config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None, lr: float = 1e-3):
    """Adam (Kingma & Ba, 2015) with bias correction.

    ``t += 1; m = beta1*m + (1-beta1)*dw; v = beta2*v + (1-beta2)*dw**2``;
    ``w = w - lr * (m / (1-beta1**t)) / (sqrt(v / (1-beta2**t)) + epsilon)``.
    Defaults: ``beta1=0.9, beta2=0.999, epsilon=1e-8``; ``m``, ``v`` start at zero and
    ``t`` at 0.
    """
    config = {} if config is None else config
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    beta1, beta2, eps = config["beta1"], config["beta2"], config["epsilon"]
    m = config["m"] if config.get("m") is not None else np.zeros_like(w)
    v = config["v"] if config.get("v") is not None else np.zeros_like(w)
    t = config.get("t", 0) + 1
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * (dw * dw)
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    next_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    config.update(m=m, v=v, t=t)
    return next_w.astype(w.dtype, copy=False), config


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
        Step size, ``>= 0``.
    **hyperparameters
        Rule-specific settings (e.g. ``momentum``), validated up front.
    """

    defaults: dict = {}

    def __init__(self, model, loss_func=None, learning_rate: float = 1e-4, **hyperparameters):
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

    def _update(self, w, dw, config, lr):
        raise NotImplementedError

    def backward(self, y_pred: np.ndarray, y_true: np.ndarray) -> dict[str, np.ndarray]:
        """Gradient of the loss wrt ``y_pred``, back-propagated through the model."""
        dout = self.loss_func.backward(y_pred, y_true)
        return self.model.backward(dout)

    def step(self) -> None:
        """Apply one update to every parameter from ``model.grads``."""
        for name, w in self.model.params.items():
            config = self.state.setdefault(name, dict(self.hyperparameters))
            next_w, self.state[name] = self._update(w, self.model.grads[name], config, self.lr)
            self.model.params[name] = next_w

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}(learning_rate={self.lr}{', ' if hp else ''}{hp})"


class SGD(Optimizer):
    """Vanilla SGD; see :func:`sgd`."""

    _update = staticmethod(sgd)


class SGDMomentum(Optimizer):
    """SGD with momentum (default 0.9); see :func:`sgd_momentum`."""

    defaults = {"momentum": 0.9}

    def _validate(self, hp: dict) -> None:
        _check_range("momentum", hp["momentum"], 0.0, 1.0, "SGDMomentum")

    def _update(self, w, dw, config, lr):
        """One momentum step; uses nothing from ``self``. Returns ``(next_w, config)``."""
        return sgd_momentum(w, dw, config, lr)


class Adam(Optimizer):
    """Adam with bias correction; see :func:`adam`."""

    defaults = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

    def _validate(self, hp: dict) -> None:
        _check_range("beta1", hp["beta1"], 0.0, 1.0, "Adam")
        _check_range("beta2", hp["beta2"], 0.0, 1.0, "Adam")
        _check_range("epsilon", hp["epsilon"], 0.0, None, "Adam")

    _update = staticmethod(adam)
