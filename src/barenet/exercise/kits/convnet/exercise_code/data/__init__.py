"""Datasets, transforms and the data loader, from barenet.

Images are decoded once into one array (cached next to the data), so an epoch
over CIFAR-10 takes seconds.
"""

from barenet.data import (
    CIFAR10,
    ArrayDataset,
    ComposeTransform,
    DataLoader,
    DigitsDataset,
    FlattenTransform,
    ImageFolderDataset,
    MemoryImageFolderDataset,
    NormalizeTransform,
    RescaleTransform,
    compute_image_mean_and_std,
)

__all__ = [
    "CIFAR10",
    "ArrayDataset",
    "ComposeTransform",
    "DataLoader",
    "DigitsDataset",
    "FlattenTransform",
    "ImageFolderDataset",
    "MemoryImageFolderDataset",
    "NormalizeTransform",
    "RescaleTransform",
    "compute_image_mean_and_std",
]
