"""The model exercise's test set: images for the sandbox, labels kept by the grader.

``--test-data PATH`` is an image folder (``root/<class>/<image>``), a ``.zip`` of
one or a folder inside a zip (``cifar10-jpg.zip/cifar10/test``), or an ``.npz``
with ``images`` (``uint8``, ``(N, 32, 32, 3)``) and ``labels`` (``(N,)``), read
with ``allow_pickle=False``. Images are decoded into a private temporary cache
that is deleted once they are in memory, so no copy of the labels is left on
disk. The grader refuses a test set that a sandboxed child could see (under the
system or Python folders that the sandbox shows).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from barenet.grading.sandbox.bubblewrap import SYSTEM_DIRS, python_dirs

IMAGE_SHAPE = (32, 32, 3)
NUM_CLASSES = 10


@dataclass(frozen=True)
class HiddenTestSet:
    """Test images and their labels; only ``images`` is ever sent to a child.

    Attributes
    ----------
    images : ndarray of uint8, shape (N, 32, 32, 3)
    labels : ndarray of int64, shape (N,)
    source : str
        Where they came from, for reports.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def outside_the_sandbox(path: Path) -> None:
    """``ValueError`` when ``path`` lies in a folder that the sandbox shows its child."""
    real = path.resolve()
    for folder in [*map(Path, SYSTEM_DIRS), *python_dirs()]:
        if real.is_relative_to(folder.resolve()):
            raise ValueError(
                f"--test-data {path} lies in {folder}, which the sandbox shows to submissions; "
                "move the test set to a private folder"
            )


def read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        if "images" not in data or "labels" not in data:
            raise ValueError(f"--test-data {path}: an .npz needs 'images' and 'labels' arrays")
        return np.asarray(data["images"]), np.asarray(data["labels"])


def read_image_folder(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from barenet.data import ImageFolderDataset

    with tempfile.TemporaryDirectory(prefix="barenet-test-set-") as cache:
        dataset = ImageFolderDataset(path, split=None, cache_dir=cache, progress=False)
        return np.array(dataset.images), np.array(dataset.labels)


def load_hidden_test_set(path: str | os.PathLike) -> HiddenTestSet:
    """Read the test set; ``ValueError`` naming ``--test-data`` for anything unusable."""
    path = Path(path)
    zip_part = next((p for p in [path, *path.parents] if p.suffix.lower() == ".zip"), path)
    if not zip_part.exists():
        raise ValueError(f"--test-data {path} does not exist")
    outside_the_sandbox(zip_part)
    images, labels = read_npz(path) if path.suffix.lower() == ".npz" else read_image_folder(path)
    if images.dtype != np.uint8 or images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"--test-data {path}: expected uint8 images of shape (N, 32, 32, 3), got "
            f"{images.dtype} {images.shape}"
        )
    if labels.shape != (len(images),) or labels.dtype.kind not in "iu" or len(labels) == 0:
        raise ValueError(f"--test-data {path}: expected one integer label per image")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"--test-data {path}: labels must lie in [0, {NUM_CLASSES})")
    return HiddenTestSet(np.ascontiguousarray(images), labels.astype(np.int64), str(path))
