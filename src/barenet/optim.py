"""Optimizers: pure update rules and the classes that apply them to a model.

Each rule is a plain function ``update(w, dw, config, lr) -> (next_w, config)``:

* ``w``, ``dw`` : ndarray, the same shape -- a parameter and its gradient.
* ``config`` : dict of hyperparameters and per-parameter state (created on first
  use, with the paper's names); returned updated.
* ``next_w`` : ndarray, shape of ``w``.

``lr`` may be left out, as in ``sgd(w, dw, config)``: the rule then reads
``config['learning_rate']``. The rules do not modify ``w`` or ``dw`` unless asked to
with ``out=w``.

These rules are the reference, written to be read. The classes keep one ``config`` per
parameter name and update ``model.params`` from ``model.grads`` in place; their
``step()`` runs the same arithmetic as one compiled pass over each parameter
(:mod:`barenet.optim_fused`), with the rule itself as the fallback.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from barenet import optim_fused


def _learning_rate(config: dict, lr: float | None, default: float) -> float:
    """``lr`` when given, else ``config['learning_rate']`` (stored as ``default`` if absent).

    The second form is the call ``rule(w, dw, config)`` of courses whose solvers keep the
    learning rate in each parameter's config.
    """
    if lr is not None:
        return lr
    return config.setdefault("learning_rate", default)


def momentum_state(config: dict, w: np.ndarray) -> None:
    """Fill in momentum's defaults and state on first use: ``momentum`` 0.9 and a zero
    ``velocity`` shaped like ``w``."""
    config.setdefault("momentum", 0.9)
    if config.get("velocity") is None:
        config["velocity"] = np.zeros_like(w)


def adam_state(config: dict, w: np.ndarray) -> None:
    """Fill in Adam's defaults and state on first use: ``beta1`` 0.9, ``beta2`` 0.999,
    ``epsilon`` 1e-8, zero moments ``m`` and ``v`` shaped like ``w``, and ``t`` = 0."""
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    if config.get("m") is None:
        config["m"], config["v"], config["t"] = np.zeros_like(w), np.zeros_like(w), 0


def sgd(
    w: np.ndarray,
    dw: np.ndarray,
    config: dict | None = None,
    lr: float | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """Vanilla stochastic gradient descent: ``w = w - lr * dw``.

    ``lr`` defaults to ``config['learning_rate']``, else 1e-2. ``out`` (optional, may be
    ``w`` itself) receives ``next_w``; the optimizer classes pass ``out=w`` to update
    the parameters in place.
    """
    config = {} if config is None else config
    lr = _learning_rate(config, lr, 1e-2)
    return np.subtract(w, lr * dw, out=out), config


def sgd_momentum(
    w: np.ndarray,
    dw: np.ndarray,
    config: dict | None = None,
    lr: float | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """SGD with momentum.

    ``v = momentum * v - lr * dw``, then ``w = w + v``. ``v`` (``config['velocity']``)
    starts at zero and is the rule's own state, updated in place; ``config['momentum']``
    defaults to 0.9, ``lr`` to ``config['learning_rate']``, else 1e-2.
    """
    config = {} if config is None else config
    lr = _learning_rate(config, lr, 1e-2)
    momentum_state(config, w)
    v = config["velocity"]
    v *= config["momentum"]
    v -= lr * dw
    return np.add(w, v, out=out), config


def adam(
    w: np.ndarray,
    dw: np.ndarray,
    config: dict | None = None,
    lr: float | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """Adam (Kingma & Ba, 2015) with bias correction.

    ``t += 1; m = beta1*m + (1-beta1)*dw; v = beta2*v + (1-beta2)*dw**2``;
    ``w = w - lr * (m / (1-beta1**t)) / (sqrt(v / (1-beta2**t)) + epsilon)``.
    Defaults: ``beta1=0.9, beta2=0.999, epsilon=1e-8``, ``lr`` from
    ``config['learning_rate']``, else 1e-3; ``m``, ``v`` start at zero and ``t`` at 0.
    ``m`` and ``v`` are the rule's own state and are updated in place. Every 16 steps,
    values of ``m`` and ``v`` too small to matter are flushed to 0 (see
    :func:`flush_denormals`).
    """
    config = {} if config is None else config
    lr = _learning_rate(config, lr, 1e-3)
    adam_state(config, w)
    beta1, beta2, eps = config["beta1"], config["beta2"], config["epsilon"]
    m, v = config["m"], config["v"]
    t = config["t"] = config["t"] + 1
    m *= beta1
    m += (1 - beta1) * dw
    v *= beta2
    v += (1 - beta2) * np.square(dw)
    # lr * m_hat / (sqrt(v_hat) + eps) with the bias corrections moved onto scalars:
    # = lr * s2 / c1 * m / (sqrt(v) + eps * s2), where c1 = 1 - beta1**t, s2 = sqrt(1 - beta2**t).
    # Python floats (math.sqrt), so that the arithmetic stays in the parameters' dtype.
    s2 = math.sqrt(1 - beta2**t)
    step = np.sqrt(v)
    step += eps * s2
    np.divide(m, step, out=step)
    step *= lr * s2 / (1 - beta1**t)
    if t % 16 == 0:
        flush_denormals(m)
        flush_denormals(v)
    return np.subtract(w, step, out=out), config


# Added and subtracted to round denormals to 0 (a normal float32); optim_fused uses the same.
DENORMAL_FLUSH = 1e-30


def flush_denormals(a: np.ndarray) -> None:
    """Set the tiniest values of ``a`` (below about 1e-37) to zero, in place.

    The moments of a weight whose gradient is always 0 (a dead ReLU) shrink
    geometrically into float32's denormal range, where arithmetic is 10-100x slower.
    Adding and subtracting 1e-30 rounds such values to 0 and leaves every value above
    about 1e-23 exactly as it was; far below ``epsilon``, nothing in between matters.
    """
    a += DENORMAL_FLUSH
    a -= DENORMAL_FLUSH


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

        Uses the one-pass loops of :mod:`barenet.optim_fused` where they apply, which give
        the same numbers as the rule, and the rule itself (``_update``) elsewhere. The
        first update of a parameter creates its state.
        """
        fused = self._fused_rule()
        for name, w in self.model.params.items():
            dw = self.model.grads[name]
            config = self.state.get(name)
            if config is None:
                config = dict(self.hyperparameters)
            if fused is None:
                # A rule written without ``out``: copy its result into the parameter.
                next_w, config = self._update(w, dw, config, self.lr)
                if next_w is not w:
                    w[...] = next_w
            elif optim_fused.can_fuse(w, dw, config):
                config = fused(w, dw, config, self.lr)
            else:
                config = self._update(w, dw, config, self.lr, out=w)[1]
            self.state[name] = config

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}(learning_rate={self.lr}{', ' if hp else ''}{hp})"


class SGD(Optimizer):
    """Vanilla SGD; see :func:`sgd`."""

    _update = staticmethod(sgd)
    _fused = staticmethod(optim_fused.sgd_step)


class SGDMomentum(Optimizer):
    """SGD with momentum (default 0.9); see :func:`sgd_momentum`."""

    defaults = {"momentum": 0.9}

    def _validate(self, hp: dict) -> None:
        _check_range("momentum", hp["momentum"], 0.0, 1.0, "SGDMomentum")

    def _update(self, w, dw, config, lr, out=None):
        """One momentum step; uses nothing from ``self``. Returns ``(next_w, config)``."""
        # >>> exercise: sgdm_update
        return sgd_momentum(w, dw, config, lr, out=out)
        # <<< exercise

    _fused = staticmethod(optim_fused.sgd_momentum_step)


class Adam(Optimizer):
    """Adam with bias correction; see :func:`adam`."""

    defaults = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

    def _validate(self, hp: dict) -> None:
        _check_range("beta1", hp["beta1"], 0.0, 1.0, "Adam")
        _check_range("beta2", hp["beta2"], 0.0, 1.0, "Adam")
        _check_range("epsilon", hp["epsilon"], 0.0, None, "Adam")

    _update = staticmethod(adam)
    _fused = staticmethod(optim_fused.adam_step)
