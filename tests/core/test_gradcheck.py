"""The gradient checker itself: known derivatives, restoration of x, rel_error."""

import numpy as np
import pytest

from barenet.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


def test_numerical_gradient_of_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    x0 = x.copy()
    grad = eval_numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_allclose(grad, 3 * x0**2, rtol=1e-8)
    np.testing.assert_array_equal(x, x0)  # restored after perturbation


def test_numerical_gradient_array_of_known_function():
    x = np.array([1.0, 2.0, 3.0])
    df = np.array([1.0, -1.0, 2.0])
    grad = eval_numerical_gradient_array(np.sin, x, df)
    np.testing.assert_allclose(grad, np.cos(x) * df, rtol=1e-8)


def test_rel_error():
    assert rel_error(np.array([1.0]), np.array([1.0])) == 0.0
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 3.0])) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="shape"):
        rel_error(np.zeros(2), np.zeros(3))
