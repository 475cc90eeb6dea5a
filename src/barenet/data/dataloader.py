"""``DataLoader``: batches of a dataset, seeded shuffling, one gather per batch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .base import ArrayDataset


class DataLoader:
    """Iterate over a dataset in batches ``{'image': (B, ...), 'label': (B,)}``.

    Fast path: a dataset that holds all its samples in arrays (an
    ``ArrayDataset`` that does not override ``__getitem__``, or any object with
    ``images`` and ``labels`` NumPy arrays of its length and a ``transform``
    attribute) is batched by one fancy-indexing gather ``images[indices]`` and
    one call of ``transform`` on the whole batch. Any other dataset whose
    ``__getitem__`` returns dicts goes through ``collate``, one sample at a time.

    Parameters
    ----------
    dataset : Dataset
        Has ``__len__`` and ``__getitem__``.
    batch_size : int
        Samples per batch, >= 1.
    shuffle : bool
        Visit the samples in a new random order every epoch.
    drop_last : bool
        Leave out the last batch if it has fewer than ``batch_size`` samples.
    seed : int or np.random.Generator or None
        Seed of the shuffling (``np.random.default_rng(seed)``, created once:
        epoch k of two loaders with the same seed has the same order, and each
        epoch gets a new order).
    """

    def __init__(
        self,
        dataset: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise ValueError(f"dataset must have __len__ and __getitem__, got {dataset!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        count, rest = divmod(len(self.dataset), self.batch_size)
        return count if self.drop_last or rest == 0 else count + 1

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        size = len(self.dataset)
        order = self.rng.permutation(size) if self.shuffle else np.arange(size)
        make_batch = self._gather if is_array_backed(self.dataset) else self._collate
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            yield make_batch(order[start : start + self.batch_size])

    def _gather(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        """One fancy-indexing gather plus one transform of the whole batch."""
        images = self.dataset.images[indices]
        transform = getattr(self.dataset, "transform", None)
        if transform is not None:
            images = transform(images)
        return {"image": images, "label": np.asarray(self.dataset.labels[indices], np.int64)}

    def _collate(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        return collate([self.dataset[int(index)] for index in indices])


def is_array_backed(dataset: Any) -> bool:
    """Whether ``DataLoader`` may batch ``dataset`` by indexing its arrays."""
    if isinstance(dataset, ArrayDataset):
        # A subclass with its own __getitem__ may do more than index the arrays.
        return type(dataset).__getitem__ is ArrayDataset.__getitem__
    images = getattr(dataset, "images", None)
    labels = getattr(dataset, "labels", None)
    return (
        isinstance(images, np.ndarray)
        and isinstance(labels, np.ndarray)
        and hasattr(dataset, "transform")
        and len(images) == len(labels) == len(dataset)
    )


def collate(samples: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Stack a list of sample dicts into one dict of batch arrays.

    Parameters
    ----------
    samples : list of dict
        All with the same keys; ``'label'`` values are ints.

    Returns
    -------
    dict of str to np.ndarray
        ``value (B, ...)`` for each key; ``'label'`` as int64 ``(B,)``.
    """
    if not samples or not all(isinstance(sample, dict) for sample in samples):
        raise ValueError("the dataset's __getitem__ must return dicts such as {'image', 'label'}")
    batch = {key: np.stack([np.asarray(sample[key]) for sample in samples]) for key in samples[0]}
    if "label" in batch:
        batch["label"] = batch["label"].astype(np.int64, copy=False)
    return batch
