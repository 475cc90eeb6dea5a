"""The dataset interface: ``Dataset`` and the in-memory ``ArrayDataset``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Transform = Callable[[np.ndarray], np.ndarray]


class Dataset:
    """Base class of every barenet dataset.

    A dataset has a length and returns one sample as a dict, at least
    ``{'image': array, 'label': int}``. Subclasses implement ``__len__`` and
    ``__getitem__``; ``DataLoader`` batches any such object.
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index: int) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")


class ArrayDataset(Dataset):
    """A dataset over arrays that are already decoded (in memory or memory-mapped).

    Because every image lives in one array, ``DataLoader`` makes a batch with one
    fancy-indexing gather and one call of ``transform`` on the whole batch.

    Parameters
    ----------
    images : np.ndarray, shape (N, ...)
        One sample per row, e.g. ``(N, H, W, C)`` ``uint8`` images.
    labels : array_like of int, shape (N,)
        The class index of each sample.
    transform : callable, optional
        Applied to one image in ``__getitem__`` and to a batch ``(B, ...)`` by
        ``DataLoader``; it must give the same numbers both ways.

    Attributes
    ----------
    images : np.ndarray, shape (N, ...)
    labels : np.ndarray of int64, shape (N,)
    transform : callable or None
    """

    def __init__(self, images: np.ndarray, labels: Any, transform: Transform | None = None) -> None:
        if not isinstance(images, np.ndarray) or images.ndim < 1:
            raise ValueError(
                f"images must be a NumPy array with one sample per row, got {type(images).__name__}"
            )
        labels = np.asarray(labels)
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"labels must have shape ({len(images)},) to match images, got {labels.shape}"
            )
        if labels.size and not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
        if transform is not None and not callable(transform):
            raise ValueError(f"transform must be callable or None, got {transform!r}")
        self.images = images
        self.labels = labels.astype(np.int64, copy=False)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any]:
        index = _check_index(index, len(self))
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return {"image": image, "label": int(self.labels[index])}


def _check_index(index: Any, length: int) -> int:
    """Return ``index`` as a non-negative int, or raise ``IndexError``."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"dataset index must be an int, got {type(index).__name__}")
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a dataset of {length} samples")
    return int(index) % length
