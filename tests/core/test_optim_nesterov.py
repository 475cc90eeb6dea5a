"""Nesterov momentum: hand-computed steps, PyTorch's SGD(nesterov=True) as the oracle."""

import numpy as np
import pytest

import barenet as bn


def test_two_steps_by_hand():
    # v1 = -0.1 * 2 = -0.2; w1 = 1 + 0.5 * -0.2 - 0.2 = 0.7
    # v2 = 0.5 * -0.2 - 0.1 * 1 = -0.2; w2 = 0.7 + 0.5 * -0.2 - 0.1 = 0.5
    config = {"momentum": 0.5}
    w, config = bn.sgd_nesterov(np.array([1.0]), np.array([2.0]), config, 0.1)
    np.testing.assert_allclose((w, config["velocity"]), ([0.7], [-0.2]))
    w, config = bn.sgd_nesterov(w, np.array([1.0]), config, 0.1)
    np.testing.assert_allclose((w, config["velocity"]), ([0.5], [-0.2]))


def test_it_differs_from_plain_momentum_and_defaults_to_0_9():
    w, dw = np.ones(3), np.full(3, 2.0)
    nesterov, config = bn.sgd_nesterov(w, dw, None, 0.1)
    plain, _ = bn.sgd_momentum(w, dw, None, 0.1)
    assert config["momentum"] == 0.9
    np.testing.assert_allclose(nesterov, 1 - 0.1 * 2 * 1.9)
    assert not np.allclose(nesterov, plain)
    np.testing.assert_array_equal(w, 1.0)  # not modified without out=


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_steps_match_torch_sgd_nesterov(momentum):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    w = rng.standard_normal((5, 4))
    param = torch.nn.Parameter(torch.from_numpy(w.copy()))
    opt = torch.optim.SGD([param], lr=0.05, momentum=momentum, nesterov=momentum > 0)
    config = {"momentum": momentum}
    for _ in range(6):
        dw = rng.standard_normal((5, 4))
        w, config = bn.sgd_nesterov(w, dw, config, 0.05)
        param.grad = torch.from_numpy(dw.copy())
        opt.step()
        np.testing.assert_allclose(w, param.detach().numpy(), rtol=1e-12, atol=1e-15)


def test_the_optimizer_trains_like_torch_on_a_net():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    net = bn.ClassificationNet(
        input_size=6, hidden_size=5, num_classes=3, std=0.5, dtype=np.float64, seed=0
    )
    X, y = rng.standard_normal((16, 6)), rng.integers(0, 3, 16)
    params = {k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in net.params.items()}
    torch_opt = torch.optim.SGD(params.values(), lr=0.1, momentum=0.9, nesterov=True)
    opt = bn.SGDNesterov(net, bn.CrossEntropyFromLogits(), learning_rate=0.1)
    for _ in range(4):
        net.backward(bn.CrossEntropyFromLogits()(net.forward(X), y)[1])
        for name, param in params.items():
            param.grad = torch.from_numpy(net.grads[name].copy())
        opt.step()
        torch_opt.step()
        for name, param in params.items():
            np.testing.assert_allclose(net.params[name], param.detach().numpy(), rtol=1e-12)


def test_momentum_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"SGDNesterov: momentum must be \[0.0, 1.0\)"):
        bn.SGDNesterov(None, None, 0.1, momentum=1.0)
