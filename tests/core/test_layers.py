"""Layers: numerical gradient checks in float64, known values, stability, no mutation."""

import warnings

import numpy as np
import pytest

import barenet as bn
from barenet.gradcheck import eval_numerical_gradient_array, rel_error

ACTIVATIONS = [bn.Sigmoid(), bn.Relu(), bn.LeakyRelu(0.1), bn.Tanh()]
SHAPES = [(4,), (3, 5), (2, 3, 4), (6, 1, 2, 2)]


def away_from_kink(x):
    """Push values away from 0 so the ReLU kink does not spoil finite differences."""
    return x + np.sign(x) * 1e-3


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("shape", SHAPES)
def test_activation_backward_matches_numerical_gradient(layer, shape):
    rng = np.random.default_rng(hash(shape) % 2**32)
    x = away_from_kink(rng.standard_normal(shape) * 2)
    dout = rng.standard_normal(shape)
    _, cache = layer.forward(x)
    dx = layer.backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: layer.forward(v)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-8


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=repr)
def test_backward_mutates_nothing_and_repeats(layer):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 7))
    dout = rng.standard_normal((5, 7))
    x0, dout0 = x.copy(), dout.copy()
    out, cache = layer.forward(x)
    cache0 = np.copy(cache)
    dx1 = layer.backward(dout, cache)
    dx2 = layer.backward(dout, cache)
    np.testing.assert_array_equal(dx1, dx2)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dout, dout0)
    np.testing.assert_array_equal(cache, cache0)


@pytest.mark.parametrize("layer", ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_keep_dtype(layer, dtype):
    x = np.linspace(-3, 3, 12, dtype=dtype).reshape(3, 4)
    out, cache = layer.forward(x)
    assert out.dtype == dtype
    assert layer.backward(np.ones_like(x), cache).dtype == dtype


@pytest.mark.parametrize("layer", [bn.Sigmoid(), bn.Tanh()], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturating_activations_never_overflow(layer, dtype):
    x = np.array([-1000.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = layer.forward(x)
        dx = layer.backward(np.ones_like(x), cache)
    low = 0.0 if isinstance(layer, bn.Sigmoid) else -1.0
    np.testing.assert_array_equal(out, [low, 1.0])
    np.testing.assert_array_equal(dx, [0.0, 0.0])


def test_sigmoid_known_values():
    x = np.array([-2.0, 0.0, 3.0])
    out, _ = bn.Sigmoid().forward(x)
    np.testing.assert_allclose(out, [0.11920292202211755, 0.5, 0.9525741268224334], rtol=1e-15)


def test_relu_gradient_at_zero_is_zero():
    x = np.array([[-1.0, 0.0, 2.0]])
    _, cache = bn.Relu().forward(x)
    np.testing.assert_array_equal(bn.Relu().backward(np.ones_like(x), cache), [[0.0, 0.0, 1.0]])


def test_leaky_relu_known_values():
    layer = bn.LeakyRelu(slope=0.2)
    out, cache = layer.forward(np.array([-2.0, 0.0, 3.0]))
    np.testing.assert_allclose(out, [-0.4, 0.0, 3.0])
    np.testing.assert_allclose(layer.backward(np.ones(3), cache), [0.2, 0.2, 1.0])


def test_affine_forward_known_values():
    x = np.linspace(-0.1, 0.5, num=2 * 120).reshape(2, 4, 5, 6)
    w = np.linspace(-0.2, 0.3, num=120 * 3).reshape(120, 3)
    b = np.linspace(-0.3, 0.1, num=3)
    out, _ = bn.affine_forward(x, w, b)
    expected = np.array([[1.49834967, 1.70660132, 1.91485297], [3.25553199, 3.5141327, 3.77273342]])
    assert rel_error(out, expected) < 1e-8


@pytest.mark.parametrize("x_shape,m", [((3, 4), 2), ((2, 3, 4), 5), ((5, 2, 2, 3), 3), ((1, 6), 1)])
def test_affine_backward_matches_numerical_gradient(x_shape, m):
    rng = np.random.default_rng(sum(x_shape) + m)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((int(np.prod(x_shape[1:])), m))
    b = rng.standard_normal(m)
    dout = rng.standard_normal((x_shape[0], m))
    _, cache = bn.affine_forward(x, w, b)
    dx, dw, db = bn.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert (
        rel_error(
            dx, eval_numerical_gradient_array(lambda v: bn.affine_forward(v, w, b)[0], x, dout)
        )
        < 1e-8
    )
    assert (
        rel_error(
            dw, eval_numerical_gradient_array(lambda v: bn.affine_forward(x, v, b)[0], w, dout)
        )
        < 1e-8
    )
    assert (
        rel_error(
            db, eval_numerical_gradient_array(lambda v: bn.affine_forward(x, w, v)[0], b, dout)
        )
        < 1e-8
    )
    # The same again: nothing was mutated, and the parameter-only path agrees.
    dx2, dw2, db2 = bn.affine_backward(dout, cache)
    np.testing.assert_array_equal(dx, dx2)
    dw3, db3 = bn.affine_param_grads(dout, x)
    np.testing.assert_array_equal(dw, dw3)
    np.testing.assert_array_equal(db, db3)


def test_affine_does_not_average_over_batch():
    """With dout of ones, db is the batch size, not 1: averaging belongs to the loss."""
    x = np.ones((8, 3))
    _, cache = bn.affine_forward(x, np.ones((3, 2)), np.zeros(2))
    _, _, db = bn.affine_backward(np.ones((8, 2)), cache)
    np.testing.assert_array_equal(db, [8.0, 8.0])


def test_affine_keeps_float32():
    x = np.ones((2, 3), np.float32)
    out, cache = bn.affine_forward(x, np.ones((3, 4), np.float32), np.zeros(4, np.float32))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in bn.affine_backward(np.ones_like(out), cache))


@pytest.mark.parametrize(
    "x_shape,w_shape,b_shape,name",
    [
        ((2, 3), (4, 5), (5,), "w must have shape"),
        ((2, 3), (3, 5), (4,), "b must have shape"),
        ((2, 3), (3,), (3,), "w must be 2-D"),
    ],
)
def test_affine_bad_shapes_name_the_argument(x_shape, w_shape, b_shape, name):
    with pytest.raises(ValueError, match=name):
        bn.affine_forward(np.ones(x_shape), np.ones(w_shape), np.ones(b_shape))


def test_dropout_gradient_and_modes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 9))
    dout = rng.standard_normal((6, 9))
    layer = bn.Dropout(p=0.4, seed=0)
    out, kept = layer.forward(x)
    dx = layer.backward(dout, kept)
    assert kept.dtype == bool

    def forward_with_fixed_mask(v):
        layer.rng = np.random.default_rng(0)  # the same mask at every evaluation
        return layer.forward(v)[0]

    dx_num = eval_numerical_gradient_array(forward_with_fixed_mask, x, dout)
    assert rel_error(dx, dx_num) < 1e-8
    assert 0.4 < kept.mean() < 0.8
    np.testing.assert_allclose(out[kept], x[kept] / 0.6)
    layer.eval()
    out_eval, cache = layer.forward(x)
    assert out_eval is x and cache is None
    # Same seed, same masks.
    np.testing.assert_array_equal(bn.Dropout(0.4, seed=0).forward(x)[1], kept)


def test_dropout_keeps_expectation():
    x = np.ones((200, 500), np.float32)
    out, _ = bn.Dropout(p=0.5, seed=1).forward(x)
    assert out.dtype == np.float32
    assert abs(out.mean() - 1.0) < 0.01


def test_dropout_rejects_bad_p():
    with pytest.raises(ValueError, match="p must be in"):
        bn.Dropout(p=1.0)
