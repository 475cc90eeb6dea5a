"""The update rules and their state set-up: the readable reference (imports only NumPy).

Each rule is a plain function ``update(w, dw, config, lr) -> (next_w, config)``:

* ``w``, ``dw`` : ndarray, the same shape -- a parameter and its gradient.
* ``config`` : dict of hyperparameters and per-parameter state (created on first
  use, with the paper's names); returned updated.
* ``next_w`` : ndarray, shape of ``w``.

``lr`` may be left out, as in ``sgd(w, dw, config)``: the rule then reads
``config['learning_rate']``, else :data:`LEARNING_RATE`. The rules do not modify ``w``
or ``dw`` unless asked to with ``out=w``.

Every default is stated here once: :data:`LEARNING_RATE` and the hyperparameter
dicts, which are also the optimizer classes' ``defaults``
(:mod:`barenet.optim.optimizers`). The compiled one-pass steps
(:mod:`barenet.optim.fused`) take the state set-up and the denormal flush from here.
"""

from __future__ import annotations

import math

import numpy as np

#: The step size of every rule and optimizer when none is given (the course's Solver's).
LEARNING_RATE = 1e-3

#: SGD with momentum: the fraction of the previous step kept in the next.
MOMENTUM_DEFAULTS = {"momentum": 0.9}

#: Adam: the moments' decay rates and the term that keeps the division finite.
ADAM_DEFAULTS = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}

# Added and subtracted to round denormals to 0 (a normal float32), every FLUSH_EVERY
# Adam steps: often enough that no moment stays denormal for long, rarely enough to
# cost nothing measurable.
DENORMAL_FLUSH = 1e-30
FLUSH_EVERY = 16


def _learning_rate(config: dict, lr: float | None) -> float:
    """``lr`` when given, else ``config['learning_rate']`` (stored as ``LEARNING_RATE``
    if absent).

    The second form is the call ``rule(w, dw, config)`` of courses whose solvers keep the
    learning rate in each parameter's config.
    """
    if lr is not None:
        return lr
    return config.setdefault("learning_rate", LEARNING_RATE)


def momentum_state(config: dict, w: np.ndarray) -> None:
    """Fill in momentum's defaults and state on first use: ``momentum`` (0.9, from
    :data:`MOMENTUM_DEFAULTS`) and a zero ``velocity`` shaped like ``w``."""
    for name, value in MOMENTUM_DEFAULTS.items():
        config.setdefault(name, value)
    if config.get("velocity") is None:
        config["velocity"] = np.zeros_like(w)


def adam_state(config: dict, w: np.ndarray) -> None:
    """Fill in Adam's defaults and state on first use: ``beta1`` 0.9, ``beta2`` 0.999,
    ``epsilon`` 1e-8 (from :data:`ADAM_DEFAULTS`), zero moments ``m`` and ``v`` shaped
    like ``w``, and ``t`` = 0."""
    for name, value in ADAM_DEFAULTS.items():
        config.setdefault(name, value)
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

    ``lr`` defaults to ``config['learning_rate']``, else :data:`LEARNING_RATE`. ``out``
    (optional, may be ``w`` itself) receives ``next_w``; the optimizer classes pass
    ``out=w`` to update the parameters in place.
    """
    config = {} if config is None else config
    lr = _learning_rate(config, lr)
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
    defaults to 0.9, ``lr`` to ``config['learning_rate']``, else :data:`LEARNING_RATE`.
    """
    config = {} if config is None else config
    lr = _learning_rate(config, lr)
    momentum_state(config, w)
    v = config["velocity"]
    v *= config["momentum"]
    v -= lr * dw
    return np.add(w, v, out=out), config


def sgd_nesterov(
    w: np.ndarray,
    dw: np.ndarray,
    config: dict | None = None,
    lr: float | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, dict]:
    """SGD with Nesterov momentum: the step looks ahead along the new velocity.

    ``v = momentum * v - lr * dw``, then ``w = w + momentum * v - lr * dw``: the
    gradient step plus the momentum step that the next update would take. With a
    constant ``lr`` these are the updates of PyTorch's ``SGD(nesterov=True)``
    (``buf = momentum * buf + dw; w -= lr * (dw + momentum * buf)``, with ``v = -lr * buf``).
    State and defaults as in :func:`sgd_momentum` (``velocity``, ``momentum`` 0.9).
    """
    config = {} if config is None else config
    lr = _learning_rate(config, lr)
    momentum_state(config, w)
    momentum, v = config["momentum"], config["velocity"]
    v *= momentum
    v -= lr * dw
    step = momentum * v
    step -= lr * dw
    return np.add(w, step, out=out), config


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
    ``config['learning_rate']``, else :data:`LEARNING_RATE`; ``m``, ``v`` start at zero
    and ``t`` at 0. ``m`` and ``v`` are the rule's own state and are updated in place.
    Every 16 steps, values of ``m`` and ``v`` too small to matter are flushed to 0 (see
    :func:`flush_denormals`).
    """
    config = {} if config is None else config
    lr = _learning_rate(config, lr)
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
    if t % FLUSH_EVERY == 0:
        flush_denormals(m)
        flush_denormals(v)
    return np.subtract(w, step, out=out), config


def flush_denormals(a: np.ndarray) -> None:
    """Set the tiniest values of ``a`` (below about 1e-37) to zero, in place.

    The moments of a weight whose gradient is always 0 (a dead ReLU) shrink
    geometrically into float32's denormal range, where arithmetic is 10-100x slower.
    Adding and subtracting :data:`DENORMAL_FLUSH` (1e-30) rounds such values to 0 and
    leaves every value above about 1e-23 exactly as it was; far below ``epsilon``,
    nothing in between matters.
    """
    a += DENORMAL_FLUSH
    a -= DENORMAL_FLUSH
