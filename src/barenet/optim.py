"""Optimizers: pure update rules and the classes that apply them to a model.

Each rule is a plain function ``update(w, dw, config, lr) -> (next_w, config)``:

* ``w``, ``dw`` : ndarray, the same shape -- a parameter and its gradient.
* ``config`` : dict of hyperparameters and per-parameter state (created on first
  use, with the paper's names); returned updated.
* ``next_w`` : ndarray, shape of ``w``.

The rules do not modify ``w`` or ``dw`` unless asked to with ``out=w``. The classes
keep one ``config`` per parameter name and apply the rule to ``model.params`` from
``model.grads`` in place (``out=w``): no new parameter arrays per step.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Parameters larger than this are updated in chunks of this many elements, on several
# threads (NumPy releases the GIL inside elementwise operations). Measured on 2 cores
# for Adam on 1.8M parameters: 5.5 ms with 2^17-element chunks, 9-10 ms on one thread;
# much smaller chunks lose to the threads' contention for the GIL between operations.
CHUNK_SIZE = 1 << 17
_pool: ThreadPoolExecutor | None = None


def _thread_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1))
    return _pool


def _forget_pool() -> None:
    global _pool
    _pool = None


# A forked child (e.g. a tuning worker) inherits the pool object but none of its threads:
# it would wait forever on the first chunked update. The child makes its own pool.
if hasattr(os, "register_at_fork"):  # POSIX only; elsewhere there is no fork
    os.register_at_fork(after_in_child=_forget_pool)


def apply_in_chunks(rule, w: np.ndarray, dw: np.ndarray, config: dict, lr: float) -> None:
    """Apply ``rule`` to ``w`` in place, one contiguous chunk at a time, in parallel.

    The rule sees views of ``w``, ``dw`` and of every state array of ``w``'s shape in
    ``config``, and updates them in place. Scalar state (Adam's ``t``) is advanced
    once, from the first chunk's result.

    Parameters
    ----------
    rule : callable
        ``rule(w, dw, config, lr, out=w)``, updating its state arrays in place.
    w, dw : ndarray, the same shape, C-contiguous
    config : dict
        The parameter's state, with its arrays already created.
    lr : float
    """
    flat_w, flat_dw = w.reshape(-1), dw.reshape(-1)
    arrays = {k: a.reshape(-1) for k, a in config.items() if isinstance(a, np.ndarray)}

    def run(start: int) -> dict:
        part = slice(start, start + CHUNK_SIZE)
        chunk_config = {**config, **{k: a[part] for k, a in arrays.items()}}
        return rule(flat_w[part], flat_dw[part], chunk_config, lr, out=flat_w[part])[1]

    results = list(_thread_pool().map(run, range(0, w.size, CHUNK_SIZE)))
    config.update({k: v for k, v in results[0].items() if k not in arrays})


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None, lr: float = 1e-2, out=None):
    """Vanilla stochastic gradient descent: ``w = w - lr * dw``.

    ``out`` (optional, may be ``w`` itself) receives ``next_w``; the optimizer classes
    pass ``out=w`` to update the parameters in place.
    """
    config = {} if config is None else config
    return np.subtract(w, lr * dw, out=out), config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: dict | None = None, lr: float = 1e-2, out=None
):
    """SGD with momentum.

    ``v = momentum * v - lr * dw``, then ``w = w + v``. ``v`` (``config['velocity']``)
    starts at zero and is the rule's own state, updated in place; ``config['momentum']``
    defaults to 0.9.
    """
    config = {} if config is None else config
    config.setdefault("momentum", 0.9)
    if config.get("velocity") is None:
        config["velocity"] = np.zeros_like(w)
    v = config["velocity"]
    v *= config["momentum"]
    v -= lr * dw
    return np.add(w, v, out=out), config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None, lr: float = 1e-3, out=None):
    """Adam (Kingma & Ba, 2015) with bias correction.

    ``t += 1; m = beta1*m + (1-beta1)*dw; v = beta2*v + (1-beta2)*dw**2``;
    ``w = w - lr * (m / (1-beta1**t)) / (sqrt(v / (1-beta2**t)) + epsilon)``.
    Defaults: ``beta1=0.9, beta2=0.999, epsilon=1e-8``; ``m``, ``v`` start at zero and
    ``t`` at 0. ``m`` and ``v`` are the rule's own state and are updated in place,
    with as few temporaries as possible: this update touches every parameter, so its
    memory traffic is a real share of a training step. Every 16 steps, values of
    ``m`` and ``v`` too small to matter are flushed to 0 (see :func:`flush_denormals`).
    """
    config = {} if config is None else config
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    beta1, beta2, eps = config["beta1"], config["beta2"], config["epsilon"]
    if config.get("m") is None:
        config["m"], config["v"], config["t"] = np.zeros_like(w), np.zeros_like(w), 0
    m, v = config["m"], config["v"]
    t = config["t"] = config["t"] + 1
    m *= beta1
    m += (1 - beta1) * dw
    v *= beta2
    v += (1 - beta2) * np.square(dw)
    # lr * m_hat / (sqrt(v_hat) + eps) with the bias corrections moved onto scalars:
    # = lr * s2 / c1 * m / (sqrt(v) + eps * s2), where c1 = 1 - beta1**t, s2 = sqrt(1 - beta2**t).
    s2 = np.sqrt(1 - beta2**t)
    step = np.sqrt(v)
    step += eps * s2
    np.divide(m, step, out=step)
    step *= lr * s2 / (1 - beta1**t)
    if t % 16 == 0:
        flush_denormals(m)
        flush_denormals(v)
    return np.subtract(w, step, out=out), config


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

    def step(self) -> None:
        """Apply one update to every parameter from ``model.grads``, in place."""
        for name, w in self.model.params.items():
            dw = self.model.grads[name]
            config = self.state.get(name)
            if (
                config is None
                or w.size <= CHUNK_SIZE
                or not (w.flags.c_contiguous and dw.flags.c_contiguous)
            ):
                # The first update creates the state arrays in the rule itself.
                self.state[name] = self._update(
                    w, dw, config or dict(self.hyperparameters), self.lr, out=w
                )[1]
            else:
                apply_in_chunks(self._update, w, dw, config, self.lr)

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

    def _update(self, w, dw, config, lr, out=None):
        """One momentum step; uses nothing from ``self``. Returns ``(next_w, config)``."""
        # >>> exercise: sgdm_update
        return sgd_momentum(w, dw, config, lr, out=out)
        # <<< exercise


class Adam(Optimizer):
    """Adam with bias correction; see :func:`adam`."""

    defaults = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

    def _validate(self, hp: dict) -> None:
        _check_range("beta1", hp["beta1"], 0.0, 1.0, "Adam")
        _check_range("beta2", hp["beta2"], 0.0, 1.0, "Adam")
        _check_range("epsilon", hp["epsilon"], 0.0, None, "Adam")

    _update = staticmethod(adam)
