"""A learner's solutions of the next exercises, written independently of barenet.

``SOURCE`` is the text of a learner's layer file (NumPy only, CS231n's call forms, a
plainer style than barenet's: caches hold the inputs, loops run over kernel offsets
and window positions). ``learner_module(folder)`` writes it to a file there and
imports it, as a learner's own module, whose functions ``save_pickle`` then stores
by value.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SOURCE = """
import numpy as np


def conv_forward(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    f, _, hh, ww = w.shape
    ho, wo = 1 + (xp.shape[2] - hh) // s, 1 + (xp.shape[3] - ww) // s
    out = np.zeros((x.shape[0], f, ho, wo)) + b[None, :, None, None]
    for i in range(hh):
        for j in range(ww):
            patch = xp[:, :, i : i + s * ho : s, j : j + s * wo : s]
            out += np.einsum("nchw,fc->nfhw", patch, w[:, :, i, j])
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache):
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    ho, wo = dout.shape[2:]
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            rows, cols = slice(i, i + s * ho, s), slice(j, j + s * wo, s)
            dw[:, :, i, j] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, i, j])
    dx = dxp[:, :, p : p + x.shape[2], p : p + x.shape[3]]
    return dx, dw, dout.sum(axis=(0, 2, 3))


def _windows(x, ph, pw, s):
    ho, wo = 1 + (x.shape[2] - ph) // s, 1 + (x.shape[3] - pw) // s
    parts = [x[:, :, i : i + s * ho : s, j : j + s * wo : s] for i in range(ph) for j in range(pw)]
    return np.stack(parts, axis=-1)


def max_pool_forward(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    return _windows(x, ph, pw, s).max(axis=-1), (x, pool_param)


def max_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    first = _windows(x, ph, pw, s).argmax(axis=-1)
    ho, wo = dout.shape[2:]
    dx = np.zeros_like(x)
    for k in range(ph * pw):
        i, j = divmod(k, pw)
        dx[:, :, i : i + s * ho : s, j : j + s * wo : s] += dout * (first == k)
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    mode, eps = bn_param["mode"], bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    d = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(d))
    running_var = bn_param.get("running_var", np.zeros(d))
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        xhat = (x - mu) / np.sqrt(var + eps)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
        cache = (xhat, gamma, var, eps)
    else:
        xhat = (x - running_mean) / np.sqrt(running_var + eps)
        cache = None
    return gamma * xhat + beta, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, var, eps = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (
        n * np.sqrt(var + eps)
    )
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    n, c, h, w = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout, cache):
    n, c, h, w = dout.shape
    dx, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, c), cache)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    out, cache = batchnorm_forward(x.T, np.ones(x.shape[0]), np.zeros(x.shape[0]),
                                   {"mode": "train", "eps": ln_param.get("eps", 1e-5)})
    xhat = out.T
    return gamma * xhat + beta, (cache, xhat, gamma)


def layernorm_backward(dout, cache):
    bn_cache, xhat, gamma = cache
    dxhat_t, _, _ = batchnorm_backward((dout * gamma).T, bn_cache)
    return dxhat_t.T, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    n, c, h, w = x.shape
    eps = gn_param.get("eps", 1e-5)
    groups = x.reshape(n, G, -1)
    mu, var = groups.mean(axis=2, keepdims=True), groups.var(axis=2, keepdims=True)
    xhat = ((groups - mu) / np.sqrt(var + eps)).reshape(x.shape)
    return gamma * xhat + beta, (xhat, gamma, var, eps, G)


def spatial_groupnorm_backward(dout, cache):
    xhat, gamma, var, eps, G = cache
    n, c, h, w = dout.shape
    dgamma = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(n, G, -1)
    xh = xhat.reshape(n, G, -1)
    m = dxhat.shape[2]
    dx = (m * dxhat - dxhat.sum(axis=2, keepdims=True)
          - xh * (dxhat * xh).sum(axis=2, keepdims=True)) / (m * np.sqrt(var + eps))
    return dx.reshape(dout.shape), dgamma, dbeta


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        return x * mask, (dropout_param, mask)
    return x, (dropout_param, None)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout
"""

BATCHNORM_DROPOUT_KEYS = (
    "batchnorm_forward",
    "batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "dropout_forward",
    "dropout_backward",
)
CONVNET_KEYS = (
    "conv_forward",
    "conv_backward",
    "max_pool_forward",
    "max_pool_backward",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "spatial_groupnorm_forward",
    "spatial_groupnorm_backward",
)


def learner_module(folder: Path, name: str = "next_exercise_layers", source: str = SOURCE):
    """``source`` written to ``folder/<name>.py`` and imported (remove it from sys.modules)."""
    path = Path(folder) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
