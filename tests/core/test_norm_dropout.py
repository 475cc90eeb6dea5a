"""Batch, layer and group normalisation and functional dropout: numerical gradients in
float64, running statistics, modes, errors naming the argument, the layer contract."""

import warnings

import numpy as np
import pytest
from layer_contract import assert_layer_contract

from barenet.gradcheck import eval_numerical_gradient_array, rel_error
from barenet.layers import (
    DropoutProbabilityWarning,
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    layernorm_backward,
    layernorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)


def bn_train(x, g, b):
    return batchnorm_forward(x, g, b, {"mode": "train"})


def sbn_train(x, g, b):
    return spatial_batchnorm_forward(x, g, b, {"mode": "train"})


def layernorm(x, g, b):
    return layernorm_forward(x, g, b, {})


def groupnorm(groups):
    return lambda x, g, b: spatial_groupnorm_forward(x, g, b, groups, {"eps": 1e-5})


# (forward(x, gamma, beta), backward, x shape, gamma shape)
CASES = [
    (bn_train, batchnorm_backward, (7, 5), (5,)),
    (bn_train, batchnorm_backward, (3, 2), (2,)),
    (sbn_train, spatial_batchnorm_backward, (3, 4, 5, 3), (4,)),
    (sbn_train, spatial_batchnorm_backward, (1, 2, 3, 3), (2,)),
    (layernorm, layernorm_backward, (4, 6), (6,)),
    (layernorm, layernorm_backward, (1, 2, 3, 2), (2, 3, 2)),
    (groupnorm(2), spatial_groupnorm_backward, (2, 6, 3, 4), (1, 6, 1, 1)),
    (groupnorm(3), spatial_groupnorm_backward, (1, 3, 5, 5), (3,)),
    (groupnorm(1), spatial_groupnorm_backward, (3, 4, 2, 3), (1, 4, 1, 1)),
]


@pytest.mark.parametrize("forward,backward,x_shape,g_shape", CASES)
def test_norm_backward_matches_numerical_gradient(forward, backward, x_shape, g_shape):
    rng = np.random.default_rng(len(x_shape) + x_shape[0])
    x = 3 * rng.standard_normal(x_shape) + 2
    gamma, beta = rng.standard_normal(g_shape), rng.standard_normal(g_shape)
    out, cache = forward(x, gamma, beta)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = backward(dout, cache)
    assert dgamma.shape == dbeta.shape == g_shape
    num = eval_numerical_gradient_array
    assert rel_error(dx, num(lambda v: forward(v, gamma, beta)[0], x, dout)) < 1e-7
    assert rel_error(dgamma, num(lambda v: forward(x, v, beta)[0], gamma, dout)) < 1e-7
    assert rel_error(dbeta, num(lambda v: forward(x, gamma, v)[0], beta, dout)) < 1e-7


def test_batchnorm_train_normalises_and_keeps_running_statistics():
    rng = np.random.default_rng(0)
    x = 4 * rng.standard_normal((200, 3)) + np.array([1.0, -2.0, 5.0])
    bn_param = {"mode": "train"}
    out, _ = batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-4)
    # Created as zeros, then momentum * old + (1 - momentum) * batch, with the biased variance.
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.1 * x.var(axis=0))
    old_mean = bn_param["running_mean"]
    batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.19 * x.mean(axis=0))
    assert bn_param["running_mean"] is not old_mean  # new arrays: the old one is not written
    np.testing.assert_allclose(old_mean, 0.1 * x.mean(axis=0))


def test_batchnorm_test_mode_uses_running_statistics_and_is_affine():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    mean, var = rng.standard_normal(4), rng.random(4) + 0.5
    bn_param = {"mode": "test", "running_mean": mean, "running_var": var, "eps": 1e-5}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-5) + beta)
    assert bn_param["running_mean"] is mean  # test mode leaves the statistics alone
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    f = lambda v: batchnorm_forward(v, gamma, beta, dict(bn_param))[0]  # noqa: E731
    assert rel_error(dx, eval_numerical_gradient_array(f, x, dout)) < 1e-8


def test_spatial_batchnorm_equals_batchnorm_over_pixels():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 5, 2))
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    p1, p2 = {"mode": "train"}, {"mode": "train"}
    out, _ = spatial_batchnorm_forward(x, gamma, beta, p1)
    flat = x.transpose(0, 2, 3, 1).reshape(-1, 4)
    ref, _ = batchnorm_forward(flat, gamma, beta, p2)
    np.testing.assert_allclose(out, ref.reshape(3, 5, 2, 4).transpose(0, 3, 1, 2), atol=1e-12)
    np.testing.assert_allclose(p1["running_var"], p2["running_var"])


def test_layernorm_and_groupnorm_normalise_each_sample():
    rng = np.random.default_rng(3)
    x = 5 * rng.standard_normal((4, 10)) + 3
    out, _ = layernorm_forward(x, np.ones(10), np.zeros(10), {})
    np.testing.assert_allclose(out.mean(axis=1), 0, atol=1e-12)
    x = rng.standard_normal((2, 6, 3, 3))
    out, _ = spatial_groupnorm_forward(x, np.ones((1, 6, 1, 1)), np.zeros((1, 6, 1, 1)), 3, {})
    groups = out.reshape(2, 3, -1)
    np.testing.assert_allclose(groups.mean(axis=2), 0, atol=1e-12)
    np.testing.assert_allclose(groups.var(axis=2), 1, atol=1e-3)


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: batchnorm_forward(np.zeros((4, 3)), np.ones(2), np.zeros(2), {}),
            r"gamma and beta must have shape \(3,\)",
        ),
        (
            lambda: batchnorm_forward(np.zeros((4, 3, 2)), np.ones(3), np.zeros(3), {}),
            r"x must have shape \(N, D\)",
        ),
        (
            lambda: batchnorm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3), {"mode": "eval"}),
            "mode must be 'train' or 'test'",
        ),
        (
            lambda: batchnorm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3), {"momentum": 1.5}),
            "momentum must be in",
        ),
        (
            lambda: batchnorm_forward(np.zeros((4, 3)), np.ones(3), np.zeros(3), {"eps": 0}),
            "eps must be > 0",
        ),
        (
            lambda: batchnorm_forward(
                np.zeros((4, 3)), np.ones(3), np.zeros(3), {"runing_mean": 0}
            ),
            "unknown keys",
        ),
        (
            lambda: batchnorm_forward(
                np.zeros((4, 3)), np.ones(3), np.zeros(3), {"running_var": np.ones(2)}
            ),
            r"running_var must have shape \(3,\)",
        ),
        (
            lambda: spatial_batchnorm_forward(np.zeros((2, 3, 4, 4)), np.ones(4), np.zeros(4), {}),
            r"gamma and beta must have shape \(3,\)",
        ),
        (
            lambda: layernorm_forward(np.zeros((4, 3)), np.ones(4), np.zeros(4), {}),
            r"gamma and beta must have shape \(3,\)",
        ),
        (
            lambda: spatial_groupnorm_forward(
                np.zeros((1, 6, 2, 2)), np.ones(6), np.zeros(6), 4, {}
            ),
            "G must be a positive divisor of the 6 channels",
        ),
        (
            lambda: spatial_groupnorm_forward(
                np.zeros((1, 6, 2, 2)), np.ones(3), np.zeros(3), 3, {}
            ),
            r"shape \(1, 6, 1, 1\)",
        ),
    ],
)
def test_norm_errors_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def norm_pairs(dtype):
    rng = np.random.default_rng(4)
    x2, x4 = (
        rng.standard_normal((5, 4)).astype(dtype),
        rng.standard_normal((2, 4, 3, 3)).astype(dtype),
    )
    g, b = rng.standard_normal(4).astype(dtype), rng.standard_normal(4).astype(dtype)
    return [
        (lambda v: batchnorm_forward(v, g, b, {"mode": "train"}), batchnorm_backward, x2),
        (
            lambda v: batchnorm_forward(
                v, g, b, {"mode": "test", "running_mean": g, "running_var": g * g}
            ),
            batchnorm_backward,
            x2,
        ),
        (lambda v: spatial_batchnorm_forward(v, g, b, {}), spatial_batchnorm_backward, x4),
        (lambda v: layernorm_forward(v, g, b, {}), layernorm_backward, x2),
        (lambda v: spatial_groupnorm_forward(v, g, b, 2, {}), spatial_groupnorm_backward, x4),
        (lambda v: dropout_forward(v, {"p": 0.7, "seed": 1}), dropout_backward, x4),
        (lambda v: dropout_forward(v, {"p": 0.7, "mode": "test"}), dropout_backward, x4),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_contract_dtype_no_mutation_repeatable(dtype):
    for forward, backward, x in norm_pairs(dtype):
        assert_layer_contract(forward, backward, x, dtype, seed=5)


def test_dropout_function_p_is_the_keep_probability():
    x = np.ones((400, 500))
    out, cache = dropout_forward(x, {"mode": "train", "p": 0.8, "seed": 0})
    assert abs((out != 0).mean() - 0.8) < 0.01  # 80% kept
    np.testing.assert_allclose(out[out != 0], 1 / 0.8)  # inverted: survivors scaled by 1/p
    assert abs(out.mean() - 1) < 0.01
    dout = np.random.default_rng(1).standard_normal(x.shape)
    np.testing.assert_allclose(dropout_backward(dout, cache), dout * (out != 0) / 0.8)
    same, _ = dropout_forward(x, {"mode": "train", "p": 0.8, "seed": 0})
    np.testing.assert_array_equal(out, same)  # same seed, same mask
    test_out, _ = dropout_forward(x, {"mode": "test", "p": 0.8})
    np.testing.assert_array_equal(test_out, x)


def test_dropout_function_explicit_keys_and_gradient():
    x = np.random.default_rng(2).standard_normal((6, 7))
    a, _ = dropout_forward(x, {"p": 0.6, "seed": 3})
    b, _ = dropout_forward(x, {"keep_prob": 0.6, "seed": 3})
    c, _ = dropout_forward(x, {"drop_prob": 0.4, "seed": 3})
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, c)
    out, cache = dropout_forward(x, {"p": 0.6, "seed": 3})
    dout = np.random.default_rng(4).standard_normal(x.shape)
    num = eval_numerical_gradient_array(
        lambda v: dropout_forward(v, {"p": 0.6, "seed": 3})[0], x, dout
    )
    assert rel_error(dropout_backward(dout, cache), num) < 1e-9


def test_dropout_function_makes_the_wrong_meaning_of_p_easy_to_spot():
    x = np.ones((3, 3))
    with pytest.warns(DropoutProbabilityWarning, match=r"KEEPING.*'drop_prob': 0.2"):
        dropout_forward(x, {"p": 0.2, "seed": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dropout_forward(x, {"keep_prob": 0.2, "seed": 0})  # explicit: no warning
        dropout_forward(x, {"p": 0.5, "seed": 0})
    with pytest.raises(ValueError, match="exactly one of 'p'.*KEEPING"):
        dropout_forward(x, {"p": 0.5, "drop_prob": 0.5})
    with pytest.raises(ValueError, match="exactly one of"):
        dropout_forward(x, {"mode": "train"})
    with pytest.raises(ValueError, match=r"p=0.0 keeps a fraction 0.*must be in \(0, 1\]"):
        dropout_forward(x, {"p": 0.0})
    with pytest.raises(ValueError, match="mode must be"):
        dropout_forward(x, {"p": 0.5, "mode": "eval"})
