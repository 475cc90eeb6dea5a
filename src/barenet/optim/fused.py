"""One-pass, in-place versions of the update rules, which ``Optimizer.step`` uses.

The rules in :mod:`barenet.optim.rules` are the readable reference: a few NumPy operations,
each a full pass over the parameter, with temporaries in between. Adam is a dozen such
passes. For the sizes of this course (up to a few million parameters, held in cache)
those passes and temporaries, not memory bandwidth, are the cost of an update. Here each
rule is one loop over the elements that reads ``w``, ``dw`` and the state once and writes
them once, compiled with numba.

Each loop performs the reference's floating-point operations in the same order, with
the hyperparameters rounded to the parameter's dtype as NumPy rounds them, so its
results equal the reference's (no fused multiply-add: numba is not given fast-math).

No threads: right after the backward pass's matrix products, OpenBLAS's worker threads
are still spinning, and a second pool fights them for the cores. Measured on 2 cores,
Adam after a 256x3072x128 product: one thread 0.27 ms on 2^18 elements, 1.96 ms on 2^21,
24 ms on 2^23; numba's parallel loop 22, 8.0 and 28 ms; NumPy in threaded chunks first
beats one NumPy thread at 2^22 elements, and even there loses to the loop here.

numba is imported, and the loops compiled (or loaded from numba's cache), the first
time a step needs them. Where numba is missing, :func:`kernels` returns ``None`` and
``Optimizer.step`` uses the reference rules.

The loops take 1-d arrays of shape ``(n,)`` (flat views of the parameter, its gradient
and its state, all of one dtype) and scalars already of that dtype.
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import numpy as np

from barenet.optim.rules import DENORMAL_FLUSH, FLUSH_EVERY, adam_state, momentum_state

FUSED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def sgd_loop(w, dw, lr):
    """``w -= lr * dw``; ``w``, ``dw`` of shape ``(n,)``."""
    for i in range(w.size):
        w[i] = w[i] - lr * dw[i]


def sgd_momentum_loop(w, dw, velocity, momentum, lr):
    """``velocity = momentum * velocity - lr * dw; w += velocity``; arrays of shape ``(n,)``."""
    for i in range(w.size):
        vi = velocity[i] * momentum
        vi = vi - lr * dw[i]
        velocity[i] = vi
        w[i] = w[i] + vi


def sgd_nesterov_loop(w, dw, velocity, momentum, lr):
    """``velocity = momentum * velocity - lr * dw; w += momentum * velocity - lr * dw``;
    arrays of shape ``(n,)``."""
    for i in range(w.size):
        g = lr * dw[i]
        vi = velocity[i] * momentum
        vi = vi - g
        velocity[i] = vi
        w[i] = w[i] + (momentum * vi - g)


def adam_loop(
    w, dw, m, v, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_hat, step_size, flush, tiny
):
    """Adam with the bias corrections on scalars (see :func:`barenet.optim.rules.adam`).

    ``w``, ``dw``, ``m``, ``v`` have shape ``(n,)``; ``w``, ``m``, ``v`` are updated.
    ``eps_hat = epsilon * sqrt(1 - beta2**t)``, ``step_size = lr * sqrt(1 - beta2**t) /
    (1 - beta1**t)``. With ``flush`` (every ``FLUSH_EVERY``-th step), the new ``m`` and ``v`` are stored
    with their tiniest values rounded to 0 by adding and subtracting ``tiny``, after the
    step has used them: the denormal flush costs no pass of its own.
    """
    for i in range(w.size):
        g = dw[i]
        mi = m[i] * beta1
        mi = mi + one_minus_beta1 * g
        vi = v[i] * beta2
        vi = vi + one_minus_beta2 * (g * g)
        w[i] = w[i] - (mi / (np.sqrt(vi) + eps_hat)) * step_size
        if flush:
            mi = (mi + tiny) - tiny
            vi = (vi + tiny) - tiny
        m[i] = mi
        v[i] = vi


@functools.lru_cache(maxsize=1)
def kernels() -> SimpleNamespace | None:
    """The loops compiled with numba, or ``None`` where numba is unavailable.

    Compiled lazily, per dtype, on first call; ``cache=True`` keeps the machine code on
    disk for the next process, where the package's folder (or numba's user cache) is
    writable. ``error_model="numpy"``: a division by zero gives inf or nan, as in NumPy,
    instead of a check in the loop that would stop it from being vectorised.
    """
    try:
        import numba
    except ImportError:
        return None
    loops = {
        "sgd": sgd_loop,
        "sgd_momentum": sgd_momentum_loop,
        "sgd_nesterov": sgd_nesterov_loop,
        "adam": adam_loop,
    }
    try:
        compile_ = numba.njit(cache=True, error_model="numpy")
        return SimpleNamespace(**{name: compile_(f) for name, f in loops.items()})
    except RuntimeError:  # no writable cache location: compile in every process
        compile_ = numba.njit(error_model="numpy")
        return SimpleNamespace(**{name: compile_(f) for name, f in loops.items()})


def can_fuse(w: np.ndarray, dw: np.ndarray, config: dict) -> bool:
    """Whether the loops here can update ``w`` from ``dw`` with ``config``'s state.

    They need numba, and ``w``, ``dw`` and every state array in ``config`` C-contiguous,
    of one shape and one dtype, float32 or float64, with ``w`` and the state writeable.
    Anything else (float16, a transposed view, state loaded in another dtype) goes to
    the reference rule.
    """
    state = [a for a in config.values() if isinstance(a, np.ndarray)]
    return (
        w.dtype in FUSED_DTYPES
        and all(a.dtype == w.dtype and a.shape == w.shape for a in (dw, *state))
        and all(a.flags.c_contiguous for a in (w, dw, *state))
        and all(a.flags.writeable for a in (w, *state))
        and kernels() is not None
    )


def sgd_step(w: np.ndarray, dw: np.ndarray, config: dict, lr: float) -> dict:
    """:func:`barenet.optim.rules.sgd` with ``out=w``, in one pass.

    Parameters
    ----------
    w : ndarray, any shape, float32 or float64, C-contiguous
        Updated in place.
    dw : ndarray, shape and dtype of ``w``, C-contiguous
    config : dict
        Returned as is (vanilla SGD keeps no state).
    lr : float

    Returns
    -------
    config : dict
    """
    kernels().sgd(w.reshape(-1), dw.reshape(-1), w.dtype.type(lr))
    return config


def sgd_momentum_step(w: np.ndarray, dw: np.ndarray, config: dict, lr: float) -> dict:
    """:func:`barenet.optim.rules.sgd_momentum` with ``out=w``, in one pass.

    Parameters
    ----------
    w : ndarray, any shape, float32 or float64, C-contiguous
        Updated in place.
    dw : ndarray, shape and dtype of ``w``, C-contiguous
    config : dict
        ``momentum`` (default 0.9) and ``velocity`` (shape of ``w``; zeros when absent),
        updated in place.
    lr : float

    Returns
    -------
    config : dict
    """
    momentum_state(config, w)
    dtype = w.dtype.type
    kernels().sgd_momentum(
        w.reshape(-1),
        dw.reshape(-1),
        config["velocity"].reshape(-1),
        dtype(config["momentum"]),
        dtype(lr),
    )
    return config


def sgd_nesterov_step(w: np.ndarray, dw: np.ndarray, config: dict, lr: float) -> dict:
    """:func:`barenet.optim.rules.sgd_nesterov` with ``out=w``, in one pass.

    Parameters
    ----------
    w : ndarray, any shape, float32 or float64, C-contiguous
        Updated in place.
    dw : ndarray, shape and dtype of ``w``, C-contiguous
    config : dict
        ``momentum`` (default 0.9) and ``velocity`` (shape of ``w``; zeros when absent),
        updated in place.
    lr : float

    Returns
    -------
    config : dict
    """
    momentum_state(config, w)
    dtype = w.dtype.type
    kernels().sgd_nesterov(
        w.reshape(-1),
        dw.reshape(-1),
        config["velocity"].reshape(-1),
        dtype(config["momentum"]),
        dtype(lr),
    )
    return config


def adam_step(w: np.ndarray, dw: np.ndarray, config: dict, lr: float) -> dict:
    """:func:`barenet.optim.rules.adam` with ``out=w``, in one pass.

    Parameters
    ----------
    w : ndarray, any shape, float32 or float64, C-contiguous
        Updated in place.
    dw : ndarray, shape and dtype of ``w``, C-contiguous
    config : dict
        ``beta1``, ``beta2``, ``epsilon`` (defaults 0.9, 0.999, 1e-8), the moments ``m``
        and ``v`` (shape of ``w``; zeros when absent) and the step count ``t``, all
        updated in place.
    lr : float

    Returns
    -------
    config : dict
    """
    adam_state(config, w)
    beta1, beta2, eps = config["beta1"], config["beta2"], config["epsilon"]
    t = config["t"] = config["t"] + 1
    s2 = math.sqrt(1 - beta2**t)
    dtype = w.dtype.type
    kernels().adam(
        w.reshape(-1),
        dw.reshape(-1),
        config["m"].reshape(-1),
        config["v"].reshape(-1),
        dtype(beta1),
        dtype(1 - beta1),
        dtype(beta2),
        dtype(1 - beta2),
        dtype(eps * s2),
        dtype(lr * s2 / (1 - beta1**t)),
        t % FLUSH_EVERY == 0,
        dtype(DENORMAL_FLUSH),
    )
    return config
