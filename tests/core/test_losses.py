"""Losses: gradients, stability with huge logits, reductions, label validation."""

import warnings

import numpy as np
import pytest

import barenet as bn
from barenet.gradcheck import eval_numerical_gradient, rel_error


@pytest.mark.parametrize("n,c", [(1, 2), (5, 3), (8, 10)])
def test_cross_entropy_gradient_matches_numerical(n, c):
    rng = np.random.default_rng(n * c)
    logits = rng.standard_normal((n, c))
    labels = rng.integers(0, c, n)
    loss_func = bn.CrossEntropyFromLogits()
    loss, grad = loss_func(logits, labels)
    num = eval_numerical_gradient(lambda z: loss_func.forward(z, labels), logits)
    assert rel_error(grad, num) < 1e-7
    assert loss == pytest.approx(loss_func.forward(logits, labels))
    np.testing.assert_allclose(grad, loss_func.backward(logits, labels))


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    labels = np.array([2, 0])
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    onehot = np.eye(3)[labels]
    _, grad = bn.CrossEntropyFromLogits()(logits, labels)
    np.testing.assert_allclose(grad, (softmax - onehot) / 2)


def test_cross_entropy_known_value():
    logits = np.zeros((4, 10))
    loss, _ = bn.CrossEntropyFromLogits()(logits, np.arange(4))
    assert loss == pytest.approx(np.log(10), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_huge_logits_are_finite(dtype):
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((6, 5)) * 1e4).astype(dtype)
    labels = rng.integers(0, 5, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = bn.CrossEntropyFromLogits()(logits, labels)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert grad.dtype == dtype
    # With logits this large the softmax is one-hot: loss is the gap to the row maximum.
    expected = np.mean(logits.max(axis=1).astype(np.float64) - logits[np.arange(6), labels])
    assert loss == pytest.approx(expected, rel=1e-5)


def test_cross_entropy_reductions():
    rng = np.random.default_rng(2)
    logits, labels = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    per_sample = bn.CrossEntropyFromLogits(reduction="none").forward(logits, labels)
    assert per_sample.shape == (4,)
    assert bn.CrossEntropyFromLogits(reduction="sum").forward(logits, labels) == pytest.approx(
        per_sample.sum()
    )
    assert bn.CrossEntropyFromLogits().forward(logits, labels) == pytest.approx(per_sample.mean())


@pytest.mark.parametrize(
    "labels,match",
    [
        (np.array([0, 3]), r"labels must be in \[0, 3\)"),
        (np.array([0, -1]), r"labels must be in \[0, 3\)"),
        (np.array([0.0, 1.0]), "labels must be integer"),
        (np.array([0, 1, 2]), r"labels must have shape \(N,\) = \(2,\)"),
        (np.array([[0], [1]]), r"labels must have shape \(N,\)"),
    ],
)
def test_cross_entropy_bad_labels(labels, match):
    with pytest.raises(ValueError, match=match):
        bn.CrossEntropyFromLogits()(np.zeros((2, 3)), labels)


def test_cross_entropy_bad_logits_shape():
    with pytest.raises(ValueError, match=r"logits must have shape \(N, C\)"):
        bn.CrossEntropyFromLogits()(np.zeros(3), np.array([0, 1, 2]))


@pytest.mark.parametrize("loss_cls", [bn.L1, bn.MSE, bn.BCE])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_regression_losses_gradients(loss_cls, reduction):
    rng = np.random.default_rng(5)
    y = rng.uniform(0.05, 0.95, (4, 3))
    t = (
        rng.uniform(0, 1, (4, 3))
        if loss_cls is not bn.BCE
        else rng.integers(0, 2, (4, 3)).astype(float)
    )
    loss_func = loss_cls(reduction=reduction)
    _, grad = loss_func(y, t)
    num = eval_numerical_gradient(lambda v: loss_func.forward(v, t), y)
    assert rel_error(grad, num) < 1e-6


def test_regression_losses_known_values():
    y, t = np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.0, 1.0])
    assert bn.L1()(y, t)[0] == pytest.approx(5 / 3)
    assert bn.MSE()(y, t)[0] == pytest.approx(13 / 3)
    assert bn.MSE(reduction="sum")(y, t)[0] == pytest.approx(13)
    np.testing.assert_allclose(bn.L1(reduction="none")(y, t)[0], [0, 2, 3])
    p = np.array([0.5, 0.9])
    assert bn.BCE()(p, np.array([1.0, 0.0]))[0] == pytest.approx((np.log(2) - np.log(0.1)) / 2)


def test_bce_is_finite_at_exact_zero_and_one():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = bn.BCE()(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert loss == pytest.approx(100.0)
    assert np.all(np.isfinite(grad))


def test_bad_reduction_and_shapes():
    with pytest.raises(ValueError, match="reduction must be one of"):
        bn.MSE(reduction="avg")
    with pytest.raises(ValueError, match="same shape"):
        bn.MSE()(np.zeros(3), np.zeros(4))
