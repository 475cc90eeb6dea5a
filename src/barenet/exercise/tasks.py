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

#: The ConvNet exercise: convolution, max pooling, spatial batch and group normalisation,
#: in CS231n's call forms. Spatial batch norm runs the batch normalisation of the
#: previous exercise, so its two regions come back here with the same text.
CONVNET: dict[str, tuple[str, str]] = {
    "conv_forward": (
        "conv_forward",
        "Compute the convolution as one matrix product. pad_channels_last(x, pad) gives the "
        "zero-padded image channels-last, (N, H + 2 * pad, W + 2 * pad, C), and im2col(xp, HH, "
        "WW, stride, (Ho, Wo)) its patch matrix cols, (N * Ho * Wo, HH * WW * C): one row per "
        "output pixel (n, i, j), its values ordered (kernel row, kernel column, channel). Lay "
        "the filters out in the same order as a (HH * WW * C, F) matrix w_mat; then cols @ "
        "w_mat + b is the output, channels-last (N * Ho * Wo, F): reshape it to (N, Ho, Wo, F) "
        "and transpose it to (N, F, Ho, Wo). Keep the dtype of x (workspace, which reuses "
        "memory, may be ignored). Return (out, cache) with cache = (cols, w, x.shape, stride, "
        "pad): what conv_param_grads and conv_input_grad take.",
    ),
    "conv_param_grads": (
        "conv_param_grads",
        "From dout (N, F, Ho, Wo) and the cache of conv_forward, return dw (F, C, HH, WW) and "
        "db (F,), in the dtype of w. Each output pixel is one row of cols times w_mat, so with "
        "dmat = _dout_matrix(dout), dout as (N * Ho * Wo, F) in the rows' order, the gradient "
        "of w_mat is cols.T @ dmat, (HH * WW * C, F), summed over every pixel of the batch: "
        "reshape it back to w's layout. db is the sum of dmat over its rows. Do not average "
        "over the batch.",
    ),
    "conv_input_grad": (
        "conv_input_grad",
        "From dout (N, F, Ho, Wo) and the cache of conv_forward, return dx (N, C, H, W) in the "
        "dtype of cols. The gradient of the patch matrix is dcols = dmat @ w_mat.T, (N * Ho * "
        "Wo, HH * WW * C), with dmat = _dout_matrix(dout) and w_mat the filter matrix of the "
        "forward pass. col2im(dcols, (N, H + 2 * pad, W + 2 * pad, C), HH, WW, stride, (Ho, "
        "Wo)) adds each patch's gradient back where the patch was taken (patches overlap); "
        "cut the padding off and transpose to (N, C, H, W). (With stride 1, dx is also the "
        "convolution of the padded dout with the flipped filters, a faster route; either is "
        "right.)",
    ),
    "max_pool_forward": (
        "max_pool_forward",
        "(Ho, Wo), offsets = _windows(x.shape, PH, PW, S) gives the output size and one index "
        "per position k of a window, row-major (k = 0 .. PH * PW - 1): x[offsets[k]] is the "
        "(N, C, Ho, Wo) array of the values at position k of every window. out is their "
        "elementwise maximum, in the dtype of x; argmax, an integer array (N, C, Ho, Wo), "
        "holds the k of each window's first maximum (a tie goes to the smaller k). Do not "
        "write into x. Return (out, cache) with cache = (argmax, x, (PH, PW, S)).",
    ),
    "max_pool_backward": (
        "max_pool_backward",
        "From dout (N, C, Ho, Wo) and the cache (argmax, x, (PH, PW, S)), return dx, the shape "
        "of x and the dtype of dout: each window's gradient goes to its first maximum only. "
        "Start from zeros (an input that no window reaches gets 0); for each position k, "
        "dx[offsets[k]] (offsets from _windows, as in the forward pass) receives dout where "
        "argmax == k. Windows overlap when S is smaller than the window: add into dx there, "
        "do not overwrite.",
    ),
    "batchnorm_forward": BATCHNORM_DROPOUT["batchnorm_forward"],
    "batchnorm_backward": BATCHNORM_DROPOUT["batchnorm_backward"],
    "spatial_batchnorm_forward": (
        "spatial_batchnorm_forward",
        "Each channel is one feature, normalised over the batch and every position: N * H * W "
        "values. Run the batch normalisation above, _batchnorm, on x with axes (0, 2, 3) and "
        "the shape (1, C, 1, 1) for gamma, beta and the statistics, and return its (out, "
        "cache). (CS231n's way is the same: x as (N * H * W, C) through batchnorm_forward, "
        "and the result back to (N, C, H, W).)",
    ),
    "spatial_batchnorm_backward": (
        "spatial_batchnorm_backward",
        "Return (dx, dgamma, dbeta) from the cache of your spatial_batchnorm_forward: "
        "_batchnorm_backward works on the axes the cache names. (If you reshaped x to "
        "(N * H * W, C), reshape dout the same way and dx back.)",
    ),
    "spatial_groupnorm_forward": (
        "spatial_groupnorm_forward",
        "Split each sample's C channels into G groups of C // G consecutive channels and "
        "normalise each group over its channels and the whole map (x.reshape(N, G, -1) holds "
        "one group per row): xhat = (x - mean) / sqrt(var + eps), with the group's mean and "
        "biased variance. Then out = gamma * xhat + beta, gamma and beta reshaped to (1, C, 1, "
        "1) (they may come as (C,)), in the dtype and shape of x. Return (out, cache), the "
        "cache holding what your backward needs, e.g. (xhat, gamma, inv_std, G).",
    ),
    "spatial_groupnorm_backward": (
        "spatial_groupnorm_backward",
        "Return dx (N, C, H, W), dgamma and dbeta (the shape of gamma): dbeta and dgamma are "
        "the sums over the axes (0, 2, 3) of dout and of dout * xhat. For dx, with dxhat = "
        "dout * gamma (as (1, C, 1, 1)) and the means over each group of each sample, dx = "
        "inv_std * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)): batch norm's backward, "
        "per group. Do not write into dout or the cache.",
    ),
}
