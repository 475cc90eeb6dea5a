"""Solver: it learns, keeps histories and a copy of the best weights, stops cleanly."""

import numpy as np
import pytest

import barenet as bn


def blobs(n=200, seed=0):
    """Three well-separated Gaussian blobs in 4-D."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0]], np.float32)
    X = centres[y] + rng.standard_normal((n, 4)).astype(np.float32) * 0.5
    return X, y


def batches(X, y, batch_size=32):
    return bn.DataLoader(bn.ArrayDataset(X, y), batch_size=batch_size)


def make_solver(seed=0, **kwargs):
    X, y = blobs(seed=seed)
    net = bn.ClassificationNet(input_size=4, hidden_size=16, num_classes=3, std=0.1, seed=seed)
    kwargs.setdefault("verbose", False)
    return bn.Solver(net, batches(X[:150], y[:150]), batches(X[150:], y[150:]), **kwargs)


def test_training_drives_loss_down_and_keeps_histories(capsys):
    solver = make_solver(learning_rate=1e-2, verbose=True)
    solver.train(epochs=15)
    assert len(solver.train_loss_history) == len(solver.val_acc_history) == 15
    assert solver.train_loss_history[0] < np.log(3) + 0.05  # the first epoch already trains
    assert solver.train_loss_history[-1] < 0.1
    assert solver.val_acc_history[-1] > 0.95
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("(Epoch 1 / 15) train loss: ")
    assert "; val loss: " in lines[0]
    assert len(lines) == 15


def test_print_every_and_lr_decay(capsys):
    solver = make_solver(learning_rate=1e-2, verbose=True, print_every=5, lr_decay=0.5)
    solver.train(epochs=10)
    assert [line.split(")")[0] for line in capsys.readouterr().out.splitlines()] == [
        "(Epoch 5 / 10",
        "(Epoch 10 / 10",
    ]
    assert solver.opt.lr == pytest.approx(1e-2 * 0.5**10)


def test_best_params_are_a_copy_and_restored():
    solver = make_solver(learning_rate=1e-2)
    solver.train(epochs=5)
    best_epoch = int(np.argmin(solver.val_loss_history)) + 1
    assert solver.best_epoch == best_epoch
    for k, v in solver.model.params.items():
        np.testing.assert_array_equal(v, solver.best_params[k])
        assert v is not solver.best_params[k] and not np.shares_memory(v, solver.best_params[k])


def test_same_seed_same_training_curve():
    a, b = make_solver(seed=3, learning_rate=1e-2), make_solver(seed=3, learning_rate=1e-2)
    a.train(epochs=3)
    b.train(epochs=3)
    assert a.train_loss_history == b.train_loss_history


def test_patience_stops_early(capsys):
    solver = make_solver(learning_rate=0.0, verbose=True)  # nothing improves after epoch 1
    solver.train(epochs=20, patience=3)
    assert len(solver.val_loss_history) == 4
    assert "Stopping early at epoch 4" in capsys.readouterr().out


def test_nan_loss_raises_clear_error_and_keeps_history():
    solver = make_solver(learning_rate=1e-2)
    solver.train(epochs=2)
    solver.train_dataloader.dataset.images[32:64] = np.nan  # the second batch
    with pytest.raises(bn.TrainingDivergedError, match=r"epoch 3, batch 2.*smaller learning rate"):
        solver.train(epochs=2)
    assert len(solver.train_loss_history) == 2
    assert all(np.isfinite(v).all() for v in solver.model.params.values())


def test_keyboard_interrupt_ends_cleanly():
    solver = make_solver(learning_rate=1e-2)

    def interrupt(s):
        if s.epoch == 3:
            raise KeyboardInterrupt

    solver.on_epoch_end = interrupt
    solver.train(epochs=10)
    assert len(solver.train_loss_history) == 3
    assert "Interrupted" in solver.stop_reason
    for k, v in solver.model.params.items():
        np.testing.assert_array_equal(v, solver.best_params[k])


def test_optim_config_reaches_the_optimizer():
    solver = make_solver(
        optimizer=bn.SGDMomentum, optim_config={"momentum": 0.5}, learning_rate=0.1
    )
    solver.train(epochs=1)
    assert solver.opt.state["W1"]["momentum"] == 0.5


def test_bad_solver_arguments():
    with pytest.raises(ValueError, match="learning_rate"):
        make_solver(learning_rate=-1)
    with pytest.raises(ValueError, match="patience"):
        make_solver().train(epochs=1, patience=0)


def test_any_iterable_of_batch_dicts_works():
    X, y = blobs()
    as_list = [{"image": X[i : i + 50], "label": y[i : i + 50]} for i in range(0, 150, 50)]
    net = bn.ClassificationNet(input_size=4, hidden_size=8, num_classes=3, std=0.1, seed=0)
    solver = bn.Solver(net, as_list, as_list[:1], learning_rate=1e-2, verbose=False)
    solver.train(epochs=3)
    assert len(solver.train_loss_history) == 3
