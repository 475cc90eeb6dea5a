"""What the learner is asked to write in each marked region, per exercise.

Keys are the region names marked in barenet's source; values are ``(title, task)``.
The starter kit prints the task as a ``# TODO`` comment where the code goes.
"""

from __future__ import annotations

#: The first exercise: the layers and the momentum step of a classification net.
NEURAL_NETWORKS: dict[str, tuple[str, str]] = {
    "sigmoid_forward": (
        "Sigmoid.forward",
        "Compute out = 1 / (1 + exp(-x)) elementwise, keeping the dtype of x. Large |x| "
        "must not overflow: exp(1000) is inf, so avoid exp of a large positive number. "
        "Return (out, cache), the cache being what backward needs.",
    ),
    "sigmoid_backward": (
        "Sigmoid.backward",
        "Return dx = dout * s * (1 - s), where s is the sigmoid of the forward input; "
        "take it from the cache instead of computing it again.",
    ),
    "relu_forward": (
        "Relu.forward",
        "Compute out = max(0, x) elementwise and return (out, cache). Do not write into x.",
    ),
    "relu_backward": (
        "Relu.backward",
        "Return dx: dout where the forward input was positive, 0 elsewhere (also at 0).",
    ),
    "affine_forward": (
        "affine_forward",
        "Flatten each of the N inputs to a row of D values, then out = x_flat @ w + b, "
        "shape (N, M). Return (out, cache) with cache = (x, w, b).",
    ),
    "affine_backward": (
        "affine_backward",
        "From dout (N, M) and the cache (x, w, b), return dx (the shape of x), "
        "dw (D, M) and db (M,). Do not average over the batch: the loss already did.",
    ),
    "sgdm_update": (
        "SGDMomentum._update",
        "v = momentum * v - lr * dw, then next_w = w + v. The momentum comes from "
        "config (0.9 when absent); the velocity too (zeros like w on the first call). "
        "Store the velocity in config and return (next_w, config).",
    ),
}

#: Batch normalisation and dropout, in CS231n's call forms.
BATCHNORM_DROPOUT: dict[str, tuple[str, str]] = {
    "batchnorm_forward": (
        "batchnorm_forward",
        "Compute xhat, x normalised over `axes`, and inv_std = 1 / sqrt(var + eps), shaped "
        "like `shape` (1 on the normalised axes). In 'train' mode use the mean and the biased "
        "variance (divided by the count) of the batch, and store the running statistics in "
        "bn_param: running = momentum * running + (1 - momentum) * batch value, as arrays of "
        "shape (features,). In 'test' mode normalise with running_mean and running_var and "
        "change nothing in bn_param (but store them there if they were missing). Return "
        "out = gamma * xhat + beta (gamma and beta reshaped to `shape`) and the cache "
        "(xhat, gamma, inv_std, axes, mode == 'train').",
    ),
    "batchnorm_backward": (
        "batchnorm_backward",
        "Return dx (the shape of dout), dgamma and dbeta (the shape of gamma): dbeta and "
        "dgamma are the sums over `axes` of dout and of dout * xhat. In training the mean and "
        "the variance depend on x: with M values per feature, dx = gamma * inv_std / M * "
        "(M * dout - sum(dout) - xhat * sum(dout * xhat)), the sums over `axes` (keepdims). "
        "In test mode they are constants: dx = gamma * inv_std * dout.",
    ),
    "layernorm_forward": (
        "layernorm_forward",
        "Normalise each sample over all its features (axes 1, 2, ...): xhat = (x - mean) * "
        "inv_std with the sample's mean and biased variance, inv_std = 1 / sqrt(var + eps) "
        "of shape (N, 1, ..., 1). The same in training and testing: no running statistics. "
        "Return out = gamma * xhat + beta and the cache (xhat, gamma, inv_std).",
    ),
    "layernorm_backward": (
        "layernorm_backward",
        "Return dx (the shape of dout), dgamma and dbeta (the shape of gamma): dbeta and "
        "dgamma are sums over the batch axis 0 of dout and dout * xhat. For dx, with "
        "g = dout * gamma and the means over each sample's features, dx = inv_std * "
        "(g - mean(g) - xhat * mean(g * xhat)).",
    ),
    "dropout_forward": (
        "dropout_forward",
        "`keep` is the probability of keeping a unit. In 'test' mode (or with keep = 1) "
        "return x and the cache (None, 1.0). In 'train' mode draw a mask that keeps each "
        "unit with probability keep, from np.random.default_rng(dropout_param.get('seed')), "
        "return out = x * mask / keep (inverted dropout: the test mode needs no scaling) "
        "and the cache (mask, 1 / keep).",
    ),
    "dropout_backward": (
        "dropout_backward",
        "From the cache (mask, scale) return dx = dout * mask * scale, the mask of the "
        "forward pass; with no mask (test mode) dx is a copy of dout.",
    ),
}
