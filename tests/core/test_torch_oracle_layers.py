"""PyTorch (float64) as the oracle for convolution, pooling, normalisation and dropout:
forward values, every gradient, running statistics, train and eval modes.

Skipped where torch is not installed (it is not a dependency of barenet).
"""

import numpy as np
import pytest

import barenet.layers as L

torch = pytest.importorskip("torch")
F = torch.nn.functional


def t(a, grad=True):
    return torch.tensor(np.ascontiguousarray(a), dtype=torch.float64, requires_grad=grad)


def assert_close(ours, theirs, rtol=1e-10, atol=1e-12):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@pytest.mark.parametrize(
    "x_shape,w_shape,stride,pad",
    [
        ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),
        ((1, 2, 9, 7), (3, 2, 3, 3), 2, 1),
        ((3, 4, 6, 6), (2, 4, 1, 1), 1, 0),
        ((2, 2, 7, 7), (5, 2, 5, 3), 1, 2),
        ((1, 1, 10, 10), (1, 1, 4, 4), 3, 0),
    ],
)
def test_conv_matches_torch(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(0)
    x, w, b = (
        rng.standard_normal(x_shape),
        rng.standard_normal(w_shape),
        rng.standard_normal(w_shape[0]),
    )
    out, cache = L.conv_forward(x, w, b, {"stride": stride, "pad": pad})
    xt, wt, bt = t(x), t(w), t(b)
    ot = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
    assert_close(out, ot)
    dout = rng.standard_normal(out.shape)
    ot.backward(torch.from_numpy(dout))
    dx, dw, db = L.conv_backward(dout, cache)
    assert_close(dx, xt.grad)
    assert_close(dw, wt.grad)
    assert_close(db, bt.grad)


@pytest.mark.parametrize(
    "x_shape,k,stride", [((2, 3, 8, 8), 2, 2), ((1, 2, 7, 9), 3, 2), ((2, 2, 5, 5), 2, 1)]
)
def test_pooling_matches_torch(x_shape, k, stride):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    param = {"pool_height": k, "pool_width": k, "stride": stride}
    for ours_f, ours_b, theirs in [
        (L.max_pool_forward, L.max_pool_backward, F.max_pool2d),
        (L.avg_pool_forward, L.avg_pool_backward, F.avg_pool2d),
    ]:
        out, cache = ours_f(x, param)
        xt = t(x)
        ot = theirs(xt, k, stride)
        assert_close(out, ot)
        dout = rng.standard_normal(out.shape)
        ot.backward(torch.from_numpy(dout))
        assert_close(ours_b(dout, cache), xt.grad)
    out, cache = L.global_avg_pool_forward(x)
    xt = t(x)
    ot = F.adaptive_avg_pool2d(xt, 1).flatten(1)
    assert_close(out, ot)
    dout = rng.standard_normal(out.shape)
    ot.backward(torch.from_numpy(dout))
    assert_close(L.global_avg_pool_backward(dout, cache), xt.grad)


@pytest.mark.parametrize("spatial", [False, True])
def test_batchnorm_train_eval_and_running_statistics_match_torch(spatial):
    rng = np.random.default_rng(2)
    shape = (6, 3, 4, 5) if spatial else (16, 5)
    c = shape[1]
    gamma, beta = rng.standard_normal(c), rng.standard_normal(c)
    module = (torch.nn.BatchNorm2d if spatial else torch.nn.BatchNorm1d)(
        c, momentum=0.1, dtype=torch.float64
    )
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma))
        module.bias.copy_(torch.from_numpy(beta))
        module.running_var.fill_(0.0)  # CS231n's start: zeros
    forward = L.spatial_batchnorm_forward if spatial else L.batchnorm_forward
    backward = L.spatial_batchnorm_backward if spatial else L.batchnorm_backward
    bn_param = {"mode": "train", "momentum": 0.9}  # CS231n's 0.9 == PyTorch's 0.1
    count = int(np.prod(shape)) // c
    for step in range(3):
        x = 2 * rng.standard_normal(shape) + step
        out, cache = forward(x, gamma, beta, bn_param)
        xt = t(x)
        module.zero_grad()
        ot = module.train()(xt)
        assert_close(out, ot)
        dout = rng.standard_normal(shape)
        ot.backward(torch.from_numpy(dout))
        dx, dgamma, dbeta = backward(dout, cache)
        assert_close(dx, xt.grad, rtol=1e-9)
        assert_close(dgamma, module.weight.grad)
        assert_close(dbeta, module.bias.grad)
        assert_close(bn_param["running_mean"], module.running_mean)
        # PyTorch keeps the unbiased variance; CS231n (and barenet) the biased one.
        assert_close(bn_param["running_var"], module.running_var * (count - 1) / count)
    # Test mode with the same running statistics is torch's eval mode.
    with torch.no_grad():
        module.running_var.copy_(torch.from_numpy(bn_param["running_var"]))
    x = rng.standard_normal(shape)
    test_param = dict(bn_param, mode="test")
    out, cache = forward(x, gamma, beta, test_param)
    xt = t(x)
    ot = module.eval()(xt)
    assert_close(out, ot)
    dout = rng.standard_normal(shape)
    ot.backward(torch.from_numpy(dout))
    assert_close(backward(dout, cache)[0], xt.grad)


def test_layernorm_matches_torch():
    rng = np.random.default_rng(3)
    x, gamma, beta = (
        rng.standard_normal((7, 10)) * 3,
        rng.standard_normal(10),
        rng.standard_normal(10),
    )
    out, cache = L.layernorm_forward(x, gamma, beta, {"eps": 1e-5})
    xt, gt, bt = t(x), t(gamma), t(beta)
    ot = F.layer_norm(xt, (10,), gt, bt, eps=1e-5)
    assert_close(out, ot)
    dout = rng.standard_normal(x.shape)
    ot.backward(torch.from_numpy(dout))
    dx, dgamma, dbeta = L.layernorm_backward(dout, cache)
    assert_close(dx, xt.grad, rtol=1e-9)
    assert_close(dgamma, gt.grad)
    assert_close(dbeta, bt.grad)


@pytest.mark.parametrize("groups", [1, 2, 6])
def test_groupnorm_matches_torch(groups):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 4, 5)) * 2 + 1
    gamma, beta = rng.standard_normal((1, 6, 1, 1)), rng.standard_normal((1, 6, 1, 1))
    out, cache = L.spatial_groupnorm_forward(x, gamma, beta, groups, {"eps": 1e-5})
    xt, gt, bt = t(x), t(gamma.ravel()), t(beta.ravel())
    ot = F.group_norm(xt, groups, gt, bt, eps=1e-5)
    assert_close(out, ot)
    dout = rng.standard_normal(x.shape)
    ot.backward(torch.from_numpy(dout))
    dx, dgamma, dbeta = L.spatial_groupnorm_backward(dout, cache)
    assert_close(dx, xt.grad, rtol=1e-9)
    assert_close(dgamma.ravel(), gt.grad)
    assert_close(dbeta.ravel(), bt.grad)


def test_dropout_scaling_and_eval_mode_match_torch():
    """torch's masks come from its own generator, so compare what a mask implies: the
    survivors scaled by 1 / (1 - p_drop), the rest 0, the gradient the same, eval the identity."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((50, 40)) + 3
    xt = t(x)
    ot = F.dropout(xt, p=0.3, training=True)
    mask = (ot != 0).numpy()
    assert_close(ot.detach().numpy()[mask], x[mask] / 0.7)
    ours, cache = L.dropout_forward(x, {"drop_prob": 0.3, "seed": 0})
    assert_close(ours[ours != 0], x[ours != 0] / 0.7)
    layer = L.Dropout(p=0.3, seed=0)  # the object's p is torch's: the drop probability
    out, keep = layer.forward(x)
    assert_close(out[keep], x[keep] / 0.7)
    dout = rng.standard_normal(x.shape)
    ot.backward(torch.from_numpy(dout))
    assert_close(xt.grad.numpy(), dout * mask / 0.7)
    assert_close(L.dropout_backward(dout, cache), dout * (ours != 0) / 0.7)
    assert_close(
        L.dropout_forward(x, {"drop_prob": 0.3, "mode": "test"})[0],
        F.dropout(t(x), 0.3, training=False),
    )


def test_sequential_convnet_matches_torch_in_train_and_eval():
    import barenet as bn
    from barenet.layers import BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, Relu

    rng = np.random.default_rng(6)
    net = bn.Sequential(
        Conv2d(3, 4, 3, padding=1, dtype=np.float64, seed=0),
        BatchNorm2d(4, momentum=0.1, dtype=np.float64),
        Relu(),
        MaxPool2d(2),
        Flatten(),
        Linear(4 * 3 * 4, 5, dtype=np.float64, seed=1),
    )
    net.params["gamma2"][:] = rng.standard_normal(4)
    net.params["beta2"][:] = rng.standard_normal(4)
    conv, norm, linear = (
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.Linear(48, 5),
    )
    model = torch.nn.Sequential(
        conv, norm, torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), linear
    )
    model = model.double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(net.params["W1"]))
        conv.bias.copy_(torch.from_numpy(net.params["b1"]))
        norm.weight.copy_(torch.from_numpy(net.params["gamma2"]))
        norm.bias.copy_(torch.from_numpy(net.params["beta2"]))
        linear.weight.copy_(torch.from_numpy(net.params["W3"].T.copy()))
        linear.bias.copy_(torch.from_numpy(net.params["b3"]))
    X, y = rng.standard_normal((5, 3, 6, 8)), rng.integers(0, 5, 5)
    loss, grads = net.loss(X, y)
    t_loss = F.cross_entropy(model.train()(torch.from_numpy(X)), torch.from_numpy(y))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    for key, param in [
        ("W1", conv.weight),
        ("b1", conv.bias),
        ("gamma2", norm.weight),
        ("beta2", norm.bias),
    ]:
        assert_close(grads[key], param.grad, rtol=1e-9, atol=1e-12)
    assert_close(grads["W3"], linear.weight.grad.numpy().T, rtol=1e-9)
    assert_close(net.buffers["running_mean2"], norm.running_mean)
    count = 5 * 6 * 8  # torch's running variance is unbiased, barenet's (CS231n's) biased
    assert_close(net.buffers["running_var2"] - 0.9, (norm.running_var - 0.9) * (count - 1) / count)
    with torch.no_grad():
        norm.running_var.copy_(torch.from_numpy(net.buffers["running_var2"]))
    net.eval()
    assert_close(net.forward(X), model.eval()(torch.from_numpy(X)), rtol=1e-10)
