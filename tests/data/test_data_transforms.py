"""Transforms: one image and a batch give the same numbers, inputs are never modified."""

from __future__ import annotations

import numpy as np
import pytest

from barenet.data import (
    ComposeTransform,
    FlattenTransform,
    NormalizeTransform,
    RandomCrop,
    RandomHorizontalFlip,
    RescaleTransform,
    compute_image_mean_and_std,
)


@pytest.fixture
def batch():
    return np.random.default_rng(0).integers(0, 256, (6, 5, 4, 3), dtype=np.uint8)


MEAN, STD = np.array([0.5, 0.4, 0.3]), np.array([0.25, 0.2, 0.3])


def deterministic_transforms():
    return [
        RescaleTransform(),
        RescaleTransform(range_=(-1, 1)),
        NormalizeTransform(MEAN * 255, STD * 255),
        FlattenTransform(),
        ComposeTransform([RescaleTransform(), NormalizeTransform(MEAN, STD), FlattenTransform()]),
    ]


@pytest.mark.parametrize("transform", deterministic_transforms(), ids=repr)
def test_single_image_and_batch_agree_and_input_is_unchanged(transform, batch):
    before = batch.copy()
    batched = transform(batch)
    singles = np.stack([transform(image) for image in batch])
    np.testing.assert_allclose(batched, singles, rtol=1e-6)
    np.testing.assert_array_equal(batch, before)
    assert batched.dtype == np.float32


def test_flip_single_and_batch_agree_for_the_same_seed(batch):
    before = batch.copy()
    batched = RandomHorizontalFlip(seed=7)(batch)
    one_by_one = RandomHorizontalFlip(seed=7)
    singles = np.stack([one_by_one(image) for image in batch])
    np.testing.assert_array_equal(batched, singles)
    np.testing.assert_array_equal(batch, before)
    flipped = [
        np.array_equal(out, image[:, ::-1]) for out, image in zip(batched, batch, strict=True)
    ]
    kept = [np.array_equal(out, image) for out, image in zip(batched, batch, strict=True)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert any(flipped) and any(kept)  # independent per image (seed 7 gives both)


def test_flip_probabilities_and_generator(batch):
    np.testing.assert_array_equal(RandomHorizontalFlip(prob=0.0)(batch), batch)
    np.testing.assert_array_equal(RandomHorizontalFlip(prob=1.0)(batch), batch[:, :, ::-1])
    rng = np.random.default_rng(1)
    assert RandomHorizontalFlip(seed=rng).rng is rng
    with pytest.raises(ValueError, match="prob"):
        RandomHorizontalFlip(prob=1.5)


def test_rescale_values():
    out = RescaleTransform(range_=(0, 1), old_range=(0, 255))(np.array([[[0, 255, 51]]], np.uint8))
    np.testing.assert_allclose(out, [[[0.0, 1.0, 0.2]]], rtol=1e-6)
    with pytest.raises(ValueError, match="old_range"):
        RescaleTransform(old_range=(3, 3))


def test_normalize_with_computed_statistics_gives_mean_0_std_1():
    images = np.random.default_rng(2).integers(0, 200, (50, 8, 8, 3), dtype=np.uint8)
    images[..., 2] //= 4  # channels with different statistics
    mean, std = compute_image_mean_and_std(images)
    assert mean.shape == std.shape == (3,)
    normalized = NormalizeTransform(mean, std)(images)
    np.testing.assert_allclose(normalized.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(normalized.std(axis=(0, 1, 2)), 1, atol=1e-5)


def test_mean_and_std_match_numpy_and_work_in_chunks():
    images = np.random.default_rng(3).random((10, 4, 4, 3))
    mean, std = compute_image_mean_and_std(images, chunk_size=3)
    np.testing.assert_allclose(mean, images.mean(axis=(0, 1, 2)))
    np.testing.assert_allclose(std, images.std(axis=(0, 1, 2)))
    single_mean, _ = compute_image_mean_and_std(images[0])
    np.testing.assert_allclose(single_mean, images[0].mean(axis=(0, 1)))


def test_compose_fuses_rescale_and_normalize_without_changing_results(batch):
    steps = [RescaleTransform(), NormalizeTransform(MEAN, STD)]
    fused = ComposeTransform(steps)
    assert len(fused._steps) == 1
    sequential = steps[1](steps[0](batch))
    np.testing.assert_allclose(fused(batch), sequential, rtol=1e-5, atol=1e-5)


def test_flatten_shapes_and_dtype(batch):
    assert FlattenTransform()(batch).shape == (6, 60)
    assert FlattenTransform()(batch[0]).shape == (60,)
    assert FlattenTransform(dtype=None)(batch).dtype == np.uint8


def test_dtype_can_be_chosen(batch):
    assert RescaleTransform(dtype=np.float64)(batch).dtype == np.float64
    assert NormalizeTransform(MEAN, STD, dtype=None)(batch.astype(np.float64)).dtype == np.float64


def test_bad_normalize_arguments(batch):
    with pytest.raises(ValueError, match="std"):
        NormalizeTransform(0.5, 0.0)
    with pytest.raises(ValueError, match="channel"):
        NormalizeTransform([0.5, 0.5], [1.0, 1.0])(batch)
    with pytest.raises(ValueError, match="transforms"):
        ComposeTransform([RescaleTransform(), "flip"])


def test_crop_single_and_batch_agree_and_every_output_is_a_shifted_window():
    images = np.random.default_rng(1).integers(0, 256, (40, 6, 7, 3), dtype=np.uint8)
    before = images.copy()
    batched = RandomCrop(padding=2, seed=3)(images)
    one_by_one = RandomCrop(padding=2, seed=3)
    np.testing.assert_array_equal(batched, np.stack([one_by_one(image) for image in images]))
    np.testing.assert_array_equal(images, before)
    assert batched.dtype == np.uint8 and batched.shape == images.shape
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    shifts = set()
    for out, source in zip(batched, padded, strict=True):
        matches = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(out, source[dy : dy + 6, dx : dx + 7])
        ]
        assert matches, "each output is a window of the padded image"
        shifts.add(matches[0])
    assert len(shifts) > 5  # offsets are drawn per image


def test_crop_constant_padding_and_zero_padding_is_identity():
    image = np.full((4, 4, 1), 9, np.uint8)
    shifted = RandomCrop(padding=1, seed=0, padding_mode="constant")(np.stack([image] * 30))
    assert (shifted == 0).any() and (shifted == 9).any()
    np.testing.assert_array_equal(RandomCrop(padding=0)(image), image)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"padding": -1}, "padding must be"), ({"padding_mode": "wrap"}, "padding_mode")],
)
def test_crop_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RandomCrop(**kwargs)
