"""Layer objects, ``Sequential`` and ``ThreeLayerConvNet``: the Network contract, numerical
gradients of whole models, modes, save/load with running statistics, Solver."""

import math

import numpy as np
import pytest

import barenet as bn
from barenet.gradcheck import eval_numerical_gradient, rel_error
from barenet.layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    ChannelsFirst,
    Conv2d,
    Dropout,
    Flatten,
    GlobalAvgPool2d,
    GroupNorm,
    LayerNorm,
    LeakyRelu,
    Linear,
    MaxPool2d,
    Relu,
    Tanh,
)


def small_model(dtype=np.float64, dropout=0.0):
    rng = np.random.default_rng(0)
    layers = [
        Conv2d(3, 4, 3, stride=1, padding=1, dtype=dtype, seed=rng),
        BatchNorm2d(4, dtype=dtype),
        Relu(),
        MaxPool2d(2),
        Conv2d(4, 6, (3, 2), stride=1, padding=1, dtype=dtype, seed=rng),
        GroupNorm(2, 6, dtype=dtype),
        LeakyRelu(0.1),
        AvgPool2d(2, stride=1),
        Flatten(),
        LayerNorm(6 * 2 * 4, dtype=dtype),
        Linear(6 * 2 * 4, 5, dtype=dtype, seed=rng),
        BatchNorm1d(5, dtype=dtype),
        Tanh(),
    ]
    if dropout:
        layers.append(Dropout(dropout, seed=1))
    layers.append(Linear(5, 3, dtype=dtype, seed=rng))
    return bn.Sequential(*layers, reg=0.01)


def test_flat_keys_are_stable_and_numbered_by_parameter_layer():
    net = small_model()
    assert list(net.params) == [
        "W1", "b1", "gamma2", "beta2", "W3", "b3", "gamma4", "beta4",
        "gamma5", "beta5", "W6", "b6", "gamma7", "beta7", "W8", "b8",
    ]  # fmt: skip
    assert list(net.buffers) == ["running_mean2", "running_var2", "running_mean7", "running_var7"]
    assert list(small_model().params) == list(net.params)


def test_whole_model_gradients_match_numerical_in_float64():
    net = small_model()
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((4, 3, 6, 8)), rng.integers(0, 3, 4)
    loss, grads = net.loss(X, y)
    assert set(grads) == set(net.params)
    for key, w in net.params.items():
        num = eval_numerical_gradient(lambda _: net.loss(X, y)[0], w)
        # A bias just before batch norm has a gradient of exactly 0: compare absolutely.
        assert rel_error(grads[key], num) < 1e-5 or np.abs(grads[key] - num).max() < 1e-9, key


def test_skipping_the_first_input_gradient_changes_no_parameter_gradient():
    net = small_model()
    net.reg = 0.0
    X = np.random.default_rng(2).standard_normal((2, 3, 6, 8))
    dout = np.random.default_rng(3).standard_normal((2, 3))
    net.forward(X)
    grads = {k: v.copy() for k, v in net.backward(dout).items()}
    conv = net.layers[0]
    dw_full, db_full = bn.layers.conv.conv_backward(
        net.layers[1].backward(net_down_to(net, 1, dout), net.cache["layer2"]), net.cache["layer1"]
    )[1:]
    np.testing.assert_allclose(grads["W1"], dw_full)
    np.testing.assert_allclose(grads["b1"], db_full)
    assert conv.grads["W"] is not None


def net_down_to(net, stop, dout):
    """``dout`` propagated by full backward passes down to the input of layer ``stop``."""
    for i in range(len(net.layers) - 1, stop, -1):
        dout = net.layers[i].backward(dout, net.cache[f"layer{i + 1}"])
    return dout


def test_train_and_eval_switch_batch_norm_and_dropout():
    net = small_model(dropout=0.5)
    X = np.random.default_rng(4).standard_normal((6, 3, 6, 8))
    before = net.buffers["running_mean2"].copy()
    train_a, train_b = net.forward(X), net.forward(X)
    assert not np.allclose(train_a, train_b)  # fresh dropout masks
    assert not np.allclose(net.buffers["running_mean2"], before)  # statistics updated
    net.eval()
    frozen = {k: v.copy() for k, v in net.buffers.items()}
    eval_a, eval_b = net.forward(X), net.forward(X)
    np.testing.assert_array_equal(eval_a, eval_b)
    for k, v in net.buffers.items():
        np.testing.assert_array_equal(v, frozen[k])
    # In eval mode one sample's scores do not depend on the rest of the batch.
    np.testing.assert_allclose(net.forward(X[:1]), eval_a[:1])
    assert all(
        getattr(layer, "training", False) is False
        for layer in net.layers
        if hasattr(layer, "training")
    )
    net.train()
    assert net.layers[1].bn_param["mode"] == "test"  # set at the next forward pass
    net.forward(X)
    assert net.layers[1].bn_param["mode"] == "train"


def test_save_load_round_trip_keeps_weights_and_running_statistics(tmp_path):
    net = small_model(dtype=np.float32, dropout=0.3)
    X = np.random.default_rng(5).standard_normal((8, 3, 6, 8)).astype(np.float32)
    for _ in range(3):
        net.forward(X)
    net.params["W1"] += 0.5  # as an optimizer would, in place
    net.eval()
    expected = net.forward(X)
    path = net.save(tmp_path / "model.npz")
    with np.load(path, allow_pickle=False) as data:
        assert {"W1", "running_var7", "__config__"} <= set(data)
    loaded = bn.Sequential.load(path).eval()
    np.testing.assert_array_equal(loaded.forward(X), expected)
    for key in net.buffers:
        np.testing.assert_array_equal(loaded.buffers[key], net.buffers[key])
    assert loaded.params["W1"].dtype == np.float32
    assert repr(loaded) == repr(net)


def test_three_layer_convnet_round_trip_and_wrong_class(tmp_path):
    net = bn.ThreeLayerConvNet(
        input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=7, seed=0
    )
    path = net.save(tmp_path / "convnet.npz")
    loaded = bn.ThreeLayerConvNet.load(path)
    X = np.random.default_rng(6).standard_normal((2, 3, 8, 8))
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    with pytest.raises(ValueError, match="is not a Sequential"):
        bn.Sequential.load(path)


def test_load_refuses_unknown_layers_and_missing_arrays(tmp_path):
    import json

    bad = tmp_path / "bad.npz"
    spec = {"layers": [{"type": "os.system", "args": {}}], "reg": 0.0}
    np.savez(bad, __config__=np.array(json.dumps(spec)), __class__=np.array("Sequential"))
    with pytest.raises(ValueError, match="unknown layer type 'os.system'"):
        bn.Sequential.load(bad)
    spec = {
        "layers": [{"type": "Linear", "args": {"in_features": 2, "out_features": 3}}],
        "reg": 0.0,
    }
    np.savez(
        bad,
        __config__=np.array(json.dumps(spec)),
        __class__=np.array("Sequential"),
        W1=np.zeros((2, 3)),
    )
    with pytest.raises(ValueError, match="'b1' is missing"):
        bn.Sequential.load(bad)
    spec["layers"][0]["args"]["colour"] = "red"
    np.savez(bad, __config__=np.array(json.dumps(spec)), __class__=np.array("Sequential"))
    with pytest.raises(ValueError, match="bad arguments for Linear"):
        bn.Sequential.load(bad)


def test_three_layer_convnet_untrained_loss_is_ln10_and_shapes_are_cs231ns():
    net = bn.ThreeLayerConvNet(seed=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {
        "W1": (32, 3, 7, 7), "b1": (32,), "W2": (32 * 16 * 16, 100), "b2": (100,),
        "W3": (100, 10), "b3": (10,),
    }  # fmt: skip
    X = np.random.default_rng(7).standard_normal((20, 3, 32, 32)).astype(np.float32)
    loss, grads = net.loss(X, np.arange(20) % 10)
    assert loss == pytest.approx(math.log(10), abs=1e-3)
    assert all(grads[k].dtype == np.float32 for k in grads)
    assert net.loss(X).shape == (20, 10)


def test_three_layer_convnet_gradients_match_numerical():
    net = bn.ThreeLayerConvNet(
        input_dim=(2, 6, 6), num_filters=3, filter_size=3, hidden_dim=5, num_classes=4,
        weight_scale=0.5, reg=0.05, dtype=np.float64, seed=1,
    )  # fmt: skip
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((3, 2, 6, 6)), rng.integers(0, 4, 3)
    _, grads = net.loss(X, y)
    for key, w in net.params.items():
        num = eval_numerical_gradient(lambda _: net.loss(X, y)[0], w)
        assert rel_error(grads[key], num) < 1e-6, key


def test_channels_last_input_gives_the_same_scores():
    a = bn.ThreeLayerConvNet(
        input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=6, seed=2
    )
    b = bn.ThreeLayerConvNet(
        input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=6, seed=2, channels_last=True
    )
    X = np.random.default_rng(9).standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(b.forward(X.transpose(0, 2, 3, 1)), a.forward(X), rtol=1e-6)
    assert isinstance(b.layers[0], ChannelsFirst)


def test_solver_optimizers_and_memory_account_work_with_a_convnet():
    rng = np.random.default_rng(10)
    images = rng.standard_normal((64, 8, 8, 3)).astype(np.float32)
    labels = (images[:, :4].mean(axis=(1, 2, 3)) > 0).astype(np.int64)  # learnable
    data = bn.ArrayDataset(images, labels)
    net = bn.Sequential(
        ChannelsFirst(), Conv2d(3, 4, 3, padding=1, seed=0), BatchNorm2d(4), Relu(),
        MaxPool2d(2), GlobalAvgPool2d(), Linear(4, 2, seed=1),
    )  # fmt: skip
    for optimizer in (bn.Adam, bn.SGDMomentum, bn.SGD):
        solver = bn.Solver(
            net, bn.DataLoader(data, batch_size=16, shuffle=True, seed=0),
            bn.DataLoader(data, batch_size=64), learning_rate=1e-2, optimizer=optimizer, verbose=False,
        )  # fmt: skip
        solver.train(epochs=3)
        assert len(solver.train_loss_history) == 3
    assert solver.train_loss_history[-1] < 0.69
    # The best epoch's running statistics came back with its weights.
    for key, value in solver.best_buffers.items():
        np.testing.assert_array_equal(net.buffers[key], value)
    net.forward(images[:16])
    net.backward(np.ones((16, 2), np.float32) / 16)
    size = bn.compute_network_size(net)
    assert 16 * 8 * 8 * 3 * 4 < size < 10 * 2**20


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: Conv2d(3, 4, 0), "kernel_size must be an integer >= 1"),
        (lambda: Conv2d(3, 4, 3, stride=0), "stride must be an integer >= 1"),
        (lambda: GroupNorm(4, 6), "num_groups must be a positive divisor of num_channels 6"),
        (lambda: BatchNorm2d(4, momentum=2.0), "momentum must be in"),
        (lambda: Linear(3, 4, std="huge"), "std must be"),
        (lambda: bn.Sequential(Linear(2, 2), reg=-1), "reg must be >= 0"),
        (lambda: bn.ThreeLayerConvNet(input_dim=(3, 7, 7)), "H and W must be even"),
    ],
)
def test_layer_objects_refuse_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_batchnorm_object_momentum_is_pytorchs():
    layer = BatchNorm1d(3, momentum=0.25)
    assert layer.bn_param["momentum"] == 0.75
    x = np.random.default_rng(11).standard_normal((10, 3)).astype(np.float32)
    layer.forward(x)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.25 * x.mean(axis=0), rtol=1e-5)


def test_conv2d_reuses_its_buffers_only_when_nothing_holds_them():
    layer = Conv2d(3, 4, 3, padding=1, dtype=np.float64, seed=0)
    rng = np.random.default_rng(12)
    x1, x2 = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 5, 5))
    dout = rng.standard_normal((2, 4, 5, 5))
    out1, cache1 = layer.forward(x1)
    kept_out, kept_cols = out1.copy(), cache1[0].copy()
    dx1 = layer.backward(dout, cache1)
    kept_dx = dx1.copy()
    out2, cache2 = layer.forward(x2)  # out1, cache1 and dx1 are still held: fresh arrays
    layer.backward(dout, cache2)
    np.testing.assert_array_equal(out1, kept_out)
    np.testing.assert_array_equal(cache1[0], kept_cols)
    np.testing.assert_array_equal(dx1, kept_dx)
    np.testing.assert_array_equal(layer.backward(dout, cache1), kept_dx)
    address = out2.ctypes.data
    del out1, cache1, dx1, out2, cache2
    out3, _ = layer.forward(x1)  # nothing holds the last step's arrays: reused
    np.testing.assert_array_equal(out3, kept_out)
    assert out3.ctypes.data == address


def test_frozen_first_layer_gets_no_gradient_and_no_input_gradient_is_computed_below():
    net = small_model()
    rng = np.random.default_rng(5)
    X, dout = rng.standard_normal((2, 3, 6, 8)), rng.standard_normal((2, 3))
    net.forward(X)
    full = {k: v.copy() for k, v in net.backward(dout).items()}
    calls = []
    conv2 = net.layers[4]
    conv2.backward = lambda *a: calls.append("dx") or Conv2d.backward(conv2, *a)
    net.frozen = {"W1", "b1", "gamma2", "beta2"}  # the first conv and its batch norm
    assert net.first_param_layer == 4
    net.forward(X)
    grads = net.backward(dout)
    assert set(grads) == set(full) - net.frozen
    assert calls == []  # the lowest trained layer computes only its parameters' gradients
    for key, grad in grads.items():
        np.testing.assert_allclose(grad, full[key], rtol=1e-12, err_msg=key)
    net.frozen = {"b1"}  # one of a layer's two: the layer still trains, the key is left out
    net.forward(X)
    assert set(net.backward(dout)) == set(full) - {"b1"}


def test_optimizers_leave_frozen_parameters_alone():
    net = small_model()
    X, y = np.random.default_rng(6).standard_normal((4, 3, 6, 8)), np.array([0, 1, 2, 0])
    net.frozen = {"W1"}
    before = {k: v.copy() for k, v in net.params.items()}
    for optimizer in (bn.SGD, bn.SGDMomentum, bn.Adam):
        opt = optimizer(net, None, learning_rate=1e-2)
        net.loss(X, y)
        opt.step()
    np.testing.assert_array_equal(net.params["W1"], before["W1"])
    assert not np.array_equal(net.params["W3"], before["W3"])


def test_solver_trains_a_parameter_for_its_first_epochs_only():
    rng = np.random.default_rng(11)
    images = rng.standard_normal((32, 8, 8, 3)).astype(np.float32)
    labels = (images[:, :4].mean(axis=(1, 2, 3)) > 0).astype(np.int64)
    data = bn.ArrayDataset(images, labels)
    net = bn.Sequential(
        ChannelsFirst(), Conv2d(3, 4, 3, padding=1, seed=0), Relu(), GlobalAvgPool2d(),
        Linear(4, 2, seed=1),
    )  # fmt: skip
    seen = []
    solver = bn.Solver(
        net, bn.DataLoader(data, batch_size=16), bn.DataLoader(data, batch_size=32),
        learning_rate=0.1, optimizer=bn.SGD, verbose=False, train_epochs={"b1": 2},
        on_epoch_end=lambda s: seen.append(s.model.params["b1"].copy()),
    )  # fmt: skip
    solver.train(epochs=4)
    assert not np.array_equal(seen[0], seen[1])  # trained in epochs 1 and 2
    np.testing.assert_array_equal(seen[1], seen[2])  # frozen from epoch 3 on
    np.testing.assert_array_equal(seen[2], seen[3])
    assert net.frozen == {"b1"}


@pytest.mark.parametrize(
    "model,train_epochs,match",
    [
        ("sequential", {"W9": 1}, r"unknown parameter keys \['W9'\]"),
        ("sequential", {"b1": 1.5}, r"train_epochs\['b1'\] must be an int >= 0"),
        ("sequential", {"b1": -1}, r"train_epochs\['b1'\] must be an int >= 0"),
        ("classification", {"b1": 1}, "needs a model with a `frozen` set"),
    ],
)
def test_solver_refuses_bad_train_epochs(model, train_epochs, match):
    net = (
        bn.Sequential(Linear(4, 2, seed=0))
        if model == "sequential"
        else bn.ClassificationNet(input_size=4, hidden_size=3, num_classes=2)
    )
    data = bn.DataLoader(bn.ArrayDataset(np.zeros((2, 4), np.float32), np.zeros(2, int)), 2)
    with pytest.raises(ValueError, match=match):
        bn.Solver(net, data, data, verbose=False, train_epochs=train_epochs)
