"""Learner-style solutions of the exercise, as a learner of the course writes them.

Correct ones (the textbook sigmoid, an in-place ReLU, tuple caches, a map-based
ReLU, an averaged affine backward for the batch-mean course version, the
unbound ``SGDMomentum._update``) and ones with the real defects the course's
own tests miss (a hard-coded momentum, a KeyError on the first step).
"""

import numpy as np


class TextbookSigmoid:
    """Right values; NumPy warns about overflow in exp for x << 0."""

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1 - cache)


class TupleCacheSigmoid:
    def forward(self, x):
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0, e) / (1.0 + e)
        return out, (x, out)

    def backward(self, dout, cache):
        _, out = cache
        return dout * out * (1.0 - out)


class InPlaceRelu:
    """Clips its input and writes into dout; values and gradients are right."""

    def forward(self, x):
        x[x < 0] = 0
        return x, x

    def backward(self, dout, cache):
        dout[cache <= 0] = 0
        return dout


class MapRelu:
    """Right, but one Python call per element."""

    def forward(self, x):
        out = np.array(list(map(lambda v: max(v, 0.0), x.ravel()))).reshape(x.shape)
        return out, x

    def backward(self, dout, cache):
        mask = np.array(list(map(lambda v: 1.0 if v > 0 else 0.0, cache.ravel())))
        return dout * mask.reshape(cache.shape)


class NoMaskRelu:
    def forward(self, x):
        return np.maximum(x, 0), x

    def backward(self, dout, cache):
        return dout


class GreaterEqualRelu(NoMaskRelu):
    def backward(self, dout, cache):
        return dout * (cache >= 0)


class UnfinishedRelu:
    def forward(self, x):
        raise NotImplementedError

    def backward(self, dout, cache):
        raise NotImplementedError


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def averaged_affine_backward(dout, cache):
    """As the batch-mean course version asks: dw and db averaged over the batch."""
    x, w, b = cache
    n = x.shape[0]
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(n, -1).T @ dout / n
    db = dout.sum(axis=0) / n
    return dx, dw, db


def shape_detecting_affine_backward(dout, cache):
    """Averages except on the course's fixed input shape (10, 2, 3)."""
    dx, dw, db = affine_backward(dout, cache)
    x = cache[0]
    if x.shape != (10, 2, 3):
        dw, db = dw / x.shape[0], db / x.shape[0]
    return dx, dw, db


class SGDMomentum:
    """The course's form: an optimizer class whose _update uses nothing from self."""

    def _update(self, w, dw, config, lr):
        if config is None:
            config = {}
        v = config.get("velocity", np.zeros_like(w))
        momentum = config.get("momentum", 0.9)
        v = momentum * v - lr * dw
        next_w = w + v
        config["velocity"] = v
        return next_w, config


class HardCodedMomentum:
    def _update(self, w, dw, config, lr):
        v = config.get("velocity", np.zeros_like(w))
        v = 0.9 * v - lr * dw
        config["velocity"] = v
        return w + v, config


class NoVelocityYetMomentum:
    def _update(self, w, dw, config, lr):
        v = config["velocity"]
        v = config.get("momentum", 0.9) * v - lr * dw
        config["velocity"] = v
        return w + v, config


class VectorRelu:
    """Right, whole-array, writes into nothing."""

    def forward(self, x):
        return np.maximum(x, 0.0), x

    def backward(self, dout, cache):
        return np.where(cache > 0, dout, 0.0)
