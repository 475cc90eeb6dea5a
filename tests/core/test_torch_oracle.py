"""PyTorch as an oracle: the same net, loss and optimizers give the same numbers.

Skipped where torch is not installed (it is not a dependency of barenet).
"""

import numpy as np
import pytest

import barenet as bn

torch = pytest.importorskip("torch")


def torch_mlp(net: bn.ClassificationNet):
    """The same layers as ``net`` in torch, with ``net``'s weights copied in."""
    layers = []
    for i in range(1, net.num_layer + 1):
        w = net.params[f"W{i}"]
        linear = torch.nn.Linear(*w.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.copy_(torch.from_numpy(net.params[f"b{i}"]))
        layers.append(linear)
        if i < net.num_layer:
            layers.append(
                {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh}[
                    type(net.activation).__name__.lower()
                ]()
            )
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_loss_and_gradients_match_torch(activation):
    rng = np.random.default_rng(0)
    net = bn.ClassificationNet(
        activation=activation,
        num_layer=3,
        input_size=12,
        hidden_size=[9, 7],
        num_classes=5,
        std=0.5,
        dtype=np.float64,
        seed=0,
    )
    X, y = rng.standard_normal((8, 3, 4)), rng.integers(0, 5, 8)
    loss, dlogits = bn.CrossEntropyFromLogits()(net.forward(X), y)
    grads = net.backward(dlogits)

    model = torch_mlp(net)
    t_loss = torch.nn.functional.cross_entropy(
        model(torch.from_numpy(X.reshape(8, -1))), torch.from_numpy(y)
    )
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    for i, linear in enumerate(model[::2], start=1):
        np.testing.assert_allclose(
            grads[f"W{i}"], linear.weight.grad.numpy().T, rtol=1e-10, atol=1e-14
        )
        np.testing.assert_allclose(grads[f"b{i}"], linear.bias.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("ours,theirs", [(bn.adam, torch.optim.Adam), (bn.sgd, torch.optim.SGD)])
def test_update_rules_match_torch(ours, theirs):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3))
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = theirs([param], lr=1e-2)
    config = None
    for _ in range(5):
        dw = rng.standard_normal((4, 3))
        w, config = ours(w, dw, config, 1e-2)
        param.grad = torch.from_numpy(dw.copy())
        opt.step()
    np.testing.assert_allclose(w, param.detach().numpy(), rtol=1e-10)


def test_momentum_matches_torch_after_rescaling():
    """torch's SGD momentum keeps b = mu*b + dw and steps w -= lr*b; barenet keeps the
    velocity v = mu*v - lr*dw and steps w += v. With a constant lr, v == -lr*b exactly."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal(6)
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    config = None
    for _ in range(5):
        dw = rng.standard_normal(6)
        w, config = bn.sgd_momentum(w, dw, config, 0.1)
        param.grad = torch.from_numpy(dw.copy())
        opt.step()
    np.testing.assert_allclose(w, param.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(
        config["velocity"], -0.1 * opt.state[param]["momentum_buffer"].numpy(), rtol=1e-10
    )
