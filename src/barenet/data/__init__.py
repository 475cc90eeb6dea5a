"""barenet.data: datasets decoded once into arrays, transforms and the DataLoader."""

from . import transforms
from .base import ArrayDataset, Dataset
from .cifar10 import CIFAR10
from .dataloader import DataLoader, collate
from .digits import DigitsDataset, load_digits
from .download import DownloadError, download, download_and_unpack
from .image_cache import BadImageError
from .image_folder import ImageFolderDataset, MemoryImageFolderDataset
from .prepare import RunData, RunDataSettings, prepare_run_data
from .split_folders import find_split_folders
from .splits import DEFAULT_SPLIT
from .transforms import (
    ComposeTransform,
    FlattenTransform,
    NormalizeTransform,
    RandomCrop,
    RandomHorizontalFlip,
    RescaleTransform,
    compute_image_mean_and_std,
)
from .whitening import ZCAWhitening

__all__ = [
    "CIFAR10",
    "DEFAULT_SPLIT",
    "ArrayDataset",
    "BadImageError",
    "ComposeTransform",
    "DataLoader",
    "Dataset",
    "DigitsDataset",
    "DownloadError",
    "FlattenTransform",
    "ImageFolderDataset",
    "MemoryImageFolderDataset",
    "NormalizeTransform",
    "RandomCrop",
    "RandomHorizontalFlip",
    "RescaleTransform",
    "RunData",
    "RunDataSettings",
    "ZCAWhitening",
    "collate",
    "compute_image_mean_and_std",
    "download",
    "download_and_unpack",
    "find_split_folders",
    "load_digits",
    "prepare_run_data",
    "transforms",
]
