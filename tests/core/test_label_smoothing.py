"""Label smoothing in CrossEntropyFromLogits: numerical gradients, PyTorch as the oracle."""

import numpy as np
import pytest

import barenet as bn


def logits_and_labels(seed=0, n=7, c=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, c)) * 3, rng.integers(0, c, n)


def test_no_smoothing_is_the_plain_cross_entropy_exactly():
    logits, labels = logits_and_labels()
    plain = bn.CrossEntropyFromLogits()(logits, labels)
    zero = bn.CrossEntropyFromLogits(smoothing=0.0)(logits, labels)
    assert plain[0] == zero[0]
    np.testing.assert_array_equal(plain[1], zero[1])


def test_by_hand_uniform_logits():
    # Uniform softmax: every -log p_c is ln C, whatever the target: the loss stays ln C,
    # and the gradient is (1/C - q) / N with q = (1 - s) * onehot + s / C.
    loss, grad = bn.CrossEntropyFromLogits(smoothing=0.5)(np.zeros((2, 4)), np.array([0, 3]))
    assert loss == pytest.approx(np.log(4))
    expected = np.full((2, 4), (0.25 - 0.125) / 2)
    expected[[0, 1], [0, 3]] = (0.25 - 0.625) / 2
    np.testing.assert_allclose(grad, expected)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradient_matches_numerical_in_float64(reduction):
    logits, labels = logits_and_labels(1)
    loss = bn.CrossEntropyFromLogits(reduction=reduction, smoothing=0.3)
    numerical = bn.eval_numerical_gradient(lambda z: loss.forward(z, labels), logits.copy())
    assert bn.rel_error(loss.backward(logits, labels), numerical) < 1e-7


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.1, 0.2, 1.0])
def test_loss_and_gradient_match_torch(smoothing, reduction):
    torch = pytest.importorskip("torch")
    logits, labels = logits_and_labels(2)
    loss, grad = bn.CrossEntropyFromLogits(reduction=reduction, smoothing=smoothing)(logits, labels)
    t_logits = torch.from_numpy(logits.copy()).requires_grad_()
    t_loss = torch.nn.functional.cross_entropy(
        t_logits, torch.from_numpy(labels), reduction=reduction, label_smoothing=smoothing
    )
    t_loss.sum().backward()
    np.testing.assert_allclose(loss, t_loss.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad, t_logits.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_huge_logits_stay_finite_and_dtype_is_kept():
    logits = np.array([[1e4, -1e4, 0.0]], np.float32)
    loss, grad = bn.CrossEntropyFromLogits(smoothing=0.1)(logits, np.array([1]))
    assert np.isfinite(loss) and np.isfinite(grad).all() and grad.dtype == np.float32


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_smoothing_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match="smoothing must be in \\[0, 1\\]"):
        bn.CrossEntropyFromLogits(smoothing=bad)
