"""The data of a run: which dataset, which split, which transforms, as loaders.

Normalisation statistics come from the training split only and are stored in the
run's ``config.json``, so that ``evaluate`` preprocesses exactly alike. With ``zca``
the images are instead ZCA-whitened, once, by a :class:`ZCAWhitening` fitted on the
training split (the run keeps it in ``whitening.npz``); flips and shifts then apply
to the whitened images.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from barenet.app.config import RunConfig
from barenet.data import (
    CIFAR10,
    ArrayDataset,
    ComposeTransform,
    DataLoader,
    DigitsDataset,
    FlattenTransform,
    ImageFolderDataset,
    NormalizeTransform,
    RandomCrop,
    RandomHorizontalFlip,
    RescaleTransform,
    compute_image_mean_and_std,
)
from barenet.data.split_folders import find_split_folders
from barenet.data.splits import select_indices
from barenet.data.whitening import ZCAWhitening


@dataclass
class DataBundle:
    """Loaders and facts about the data of one run.

    Attributes
    ----------
    train, val, test : DataLoader
        Batches ``{'image': (B, D) float, 'label': (B,) int}``; only ``train`` shuffles
        and augments.
    test_views : list of DataLoader
        ``test``, and when training flips images, ``test`` with every image mirrored:
        the same images in the same order, whose predictions are averaged.
    classes : list of str
    input_size : int
        D, values per flattened image.
    mean, std : list of float
        Per-channel statistics of the training split, in the 0..1 scale.
    whitening : ZCAWhitening or None
        The whitening the images went through (``zca`` runs), else None.
    image_shape : tuple of int
        ``(H, W, C)`` of one image.
    train_sample : ndarray or None
        With ``--model convnet``: up to :data:`WHITENING_SAMPLE` training images
        ``(n, H, W, C)``, preprocessed as the net sees them but not augmented, to fit its
        patch whitening on. The ConvNet's batches are images ``(B, H, W, C)``, the MLP's
        flat ``(B, D)``.
    """

    train: DataLoader
    val: DataLoader
    test: DataLoader
    test_views: list
    classes: list
    input_size: int
    mean: list
    std: list
    whitening: ZCAWhitening | None = None
    image_shape: tuple = ()
    train_sample: np.ndarray | None = None


#: Training images the ConvNet's patch whitening is fitted on (the first ones of the
#: shuffled split): a 12-value patch covariance needs few.
WHITENING_SAMPLE = 5000


def _split_off_validation(images, labels, fraction: float, seed: int):
    """Seeded split of one labelled set into (train, val) arrays."""
    split = {"val": fraction, "train": 1 - fraction}
    val, train = (select_indices(len(labels), part, split, seed) for part in split)
    return (images[train], labels[train]), (images[val], labels[val])


def load_arrays(config: RunConfig) -> tuple[tuple, tuple, tuple, list]:
    """Raw ``uint8`` images ``(N, H, W, C)`` and labels for train, val and test.

    Settings used: ``dataset``, ``data`` (a path, which wins over ``dataset``),
    ``val_fraction``, ``seed``, ``limit`` (training images), ``on_bad_image``.
    """
    seed, fraction = config.seed, config.val_fraction
    path = config.data
    folder_options = {"on_bad_image": config.on_bad_image}
    if path and not Path(path).exists():
        raise ValueError(
            f"--data: {path} does not exist (expected an image folder or a .zip of one)"
        )
    roots = find_split_folders(path) if path else None
    if roots is not None or (not path and config.dataset == "cifar10"):
        # A given test set: only validation is split off the training images.
        if roots is not None:
            full, test = (
                ImageFolderDataset(root, split=None, mode="all", **folder_options) for root in roots
            )
        else:
            full, test = CIFAR10(train=True), CIFAR10(train=False)
        train, val = _split_off_validation(full.images, full.labels, fraction, seed)
        return _limit(train, config), val, (test.images, test.labels), full.classes
    # One collection of images: a seeded three-way split.
    split = {"train": 1 - 2 * fraction, "val": fraction, "test": fraction}
    if path:
        parts = [
            ImageFolderDataset(path, mode=m, split=split, seed=seed, **folder_options)
            for m in split
        ]
    else:
        parts = [DigitsDataset(mode=m, split=split, seed=seed) for m in split]
    train, val, test = ((part.images, part.labels) for part in parts)
    return _limit(train, config), val, test, parts[0].classes


def _limit(train: tuple, config: RunConfig) -> tuple:
    """A seeded random subset of ``config.limit`` training images (all when unset).

    Random, not the first N: image folders list their files class by class.
    """
    chosen = select_indices(len(train[1]), "all", None, [config.seed, 3], config.limit)
    return train if chosen is None else (train[0][chosen], train[1][chosen])


def preprocessing(
    mean,
    std,
    flip: bool = False,
    crop: int = 0,
    seed=None,
    whitened: bool = False,
    flatten: bool = True,
) -> ComposeTransform:
    """uint8 images -> (optionally flipped and shifted) -> 0..1 -> standardised per channel
    -> flat float32 (with ``flatten=False``: float32 images). The random steps run on the
    uint8 batch, before the float work.

    With ``whitened``, the images are already whitened floats: only the random steps
    and the flattening remain (``mean`` and ``std`` are not used).
    """
    rng = np.random.default_rng(seed)
    steps = [FlattenTransform()] if flatten else []  # the affine steps give float32
    if not whitened:
        steps[:0] = [RescaleTransform(), NormalizeTransform(mean, std)]
    if crop:
        steps.insert(0, RandomCrop(crop, seed=rng))
    if flip:
        steps.insert(0, RandomHorizontalFlip(seed=rng, dtype=None))
    return ComposeTransform(steps)


def train_loader(
    images: np.ndarray, labels: np.ndarray, mean, std, config: RunConfig
) -> DataLoader:
    """The shuffled, augmented training loader of a run.

    Settings used: ``batch_size``, ``flip``, ``crop``, ``seed`` and ``zca``. ``images``
    are the raw ``uint8`` training images ``(N, H, W, C)``, or with ``zca`` the whitened
    float32 ones; ``mean`` and ``std`` their per-channel statistics in the 0..1 scale.
    """
    seed = config.seed
    augment = preprocessing(
        mean,
        std,
        config.flip,
        config.crop,
        seed=[seed, 1],
        whitened=config.zca > 0,
        flatten=config.model == "mlp",
    )
    return DataLoader(
        ArrayDataset(images, labels, augment),
        batch_size=config.batch_size,
        shuffle=True,
        seed=np.random.default_rng([seed, 2]),
    )


def build_data(
    config: RunConfig, stats: tuple | None = None, whitening: ZCAWhitening | None = None
) -> DataBundle:
    """Loaders for a run.

    ``stats=(mean, std)`` reuses saved statistics (else computed on the training
    split); with ``config.zca``, ``whitening`` reuses a saved :class:`ZCAWhitening`
    (else one is fitted on the training split).
    """
    (x_train, y_train), (x_val, y_val), (x_test, y_test), classes = load_arrays(config)
    if len(y_train) == 0 or len(y_val) == 0:
        raise ValueError(
            f"the data gives {len(y_train)} training and {len(y_val)} validation images; need some of each"
        )
    if stats is None:
        mean, std = compute_image_mean_and_std(x_train)
        mean, std = mean / 255.0, np.maximum(std / 255.0, 1e-3)
    else:
        mean, std = np.asarray(stats[0]), np.asarray(stats[1])
    whitened = config.zca > 0
    if whitened:
        if whitening is None:
            whitening = ZCAWhitening(config.zca, flip_symmetric=config.flip).fit(x_train)
        x_train, x_val, x_test = (whitening.transform_all(x) for x in (x_train, x_val, x_test))
    else:
        whitening = None
    plain = preprocessing(mean, std, whitened=whitened, flatten=config.model == "mlp")
    test = DataLoader(ArrayDataset(x_test, y_test, plain), batch_size=1024)
    test_views = [test]
    if config.flip:
        mirror = ComposeTransform([RandomHorizontalFlip(prob=1.0, dtype=None), *plain.transforms])
        test_views.append(DataLoader(ArrayDataset(x_test, y_test, mirror), batch_size=1024))
    return DataBundle(
        train=train_loader(x_train, y_train, mean, std, config),
        val=DataLoader(ArrayDataset(x_val, y_val, plain), batch_size=1024),
        test=test,
        test_views=test_views,
        classes=list(classes),
        input_size=int(np.prod(x_train.shape[1:])),
        mean=[float(m) for m in mean],
        std=[float(s) for s in std],
        whitening=whitening,
        image_shape=tuple(int(n) for n in x_train.shape[1:]),
        train_sample=plain(x_train[:WHITENING_SAMPLE]) if config.model == "convnet" else None,
    )


def cifar10_is_available() -> bool:
    """Whether the CIFAR-10 archive is already downloaded (no network needed)."""
    try:
        CIFAR10(train=False, download=False, progress=False)
    except (FileNotFoundError, OSError, ValueError):
        return False
    return True
