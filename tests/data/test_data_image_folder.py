"""ImageFolderDataset on a subset of the real CIFAR-10 zip, and on folders."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from data_helpers import CLASSES, build_cifar_subset, make_image_folder, write_image
from PIL import Image

from barenet.data import ImageFolderDataset, MemoryImageFolderDataset
from barenet.data.transforms import RescaleTransform

PER_CLASS = 20


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("BARENET_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def subset_zip(tmp_path_factory):
    return build_cifar_subset(
        tmp_path_factory.mktemp("cifar") / "subset.zip", PER_CLASS, splits=("train", "test")
    )


@pytest.fixture
def train_root(subset_zip):
    return str(subset_zip / "cifar10" / "train")


def load(root, **kwargs):
    kwargs.setdefault("progress", False)
    return ImageFolderDataset(root, **kwargs)


def test_classes_counts_shapes(train_root):
    dataset = load(train_root, split=None)
    assert dataset.classes == CLASSES
    assert dataset.class_to_idx == {name: index for index, name in enumerate(CLASSES)}
    assert len(dataset) == 10 * PER_CLASS
    assert np.bincount(dataset.labels).tolist() == [PER_CLASS] * 10
    assert dataset.images.shape == (10 * PER_CLASS, 32, 32, 3)
    assert dataset.images.dtype == np.uint8
    sample = dataset[5]
    assert sample["image"].shape == (32, 32, 3) and sample["image"].dtype == np.uint8
    assert isinstance(sample["label"], int)


def test_labels_match_folders_and_pixels_match_pillow(train_root, subset_zip):
    dataset = load(train_root, mode="all")
    folders = [file.split("/")[-2] for file in dataset.files]
    assert [dataset.classes[label] for label in dataset.labels] == folders
    with zipfile.ZipFile(subset_zip) as archive:
        for index in (0, 37, 199):
            expected = np.asarray(Image.open(io.BytesIO(archive.read(dataset.files[index]))))
            np.testing.assert_array_equal(dataset[index]["image"], expected)


def test_seeded_splits_are_disjoint_cover_and_repeat(train_root):
    parts = {mode: load(train_root, mode=mode, seed=3) for mode in ("train", "val", "test")}
    assert [len(part) for part in parts.values()] == [120, 40, 40]
    indices = [set(part.indices.tolist()) for part in parts.values()]
    assert set.union(*indices) == set(range(200))
    assert sum(len(part) for part in indices) == 200
    again = load(train_root, mode="val", seed=3)
    np.testing.assert_array_equal(again.indices, parts["val"].indices)
    np.testing.assert_array_equal(again.images, parts["val"].images)
    other = load(train_root, mode="val", seed=4)
    assert set(other.indices.tolist()) != indices[1]


def test_split_leaves_global_random_state_alone(train_root):
    # The legacy global state is what must stay untouched, so this test reads it.
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    load(train_root, mode="train", seed=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_split_with_a_zero_part_and_custom_names(train_root):
    split = {"train": 0.9, "val": 0.0, "holdout": 0.1}
    assert len(load(train_root, mode="val", split=split)) == 0
    assert len(load(train_root, mode="holdout", split=split)) == 20


def test_limit_files_keeps_a_mixed_subset_of_the_part(train_root):
    full = load(train_root, mode="train")
    limited = load(train_root, mode="train", limit_files=30)
    assert len(limited) == 30
    assert set(limited.indices.tolist()) <= set(full.indices.tolist())
    assert len(np.unique(limited.labels)) > 3


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"split": {"train": 0.7, "val": 0.2, "test": 0.2}}, "split"),
        ({"split": {"train": 1.2, "val": -0.2}}, "split"),
        ({"split": [0.6, 0.2, 0.2]}, "split"),
        ({"split": {"train": "a lot"}}, "split"),
        ({"mode": "validation"}, "mode"),
        ({"limit_files": 0}, "limit_files"),
        ({"limit_files": 2.5}, "limit_files"),
        ({"on_bad_image": "ignore"}, "on_bad_image"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(train_root, kwargs, named):
    with pytest.raises(ValueError, match=named):
        load(train_root, **kwargs)


def test_bad_split_message_shows_the_value(train_root):
    with pytest.raises(ValueError, match=r"0\.7"):
        load(train_root, split={"train": 0.7, "val": 0.7})


def test_zip_of_split_folders_points_to_them(subset_zip):
    with pytest.raises(ValueError, match="cifar10/train"):
        load(subset_zip)


def test_missing_root_and_files_that_are_not_roots(tmp_path):
    with pytest.raises(FileNotFoundError, match="download_url"):
        load(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="root"):
        load(tmp_path / "notes.txt")
    (tmp_path / "flat").mkdir()
    write_image(tmp_path / "flat" / "a.png")
    with pytest.raises(ValueError, match="class folders"):
        load(tmp_path / "flat")
    with pytest.raises(ValueError, match="root"):
        load(42)


def test_folder_root_equals_zip_root(train_root, subset_zip, tmp_path):
    with zipfile.ZipFile(subset_zip) as archive:
        archive.extractall(tmp_path / "unzipped")
    from_folder = load(tmp_path / "unzipped" / "cifar10" / "train", split=None)
    from_zip = load(train_root, split=None)
    assert from_folder.classes == from_zip.classes
    np.testing.assert_array_equal(from_folder.labels, from_zip.labels)
    np.testing.assert_array_equal(from_folder.images, from_zip.images)


def test_single_wrapping_folder_is_looked_through(tmp_path):
    make_image_folder(tmp_path / "outer" / "mydata")
    (tmp_path / "outer" / ".hidden").mkdir()
    dataset = load(tmp_path / "outer", split=None)
    assert dataset.classes == ["cat", "dog", "frog"]
    assert len(dataset) == 12


def test_hidden_and_non_image_files_are_ignored(tmp_path):
    root = make_image_folder(tmp_path / "data")
    (root / "cat" / "README.txt").write_text("not an image")
    (root / "cat" / ".DS_Store").write_bytes(b"\0\1")
    (root / ".barenet-cache").mkdir()
    assert len(load(root, split=None)) == 12


def test_transform_and_memory_variant(train_root):
    dataset = load(train_root, mode="val", transform=RescaleTransform())
    image = dataset[0]["image"]
    assert image.dtype == np.float32 and 0.0 <= image.min() and image.max() <= 1.0
    in_memory = MemoryImageFolderDataset(train_root, mode="val", progress=False, split=None)
    assert not isinstance(in_memory.images, np.memmap)
    np.testing.assert_array_equal(in_memory.images, load(train_root, split=None).images)


def test_test_split_folder_is_a_root_too(subset_zip):
    dataset = load(subset_zip / "cifar10" / "test", split=None)
    assert len(dataset) == 10 * PER_CLASS
    assert all(file.startswith("cifar10/test/") for file in dataset.files)
