"""scikit-learn's bundled 8x8 handwritten digits: a dataset that needs no network."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .base import ArrayDataset, Transform
from .splits import DEFAULT_SPLIT, select_indices


class DigitsDataset(ArrayDataset):
    """The 1,797 8x8 handwritten digits of ``sklearn.datasets.load_digits``, 10 classes.

    The images are stored like any barenet image dataset: ``uint8`` in 0..255
    (scikit-learn's 0..16 grey levels times 255/16, rounded), channels last,
    so ``RescaleTransform()`` maps them to 0..1 exactly as for CIFAR-10.

    Parameters
    ----------
    mode : str
        Part of ``split`` to serve, or ``'all'``.
    split : mapping of str to float, or None
        Fractions of the parts (see ``ImageFolderDataset``).
    seed : int or np.random.Generator
        Seed of the split.
    transform : callable, optional
        Applied to one image ``(8, 8, 1)`` or a batch ``(B, 8, 8, 1)``.
    limit_files : int, optional
        Keep at most this many images of the part.

    Attributes
    ----------
    images : np.ndarray of uint8, shape (N, 8, 8, 1)
    labels : np.ndarray of int64, shape (N,)
    classes : list of str
        ``['0', ..., '9']``.
    class_to_idx : dict of str to int
    """

    def __init__(
        self,
        mode: str = "train",
        split: Mapping[str, float] | None = DEFAULT_SPLIT,
        seed: int | np.random.Generator | None = 0,
        transform: Transform | None = None,
        limit_files: int | None = None,
    ) -> None:
        from sklearn.datasets import load_digits as sklearn_digits  # slow import: only here

        digits = sklearn_digits()
        grey = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
        images = np.ascontiguousarray(grey[..., np.newaxis])
        labels = digits.target.astype(np.int64)
        selected = select_indices(len(images), mode, split, seed, limit_files)
        if selected is not None:
            images, labels = images[selected], labels[selected]
        super().__init__(images, labels, transform)
        self.classes = [str(digit) for digit in range(10)]
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        self.mode = mode


def load_digits(
    mode: str = "train",
    split: Mapping[str, float] | None = DEFAULT_SPLIT,
    seed: int | np.random.Generator | None = 0,
    transform: Transform | None = None,
    limit_files: int | None = None,
) -> DigitsDataset:
    """The offline default dataset: ``DigitsDataset`` with the same arguments."""
    return DigitsDataset(mode, split, seed, transform, limit_files)
