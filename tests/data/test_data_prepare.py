"""A run's data prepared by one library call: split, limit, statistics, whitening, loaders."""

from __future__ import annotations

import numpy as np
import pytest

from barenet.data import RunDataSettings, prepare_run_data
from barenet.data.prepare import load_split_arrays


def test_digits_are_split_three_ways_and_the_limit_is_a_seeded_random_subset():
    (x_train, y_train), (_, y_val), (_, y_test), classes = load_split_arrays(
        RunDataSettings(limit=300, seed=4)
    )
    assert len(y_train) == 300 and classes == [str(d) for d in range(10)]
    assert abs(len(y_val) - 180) <= 1 and abs(len(y_test) - 180) <= 1
    assert len(np.unique(y_train)) == 10, "the limit took the first classes only"
    again = load_split_arrays(RunDataSettings(limit=300, seed=4))[0][1]
    assert np.array_equal(again, y_train)
    assert not np.array_equal(load_split_arrays(RunDataSettings(limit=300, seed=5))[0][1], y_train)


def test_statistics_come_from_the_training_split_and_standardise_its_batches():
    data = prepare_run_data(RunDataSettings(batch_size=2000))
    images = data.train.dataset.images
    assert images.dtype == np.uint8 and data.input_size == 64
    assert data.mean[0] == pytest.approx(images.mean() / 255.0)
    batch = next(iter(data.train))["image"]
    assert batch.dtype == np.float32 and batch.shape == (len(images), 64)
    assert abs(batch.mean()) < 1e-4 and batch.std() == pytest.approx(1.0, rel=1e-3)
    saved = prepare_run_data(RunDataSettings(), stats=([0.5], [0.25]))
    assert (saved.mean, saved.std) == ([0.5], [0.25])


def test_whitening_is_fitted_once_and_reused(tmp_path):
    settings = RunDataSettings(zca=0.1, flip=True, limit=400)
    data = prepare_run_data(settings)
    assert data.whitening is not None and data.train.dataset.images.dtype == np.float32
    assert len(data.test_views) == 2  # flips: the test set is also read mirrored
    data.whitening.save(tmp_path / "w.npz")
    from barenet.data import ZCAWhitening

    again = prepare_run_data(settings, whitening=ZCAWhitening.load(tmp_path / "w.npz"))
    assert np.array_equal(again.val.dataset.images, data.val.dataset.images)


def test_a_trial_gets_its_own_training_loader_over_the_same_images():
    data = prepare_run_data(RunDataSettings(limit=200))
    trial = data.with_training(batch_size=50, flip=True, crop=1)
    assert trial.train.dataset.images is data.train.dataset.images
    assert (len(trial.train), trial.val) == (4, data.val)
    assert trial.settings.flip and not data.settings.flip


def test_a_missing_path_and_an_empty_split_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare_run_data(RunDataSettings(path=str(tmp_path / "nowhere")))
    with pytest.raises(ValueError, match="need some of each"):
        prepare_run_data(RunDataSettings(val_fraction=1e-4))
