"""The kink-aware gradient check: a correct max-pool backward that plain centred
differences fail passes it; wrong backward passes still fail it."""

import numpy as np
import pytest

from barenet.gradcheck import check_gradient_kink_aware, eval_numerical_gradient_array, rel_error
from barenet.layers import Relu, max_pool_backward, max_pool_forward, max_pool_window_argmax

POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}
H = 1e-5


def near_tie_input():
    """(2, 2, 4, 4) input whose every pooling window holds two values 3e-6 apart: a step
    of +-h = 1e-5 on either one moves the window's maximum."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 4, 4))
    x[:, :, ::2, 1::2] = x[:, :, ::2, ::2] + 3e-6  # the right neighbour just above the left
    x[:, :, 1::2, :] = x[:, :, ::2, :] - 1.0  # the lower row of each window is smaller
    return x


def max_pool(v):
    return max_pool_forward(v, POOL)[0]


def wrong_backward_isclose(dout, x):
    """A classic bug: every entry 'equal' to the maximum (np.isclose) gets the gradient."""
    out = max_pool(x)
    up = np.repeat(np.repeat(out, 2, axis=2), 2, axis=3)
    return np.isclose(x, up, rtol=1e-4) * np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)


def test_plain_centred_differences_fail_a_correct_max_pool_backward():
    x = near_tie_input()
    out, cache = max_pool_forward(x, POOL)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx = max_pool_backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(max_pool, x, dout, h=H)) > 0.1


@pytest.mark.parametrize("with_state", [True, False], ids=["state", "one-sided"])
def test_kink_aware_check_passes_the_correct_backward_and_names_the_kinks(with_state):
    x = near_tie_input()
    out, cache = max_pool_forward(x, POOL)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx = max_pool_backward(dout, cache)
    state = (lambda v: max_pool_window_argmax(v, POOL)) if with_state else None
    result = check_gradient_kink_aware(max_pool, x, dout, dx, state=state, h=H)
    assert result.passed, str(result)
    # The two near-tied entries of every window are kinks; nothing else is.
    expected = np.zeros(x.shape, dtype=bool)
    expected[:, :, ::2, :] = True
    if with_state:
        np.testing.assert_array_equal(result.kinks, expected)
    else:
        assert result.kinks.any() and not (result.kinks & ~expected).any()
    assert "cross a kink" in str(result) and "passed" in str(result)


@pytest.mark.parametrize("with_state", [True, False], ids=["state", "one-sided"])
def test_kink_aware_check_still_fails_wrong_backward_passes(with_state):
    x = near_tie_input()
    out, cache = max_pool_forward(x, POOL)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    state = (lambda v: max_pool_window_argmax(v, POOL)) if with_state else None
    wrong = {
        "isclose ties": wrong_backward_isclose(dout, x),
        "spread like avg": np.repeat(np.repeat(dout / 4, 2, axis=2), 2, axis=3),
        "always the top-left": np.kron(dout, np.array([[1.0, 0.0], [0.0, 0.0]])),
    }
    for name, dx in wrong.items():
        result = check_gradient_kink_aware(max_pool, x, dout, dx, state=state, h=H)
        assert not result.passed, name
        assert "FAILED" in str(result)


def test_relu_kinks_with_its_sign_as_state():
    x = np.array([-1.0, -3e-6, 2e-6, 0.5, 2.0])
    relu = Relu()
    out, cache = relu.forward(x)
    dout = np.ones_like(x)
    dx = relu.backward(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: relu.forward(v)[0], x, dout)) > 0.1
    result = check_gradient_kink_aware(
        lambda v: relu.forward(v)[0], x, dout, dx, state=lambda v: v > 0
    )
    assert result.passed
    np.testing.assert_array_equal(result.kinks, [False, True, True, False, False])
    bad = check_gradient_kink_aware(
        lambda v: relu.forward(v)[0], x, dout, dx * 0.5, state=lambda v: v > 0
    )
    assert not bad.passed


def test_smooth_function_has_no_kinks_and_x_is_restored():
    x = np.random.default_rng(2).standard_normal((3, 4))
    x0 = x.copy()
    dout = np.ones_like(x)
    result = check_gradient_kink_aware(np.tanh, x, dout, 1 - np.tanh(x) ** 2)
    assert result.passed and not result.kinks.any() and result.error < 1e-8
    np.testing.assert_array_equal(x, x0)
