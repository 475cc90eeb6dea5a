"""WeightAverage and the Solver's evaluation on averaged weights; PyTorch as the oracle."""

import numpy as np
import pytest
from test_solver import make_solver

import barenet as bn


def test_first_update_copies_then_each_moves_by_one_minus_decay():
    average = bn.WeightAverage(decay=0.75)
    w = {"W": np.array([4.0, 8.0])}
    average.update(w)
    w["W"][...] = 0.0  # a copy: later changes to the weights leave it alone
    np.testing.assert_array_equal(average.average["W"], [4.0, 8.0])
    average.update({"W": np.array([0.0, 0.0])})
    np.testing.assert_allclose(average.average["W"], [3.0, 6.0])


def test_matches_torch_averaged_model_with_ema():
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    rng = np.random.default_rng(0)
    linear = torch.nn.Linear(4, 3, dtype=torch.float64)
    theirs = AveragedModel(linear, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    ours = bn.WeightAverage(0.9)
    for _ in range(6):
        params = {"W": rng.standard_normal((3, 4)), "b": rng.standard_normal(3)}
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(params["W"]))
            linear.bias.copy_(torch.from_numpy(params["b"]))
        theirs.update_parameters(linear)
        ours.update(params)
    np.testing.assert_allclose(ours.average["W"], theirs.module.weight.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.average["b"], theirs.module.bias.detach().numpy(), rtol=1e-12)


def test_dtype_is_kept():
    average = bn.WeightAverage(0.5)
    for value in (1.0, 2.0):
        average.update({"W": np.full(3, value, np.float32)})
    assert average.average["W"].dtype == np.float32


@pytest.mark.parametrize("bad", [1.0, -0.1])
def test_decay_outside_0_1_is_refused(bad):
    with pytest.raises(ValueError, match=r"decay must be in \[0, 1\)"):
        bn.WeightAverage(bad)


def test_solver_validates_and_keeps_the_averaged_weights_and_trains_the_live_ones():
    plain = make_solver(learning_rate=0.05, optimizer=bn.SGDMomentum).train(epochs=3)
    averaged = make_solver(learning_rate=0.05, optimizer=bn.SGDMomentum, weight_average=0.8)
    averaged.train(epochs=3)
    # The updates never see the average: the same training losses, epoch by epoch.
    assert averaged.train_loss_history == plain.train_loss_history
    assert averaged.val_loss_history != plain.val_loss_history
    # The best epoch's weights are averaged ones, and its val loss is theirs.
    val_loss, _ = averaged.evaluate(averaged.val_dataloader)
    assert val_loss == pytest.approx(averaged.best_val_loss, rel=1e-6)
    one_epoch = make_solver(learning_rate=0.05, weight_average=0.8).train(epochs=1)
    for name, w in one_epoch.weight_averager.average.items():
        np.testing.assert_array_equal(one_epoch.model.params[name], w)


def test_off_by_default():
    assert make_solver().weight_averager is None
