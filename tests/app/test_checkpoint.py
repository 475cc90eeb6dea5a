"""A checkpoint written after some epochs restores a solver that continues identically."""

import numpy as np
import pytest

from barenet.app.checkpoint import checkpoint_epoch, load_checkpoint, save_checkpoint
from barenet.app.config import RunConfig
from barenet.app.factories import make_model, make_solver
from barenet.app.run_data import build_data


def fresh_solver(config: RunConfig):
    data = build_data(config)
    model = make_model(config, data.input_size, len(data.classes))
    return make_solver(config, model, data, verbose=False)


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_checkpoint_round_trip_continues_like_one_run(tmp_path, optimizer):
    # Dropout, flips and shuffling all draw random numbers: their states must travel too.
    config = RunConfig(
        optimizer=optimizer, hidden_size=[16], dropout=0.2, flip=True, batch_size=64, limit=400
    )
    whole = fresh_solver(config)
    whole.train(epochs=3)

    first = fresh_solver(config)
    first.train(epochs=2)
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(first, path)
    assert checkpoint_epoch(path) == 2

    resumed = fresh_solver(config)
    load_checkpoint(resumed, path)
    assert resumed.epoch == 2 and resumed.best_epoch == first.best_epoch
    assert resumed.train_loss_history == first.train_loss_history
    for key, value in first.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[key], value)
    resumed.train(epochs=1)

    assert resumed.train_loss_history == whole.train_loss_history
    for key, value in whole.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[key], value)


def test_a_checkpoint_loads_without_pickle(tmp_path):
    solver = fresh_solver(RunConfig(hidden_size=[8], limit=100))
    save_checkpoint(solver, tmp_path / "c.npz")  # before any epoch, as a run starts
    with np.load(tmp_path / "c.npz", allow_pickle=False) as data:
        assert "param/W1" in data.files and "__meta__" in data.files
    assert checkpoint_epoch(tmp_path / "c.npz") == 0
