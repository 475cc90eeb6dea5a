"""ClassificationNet: end-to-end gradient checks, the untrained loss, saving, seeds."""

import numpy as np
import pytest

import barenet as bn
from barenet.gradcheck import eval_numerical_gradient, rel_error


def net_loss_and_grads(net, X, y):
    loss_func = bn.CrossEntropyFromLogits()
    loss, dlogits = loss_func(net.forward(X), y)
    grads = net.backward(dlogits)
    return loss + net.reg_loss(), grads


@pytest.mark.parametrize("num_layer", [1, 2, 3])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu:0.1"])
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_network_gradients_match_numerical(num_layer, activation, reg):
    rng = np.random.default_rng(num_layer * 7 + int(reg * 10))
    net = bn.ClassificationNet(
        activation=activation,
        num_layer=num_layer,
        input_size=6,
        hidden_size=5,
        std=0.5,
        num_classes=4,
        reg=reg,
        dtype=np.float64,
        seed=1,
    )
    X = rng.standard_normal((7, 2, 3))
    y = rng.integers(0, 4, 7)
    _, grads = net_loss_and_grads(net, X, y)
    assert set(grads) == set(net.params)
    for name, param in net.params.items():
        num = eval_numerical_gradient(lambda _: net_loss_and_grads(net, X, y)[0], param)
        assert rel_error(grads[name], num) < 1e-6, name


def test_network_with_dropout_gradients_match_numerical():
    net = bn.ClassificationNet(
        input_size=5,
        hidden_size=[6, 4],
        num_layer=3,
        std=0.5,
        num_classes=3,
        dtype=np.float64,
        seed=0,
        dropout=0.3,
    )
    X = np.random.default_rng(0).standard_normal((4, 5))
    y = np.array([0, 1, 2, 1])

    def loss_with_fixed_masks(_):
        # Re-seed so every evaluation draws the same dropout masks.
        net.dropout.rng = np.random.default_rng(42)
        return net_loss_and_grads(net, X, y)

    _, grads = loss_with_fixed_masks(None)
    grads = {k: v.copy() for k, v in grads.items()}
    assert "dropout1" in net.cache
    for name, param in net.params.items():
        num = eval_numerical_gradient(lambda p: loss_with_fixed_masks(p)[0], param)
        assert rel_error(grads[name], num) < 1e-6, name


def test_untrained_net_loss_is_ln_10():
    net = bn.ClassificationNet(seed=0)
    X = np.random.default_rng(0).uniform(0, 1, (50, 3, 32, 32)).astype(np.float32)
    loss, _ = bn.CrossEntropyFromLogits()(net.forward(X), np.arange(50) % 10)
    assert loss == pytest.approx(np.log(10), abs=5e-3)


def test_param_shapes_dtype_and_layout():
    net = bn.ClassificationNet(num_layer=3, input_size=12, hidden_size=[8, 6], num_classes=4)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (12, 8), "b1": (8,), "W2": (8, 6), "b2": (6,), "W3": (6, 4), "b3": (4,)}
    assert all(v.dtype == np.float32 for v in net.params.values())
    logits = net.forward(np.ones((2, 3, 2, 2)))
    assert logits.shape == (2, 4) and logits.dtype == np.float32


def test_single_layer_is_linear():
    net = bn.ClassificationNet(
        num_layer=1, input_size=3, num_classes=2, std=1.0, dtype=np.float64, seed=0
    )
    X = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(net.forward(X), X @ net.params["W1"] + net.params["b1"])
    assert set(net.params) == {"W1", "b1"}


def test_reg_loss_and_gradient_term():
    net = bn.ClassificationNet(
        input_size=3, hidden_size=2, num_classes=2, reg=0.5, std=1.0, dtype=np.float64, seed=3
    )
    expected = 0.5 * sum(np.sum(net.params[k] ** 2) for k in ("W1", "W2"))
    assert net.reg_loss() == pytest.approx(expected)
    net.forward(np.zeros((1, 3)))
    grads = net.backward(np.zeros((1, 2)))
    # With zero upstream gradient only the L2 term is left.
    np.testing.assert_allclose(grads["W2"], 2 * 0.5 * net.params["W2"])
    np.testing.assert_allclose(grads["b2"], 0)


def test_same_seed_same_weights():
    a, b = bn.ClassificationNet(seed=5), bn.ClassificationNet(seed=5)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(bn.ClassificationNet(seed=6).params["W1"], a.params["W1"])


def test_save_load_round_trip(tmp_path):
    net = bn.ClassificationNet(
        activation="leaky_relu:0.2",
        num_layer=3,
        input_size=10,
        hidden_size=[7, 5],
        num_classes=3,
        std="he",
        reg=0.1,
        seed=0,
        dropout=0.2,
    )
    path = net.save(tmp_path / "model.npz")
    with np.load(path, allow_pickle=False) as data:
        assert {"W1", "b3"} <= set(data.files)
    loaded = bn.ClassificationNet.load(path)
    X = np.random.default_rng(0).standard_normal((4, 10)).astype(np.float32)
    np.testing.assert_array_equal(net.eval().forward(X), loaded.eval().forward(X))
    assert loaded.activation.slope == 0.2 and loaded.reg == 0.1 and loaded.dropout.p == 0.2
    assert not list(tmp_path.glob("*.tmp"))


def test_predict_and_dataset_prediction():
    net = bn.ClassificationNet(num_layer=1, input_size=2, num_classes=2, std=1.0, seed=0)
    net.params["W1"][:] = [[1, 0], [0, 1]]
    X = np.array([[2.0, 0.0], [0.0, 2.0], [3.0, 1.0]], np.float32)
    np.testing.assert_array_equal(net.predict(X), [0, 1, 0])
    loader = [{"image": X[:2], "label": np.array([0, 1])}, {"image": X[2:], "label": np.array([1])}]
    labels, preds, acc = net.get_dataset_prediction(loader)
    np.testing.assert_array_equal(labels, [0, 1, 1])
    assert acc == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_layer": 0}, "num_layer must be >= 1"),
        ({"reg": -1}, "reg must be >= 0"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"std": "kaiming"}, "std must be"),
        ({"num_layer": 3, "hidden_size": [4]}, "hidden_size must be"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bn.ClassificationNet(input_size=4, **kwargs)


def test_wrong_input_size_names_expected_shape():
    with pytest.raises(ValueError, match="with 3072 values per sample"):
        bn.ClassificationNet().forward(np.zeros((2, 28, 28)))


def test_load_rejects_a_file_that_is_not_a_saved_net(tmp_path):
    np.savez(tmp_path / "other.npz", W1=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="is not a ClassificationNet saved by barenet"):
        bn.ClassificationNet.load(tmp_path / "other.npz")


def test_views_average_softmax_probabilities_without_log_of_zero():
    import warnings

    from barenet.prediction import log_mean_softmax

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 5, 4))
    expected = np.log(
        (np.exp(a) / np.exp(a).sum(1, keepdims=True) + np.exp(b) / np.exp(b).sum(1, keepdims=True))
        / 2
    )
    np.testing.assert_allclose(log_mean_softmax([a, b]), expected, rtol=1e-12)
    extreme = np.array([[0.0, -2000.0]])  # class 1's probability underflows to 0 in both views
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = log_mean_softmax([extreme, extreme])
    assert np.isfinite(scores).all() and scores[0, 1] == pytest.approx(-2000.0)
