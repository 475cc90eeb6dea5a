"""Convolution and pooling: numerical gradients in float64, known values, errors, contract."""

import numpy as np
import pytest
from layer_contract import assert_layer_contract

from barenet.gradcheck import eval_numerical_gradient_array, rel_error
from barenet.layers import (
    avg_pool_backward,
    avg_pool_forward,
    conv_backward,
    conv_forward,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward,
    max_pool_forward,
)

# (x shape, w shape, stride, pad): odd sizes, non-square kernels, N = 1, strides 1-3.
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((1, 2, 7, 6), (3, 2, 3, 2), 2, 1),
    ((3, 1, 4, 7), (2, 1, 1, 3), 1, 0),
    ((1, 4, 9, 9), (2, 4, 3, 3), 3, 0),
    ((2, 2, 6, 6), (3, 2, 5, 5), 1, 2),
    ((1, 3, 5, 4), (2, 3, 2, 2), 1, 3),  # pad >= kernel: the col2im path with stride 1
]


def spread(x):
    """Distinct values so that no pooling window holds a near-tie."""
    flat = np.random.default_rng(7).permutation(x.size).astype(np.float64)
    return (flat / x.size + 0.01 * x.ravel()).reshape(x.shape)


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES)
def test_conv_backward_matches_numerical_gradient(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(sum(x_shape) + stride)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    param = {"stride": stride, "pad": pad}
    out, cache = conv_forward(x, w, b, param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward(dout, cache)
    assert (
        rel_error(
            dx, eval_numerical_gradient_array(lambda v: conv_forward(v, w, b, param)[0], x, dout)
        )
        < 1e-7
    )
    assert (
        rel_error(
            dw, eval_numerical_gradient_array(lambda v: conv_forward(x, v, b, param)[0], w, dout)
        )
        < 1e-7
    )
    assert (
        rel_error(
            db, eval_numerical_gradient_array(lambda v: conv_forward(x, w, v, param)[0], b, dout)
        )
        < 1e-7
    )


def test_conv_forward_known_values():
    """A 1x1 kernel is a per-pixel matrix product; a 3x3 of ones sums each neighbourhood."""
    x = np.arange(2 * 2 * 3 * 3, dtype=np.float64).reshape(2, 2, 3, 3)
    w = np.array([[[[2.0]], [[-1.0]]]])
    out, _ = conv_forward(x, w, np.array([0.5]), {"stride": 1, "pad": 0})
    np.testing.assert_allclose(out[:, 0], 2 * x[:, 0] - x[:, 1] + 0.5)
    ones = np.ones((1, 1, 3, 3))
    out, _ = conv_forward(x[:, :1], ones, np.zeros(1), {"stride": 1, "pad": 1})
    assert out.shape == (2, 1, 3, 3)
    assert out[0, 0, 1, 1] == x[0, 0].sum()
    assert out[0, 0, 0, 0] == x[0, 0, :2, :2].sum()


def test_conv_output_size_and_a_stride_that_does_not_fit():
    x, w, b = np.zeros((1, 3, 31, 31)), np.zeros((8, 3, 5, 5)), np.zeros(8)
    out, _ = conv_forward(x, w, b, {"stride": 3, "pad": 2})
    assert out.shape == (1, 8, 1 + (31 + 4 - 5) // 3, 1 + (31 + 4 - 5) // 3)  # 11 x 11
    x = np.zeros((1, 3, 32, 32))
    with pytest.raises(
        ValueError, match=r"stride 2 does not fit the input height.*32.*pad 1.*kernel 5"
    ):
        conv_forward(x, w, b, {"stride": 2, "pad": 1})


@pytest.mark.parametrize(
    "args,match",
    [
        (((1, 3, 8, 8), (4, 2, 3, 3), (4,)), "w must have shape.*C = 3"),
        (((1, 3, 8, 8), (4, 3, 3, 3), (3,)), r"b must have shape \(F,\) = \(4,\)"),
        (((3, 8, 8), (4, 3, 3, 3), (4,)), r"x must have shape \(N, C, H, W\)"),
        (((1, 3, 2, 2), (4, 3, 3, 3), (4,)), "kernel height 3 is larger"),
    ],
)
def test_conv_shape_errors_name_the_argument(args, match):
    x, w, b = (np.zeros(s) for s in args)
    with pytest.raises(ValueError, match=match):
        conv_forward(x, w, b, {"stride": 1, "pad": 0})


@pytest.mark.parametrize(
    "param,match", [({"stride": 0}, "stride"), ({"pad": -1}, "pad"), ({"strides": 1}, "unknown")]
)
def test_conv_param_errors(param, match):
    with pytest.raises(ValueError, match=match):
        conv_forward(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 3, 3)), np.zeros(1), param)


POOL_CASES = [
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 5, 7), 2, 2, 2),  # odd sizes: the last row/column reaches no window
    ((2, 1, 7, 5), 3, 2, 1),  # overlapping windows
    ((1, 2, 9, 9), 3, 3, 3),
    ((3, 2, 6, 6), 2, 3, 2),
]


@pytest.mark.parametrize("x_shape,ph,pw,stride", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_backward_matches_numerical_gradient(x_shape, ph, pw, stride, kind):
    forward, backward = {
        "max": (max_pool_forward, max_pool_backward),
        "avg": (avg_pool_forward, avg_pool_backward),
    }[kind]
    x = spread(np.random.default_rng(3).standard_normal(x_shape))
    param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = forward(x, param)
    assert out.shape == (
        x_shape[0],
        x_shape[1],
        1 + (x_shape[2] - ph) // stride,
        1 + (x_shape[3] - pw) // stride,
    )
    dout = np.random.default_rng(4).standard_normal(out.shape)
    dx = backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: forward(v, param)[0], x, dout, h=1e-7)
    assert rel_error(dx, dx_num) < 1e-6


def test_max_pool_known_values_and_ties_go_to_one_entry():
    x = np.array([[[[1.0, 3.0, 2.0, 2.0], [0.0, -1.0, 2.0, 2.0]]]])
    out, cache = max_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    np.testing.assert_array_equal(out, [[[[3.0, 2.0]]]])
    dx = max_pool_backward(np.array([[[[10.0, 7.0]]]]), cache)
    # The gradient of a tied window goes to its first maximum (row-major), once.
    np.testing.assert_array_equal(dx, [[[[0.0, 10.0, 7.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_avg_and_global_avg_pool_known_values():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, _ = avg_pool_forward(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    np.testing.assert_array_equal(out, [[[[2.5, 4.5], [10.5, 12.5]]]])
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    out, cache = global_avg_pool_forward(x)
    np.testing.assert_allclose(out, x.mean(axis=(2, 3)))
    dout = np.random.default_rng(1).standard_normal((2, 3))
    dx = global_avg_pool_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: global_avg_pool_forward(v)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-8


@pytest.mark.parametrize(
    "param,match",
    [
        ({"pool_height": 2, "pool_width": 2}, "missing keys.*stride"),
        ({"pool_height": 0, "pool_width": 2, "stride": 2}, "pool_height must be an integer >= 1"),
        ({"pool_height": 5, "pool_width": 2, "stride": 2}, "larger than the input's 4x4"),
    ],
)
def test_pool_param_errors(param, match):
    with pytest.raises(ValueError, match=match):
        max_pool_forward(np.zeros((1, 1, 4, 4)), param)


def pairs(dtype):
    """(forward, backward, inputs) for every layer of this file, at a small shape."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 6)).astype(dtype)
    w, b = rng.standard_normal((4, 3, 3, 3)).astype(dtype), rng.standard_normal(4).astype(dtype)
    pp = {"pool_height": 2, "pool_width": 2, "stride": 2}
    return [
        (lambda v: conv_forward(v, w, b, {"stride": 1, "pad": 1}), conv_backward, x),
        (lambda v: conv_forward(v, w, b, {"stride": 2, "pad": 1}), conv_backward, x[:, :, :5, :5]),
        (lambda v: max_pool_forward(v, pp), max_pool_backward, x),
        (
            lambda v: max_pool_forward(v, {"pool_height": 3, "pool_width": 3, "stride": 1}),
            max_pool_backward,
            x,
        ),
        (lambda v: avg_pool_forward(v, pp), avg_pool_backward, x),
        (global_avg_pool_forward, global_avg_pool_backward, x),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_keep_dtype_never_mutate_and_repeat(dtype):
    for forward, backward, x in pairs(dtype):
        assert_layer_contract(forward, backward, x, dtype, seed=6)


def test_conv_on_channels_last_input_equals_conv_on_contiguous_input():
    """The convolution's output is a channels-last view; feeding it on gives the same numbers."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 6, 6))
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    w, b = rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    a, _ = conv_forward(x, w, b, {"stride": 1, "pad": 1})
    c, _ = conv_forward(x_cl, w, b, {"stride": 1, "pad": 1})
    np.testing.assert_array_equal(a, c)
