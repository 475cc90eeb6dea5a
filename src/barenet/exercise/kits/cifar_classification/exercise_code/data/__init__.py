"""Datasets, transforms, the data loader, and the exercise's fixed normalisation.

The grader feeds your model the hidden test images normalised with ``CIFAR_MEAN``
and ``CIFAR_STD`` (CIFAR-10's per-channel training mean and standard deviation,
for pixels scaled to 0..1) and flattened: train with the same transform.
"""

from barenet.data import (
    ArrayDataset,
    ComposeTransform,
    DataLoader,
    DigitsDataset,
    FlattenTransform,
    ImageFolderDataset,
    NormalizeTransform,
    RandomHorizontalFlip,
    RescaleTransform,
)
from barenet.grading.classroom.model_grading import CIFAR_MEAN, CIFAR_STD, MAX_MODEL_BYTES

__all__ = [
    "CIFAR_MEAN",
    "CIFAR_STD",
    "MAX_MODEL_BYTES",
    "ArrayDataset",
    "ComposeTransform",
    "DataLoader",
    "DigitsDataset",
    "FlattenTransform",
    "ImageFolderDataset",
    "NormalizeTransform",
    "RandomHorizontalFlip",
    "RescaleTransform",
]
