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
