"""DataLoader: each sample once per epoch, batch counts, seeded shuffles, fast path == generic path."""

from __future__ import annotations

import numpy as np
import pytest

from barenet.data import (
    ArrayDataset,
    ComposeTransform,
    DataLoader,
    Dataset,
    DigitsDataset,
    FlattenTransform,
    NormalizeTransform,
    RandomHorizontalFlip,
    RescaleTransform,
    load_digits,
)
from barenet.data.dataloader import is_array_backed


def make_dataset(size=10, transform=None):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (size, 4, 4, 3), dtype=np.uint8)
    return ArrayDataset(images, np.arange(size) % 3, transform)


class ListDataset(Dataset):
    """A dataset that only has __getitem__: the generic path."""

    def __init__(self, inner):
        self.inner = inner

    def __len__(self):
        return len(self.inner)

    def __getitem__(self, index):
        return self.inner[index]


@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_exactly_once_per_epoch(shuffle):
    dataset = ArrayDataset(np.arange(23)[:, None], np.arange(23))
    loader = DataLoader(dataset, batch_size=5, shuffle=shuffle, seed=1)
    for _ in range(2):
        seen = np.concatenate([batch["label"] for batch in loader])
        assert sorted(seen.tolist()) == list(range(23))
        images = np.concatenate([batch["image"][:, 0] for batch in loader])
        assert sorted(images.tolist()) == list(range(23))


def test_len_and_drop_last():
    dataset = make_dataset(10)
    assert len(DataLoader(dataset, batch_size=3)) == 4
    assert [len(b["label"]) for b in DataLoader(dataset, batch_size=3)] == [3, 3, 3, 1]
    dropping = DataLoader(dataset, batch_size=3, drop_last=True)
    assert len(dropping) == 3
    assert [len(b["label"]) for b in dropping] == [3, 3, 3]
    assert len(DataLoader(dataset, batch_size=5, drop_last=True)) == 2
    assert len(DataLoader(dataset, batch_size=20, drop_last=True)) == 0


def test_seeded_order_repeats_and_reshuffles_each_epoch():
    dataset = ArrayDataset(np.zeros((50, 1)), np.arange(50))
    first = DataLoader(dataset, batch_size=8, shuffle=True, seed=3)
    second = DataLoader(dataset, batch_size=8, shuffle=True, seed=3)
    epochs_first = [np.concatenate([b["label"] for b in first]) for _ in range(2)]
    epochs_second = [np.concatenate([b["label"] for b in second]) for _ in range(2)]
    np.testing.assert_array_equal(epochs_first[0], epochs_second[0])
    np.testing.assert_array_equal(epochs_first[1], epochs_second[1])
    assert not np.array_equal(epochs_first[0], epochs_first[1])
    assert not np.array_equal(epochs_first[0], np.arange(50))
    unshuffled = np.concatenate([b["label"] for b in DataLoader(dataset, batch_size=8)])
    np.testing.assert_array_equal(unshuffled, np.arange(50))


def test_fast_path_equals_generic_path():
    transform = ComposeTransform(
        [
            RescaleTransform(),
            NormalizeTransform([0.5, 0.4, 0.3], [0.2, 0.2, 0.2]),
            FlattenTransform(),
        ]
    )
    dataset = make_dataset(11, transform)
    assert is_array_backed(dataset) and not is_array_backed(ListDataset(dataset))
    fast = list(DataLoader(dataset, batch_size=4, shuffle=True, seed=5))
    generic = list(DataLoader(ListDataset(dataset), batch_size=4, shuffle=True, seed=5))
    for a, b in zip(fast, generic, strict=True):
        assert a["image"].shape == b["image"].shape == (len(a["label"]), 48)
        assert a["image"].dtype == b["image"].dtype == np.float32
        np.testing.assert_allclose(a["image"], b["image"], rtol=1e-6)
        np.testing.assert_array_equal(a["label"], b["label"])
        assert a["label"].dtype == np.int64


def test_fast_and_generic_flip_agree_for_the_same_seed():
    fast_set = make_dataset(9, RandomHorizontalFlip(seed=2))
    slow_set = ListDataset(make_dataset(9, RandomHorizontalFlip(seed=2)))
    fast = np.concatenate([b["image"] for b in DataLoader(fast_set, batch_size=4)])
    slow = np.concatenate([b["image"] for b in DataLoader(slow_set, batch_size=4)])
    np.testing.assert_array_equal(fast, slow)


def test_subclass_with_its_own_getitem_uses_the_generic_path():
    class Doubled(ArrayDataset):
        def __getitem__(self, index):
            sample = super().__getitem__(index)
            return {**sample, "image": sample["image"] * 2}

    dataset = Doubled(np.ones((4, 2)), np.zeros(4, int))
    assert not is_array_backed(dataset)
    batch = next(iter(DataLoader(dataset, batch_size=4)))
    np.testing.assert_array_equal(batch["image"], 2)


def test_generic_path_stacks_extra_keys():
    class WithNames(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return {"image": np.full((2,), index), "label": index, "weight": 0.5 * index}

    batch = next(iter(DataLoader(WithNames(), batch_size=3)))
    np.testing.assert_array_equal(batch["weight"], [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(batch["image"][:, 0], [0, 1, 2])


@pytest.mark.parametrize("batch_size", [0, -1, 2.0, True, None])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make_dataset(), batch_size=batch_size)


def test_bad_dataset_and_array_dataset_arguments():
    with pytest.raises(ValueError, match="dataset"):
        DataLoader(42, batch_size=2)
    with pytest.raises(ValueError, match="labels"):
        ArrayDataset(np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="images"):
        ArrayDataset([[0, 1]], [0])
    with pytest.raises(IndexError):
        make_dataset(3)[3]


def test_digits_dataset_works_offline_through_the_loader():
    train, val = DigitsDataset("train"), load_digits("val")
    full = DigitsDataset("all")
    assert len(full) == 1797 and len(train) + len(val) + len(DigitsDataset("test")) == 1797
    assert full.images.shape == (1797, 8, 8, 1) and full.images.dtype == np.uint8
    assert full.images.max() == 255 and full.classes == [str(d) for d in range(10)]
    assert not set(train.labels.tolist()) ^ set(range(10))
    loader = DataLoader(train, batch_size=64, shuffle=True, seed=0)
    batch = next(iter(loader))
    assert batch["image"].shape == (64, 8, 8, 1)
    transformed = DigitsDataset(
        "val", transform=ComposeTransform([RescaleTransform(), FlattenTransform()])
    )
    assert transformed[0]["image"].shape == (64,) and transformed[0]["image"].max() <= 1.0
