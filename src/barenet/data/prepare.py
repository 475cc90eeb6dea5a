"""A training run's data, prepared by one call: source, split, limit, whitening or
normalisation, loaders.

:func:`prepare_run_data` takes a :class:`RunDataSettings` (what a run chooses) and
returns a :class:`RunData` (loaders and the facts a run records). The steps, in order:

1. **source**: an image folder or ``.zip`` (``path``), else the named ``dataset``;
2. **split**: a folder with ``train/`` and ``test/`` (and CIFAR-10) keeps its test set
   and splits ``val_fraction`` off the training images; one collection of images is
   split three ways (``val_fraction`` each for validation and test), seeded;
3. **limit**: a seeded random subset of ``limit`` training images (random, not the first
   N: image folders list their files class by class);
4. **statistics**: the per-channel mean and std of the training split, in the 0..1
   scale (or the ones a saved run gives back);
5. **whitening** (``zca > 0``): a :class:`ZCAWhitening` fitted on the training split (or
   a saved one) whitens every split once; else each batch is standardised per channel;
6. **loaders**: a shuffled, augmented training loader (flips and shifts run on the
   uint8 or whitened batch, before the float work) and plain validation and test ones.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from .base import ArrayDataset
from .cifar10 import CIFAR10
from .dataloader import DataLoader
from .digits import DigitsDataset
from .image_folder import ImageFolderDataset
from .split_folders import find_split_folders
from .splits import select_indices
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

#: The datasets a run can name instead of giving a path.
DATASETS = ("digits", "cifar10")

#: Images per batch of the validation and test loaders (no gradients: large batches).
EVAL_BATCH = 1024


@dataclass(frozen=True)
class RunDataSettings:
    """What a run chooses about its data.

    Attributes
    ----------
    dataset : {'digits', 'cifar10'}
        The data when ``path`` is None.
    path : str or None
        An image folder ``root/<class>/<image>`` or a ``.zip`` of one.
    val_fraction : float
        Share of the training images held out for validation, in (0, 0.5).
    limit : int or None
        Training images to keep (a seeded random subset); None keeps all.
    seed : int
        Seeds the split, the limit, the shuffling and the augmentation.
    on_bad_image : {'raise', 'skip'}
        An image file that cannot be decoded stops the run, or is left out.
    zca : float
        ZCA whitening's epsilon; 0 standardises each channel instead.
    batch_size, flip, crop
        The training loader's batch size, random horizontal flips and random shifts
        of up to ``crop`` pixels. With ``flip`` the test set is also read mirrored.
    flatten : bool
        Batches of flat vectors ``(B, H*W*C)`` (for an MLP), or with False of images
        ``(B, H, W, C)`` (for a ConvNet).
    """

    dataset: str = "digits"
    path: str | None = None
    val_fraction: float = 0.1
    limit: int | None = None
    seed: int = 0
    on_bad_image: str = "raise"
    zca: float = 0.0
    batch_size: int = 32
    flip: bool = False
    crop: int = 0
    flatten: bool = True


@dataclass
class RunData:
    """Loaders and facts about the data of one run.

    Attributes
    ----------
    train, val, test : DataLoader
        Batches ``{'image': (B, D) float32, 'label': (B,) int}``; only ``train``
        shuffles and augments.
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
    settings : RunDataSettings
        What the data were prepared with.
    image_shape : tuple of int
        ``(H, W, C)`` of one image.
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
    settings: RunDataSettings = RunDataSettings()
    image_shape: tuple = ()

    def with_training(self, batch_size: int, flip: bool, crop: int) -> RunData:
        """The same images with a fresh training loader of another batch size and
        augmentation (a tuning trial's); seeded as the run's own, so that the same
        settings shuffle and augment alike."""
        images = self.train.dataset
        settings = dataclasses.replace(self.settings, batch_size=batch_size, flip=flip, crop=crop)
        train = _train_loader(images.images, images.labels, self.mean, self.std, settings)
        return dataclasses.replace(self, train=train, settings=settings)

    def plain_training_images(self, count: int) -> np.ndarray:
        """The first ``count`` training images preprocessed as the model sees them, but
        not augmented: ``(count, D)``, or ``(count, H, W, C)`` without ``flatten``."""
        images = self.train.dataset.images[:count]
        whitened = self.whitening is not None
        return _preprocessing(
            self.mean, self.std, whitened=whitened, flatten=self.settings.flatten
        )(images)


def prepare_run_data(
    settings: RunDataSettings,
    stats: tuple | None = None,
    whitening: ZCAWhitening | None = None,
) -> RunData:
    """Load, split, limit, whiten or normalise, and wrap a run's data in loaders.

    Parameters
    ----------
    settings : RunDataSettings
    stats : (mean, std), optional
        Saved per-channel statistics to reuse (a resumed or evaluated run); else they
        are computed on the training split.
    whitening : ZCAWhitening, optional
        With ``settings.zca``, a saved whitening to reuse; else one is fitted on the
        training split.

    Raises
    ------
    FileNotFoundError
        When ``settings.path`` does not exist.
    ValueError
        When a split holds no training or no validation image.
    """
    (x_train, y_train), (x_val, y_val), (x_test, y_test), classes = load_split_arrays(settings)
    if len(y_train) == 0 or len(y_val) == 0:
        raise ValueError(
            f"the data gives {len(y_train)} training and {len(y_val)} validation images; "
            "need some of each"
        )
    mean, std = _statistics(x_train) if stats is None else map(np.asarray, stats)
    if settings.zca > 0:
        if whitening is None:
            whitening = ZCAWhitening(settings.zca, flip_symmetric=settings.flip).fit(x_train)
        x_train, x_val, x_test = (whitening.transform_all(x) for x in (x_train, x_val, x_test))
    else:
        whitening = None
    plain = _preprocessing(mean, std, whitened=whitening is not None, flatten=settings.flatten)
    test_views = _test_views(x_test, y_test, plain, settings.flip)
    return RunData(
        train=_train_loader(x_train, y_train, mean, std, settings),
        val=DataLoader(ArrayDataset(x_val, y_val, plain), batch_size=EVAL_BATCH),
        test=test_views[0],
        test_views=test_views,
        classes=list(classes),
        input_size=int(np.prod(x_train.shape[1:])),
        mean=[float(m) for m in mean],
        std=[float(s) for s in std],
        whitening=whitening,
        settings=settings,
        image_shape=tuple(int(n) for n in x_train.shape[1:]),
    )


def load_split_arrays(settings: RunDataSettings) -> tuple[tuple, tuple, tuple, list]:
    """Steps 1 to 3: raw ``uint8`` images ``(N, H, W, C)`` and labels ``(N,)`` of the
    train (limited), val and test splits, and the class names."""
    path = settings.path
    if path and not os.path.exists(path):
        raise FileNotFoundError(f"{path} does not exist (expected an image folder or a .zip)")
    if settings.dataset not in DATASETS and not path:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {settings.dataset!r}")
    roots = find_split_folders(path) if path else None
    if roots is not None or (not path and settings.dataset == "cifar10"):
        full, test = _given_test_set(roots, settings)
        train, val = _split_off_validation(full.images, full.labels, settings)
        return _limit(train, settings), val, (test.images, test.labels), full.classes
    fraction = settings.val_fraction
    split = {"train": 1 - 2 * fraction, "val": fraction, "test": fraction}
    if path:
        folder = {"split": split, "seed": settings.seed, "on_bad_image": settings.on_bad_image}
        parts = [ImageFolderDataset(path, mode=m, **folder) for m in split]
    else:
        parts = [DigitsDataset(mode=m, split=split, seed=settings.seed) for m in split]
    train, val, test = ((part.images, part.labels) for part in parts)
    return _limit(train, settings), val, test, parts[0].classes


def _given_test_set(roots: tuple[str, str] | None, settings: RunDataSettings) -> tuple:
    """(training set, test set): a folder's ``train/`` and ``test/``, or CIFAR-10's."""
    if roots is None:
        return CIFAR10(train=True), CIFAR10(train=False)
    return tuple(
        ImageFolderDataset(root, split=None, mode="all", on_bad_image=settings.on_bad_image)
        for root in roots
    )


def _split_off_validation(images, labels, settings: RunDataSettings) -> tuple[tuple, tuple]:
    """Seeded split of one labelled set into (train, val) arrays."""
    split = {"val": settings.val_fraction, "train": 1 - settings.val_fraction}
    val, train = (select_indices(len(labels), part, split, settings.seed) for part in split)
    return (images[train], labels[train]), (images[val], labels[val])


def _limit(train: tuple, settings: RunDataSettings) -> tuple:
    """A seeded random subset of ``settings.limit`` training images (all when unset)."""
    chosen = select_indices(len(train[1]), "all", None, [settings.seed, 3], settings.limit)
    return train if chosen is None else (train[0][chosen], train[1][chosen])


def _statistics(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std ``(C,)`` in the 0..1 scale (std at least 1e-3)."""
    mean, std = compute_image_mean_and_std(images)
    return mean / 255.0, np.maximum(std / 255.0, 1e-3)


def _preprocessing(
    mean,
    std,
    flip: bool = False,
    crop: int = 0,
    seed=None,
    whitened: bool = False,
    flatten: bool = True,
) -> ComposeTransform:
    """uint8 images -> (optionally flipped and shifted) -> 0..1 -> standardised per channel
    -> flat float32 (float32 images without ``flatten``). With ``whitened`` the images are
    already whitened floats: only the random steps and the flattening remain."""
    rng = np.random.default_rng(seed)
    steps = [FlattenTransform()] if flatten else []  # the affine steps give float32
    if not whitened:
        steps[:0] = [RescaleTransform(), NormalizeTransform(mean, std)]
    if crop:
        steps.insert(0, RandomCrop(crop, seed=rng))
    if flip:
        steps.insert(0, RandomHorizontalFlip(seed=rng, dtype=None))
    return ComposeTransform(steps)


def _train_loader(images, labels, mean, std, settings: RunDataSettings) -> DataLoader:
    """The shuffled, augmented training loader (seeded by ``settings.seed``)."""
    seed = settings.seed
    augment = _preprocessing(
        mean,
        std,
        settings.flip,
        settings.crop,
        seed=[seed, 1],
        whitened=settings.zca > 0,
        flatten=settings.flatten,
    )
    return DataLoader(
        ArrayDataset(images, labels, augment),
        batch_size=settings.batch_size,
        shuffle=True,
        seed=np.random.default_rng([seed, 2]),
    )


def _test_views(images, labels, plain: ComposeTransform, mirrored: bool) -> list[DataLoader]:
    """The test loader, and with ``mirrored`` the same images flipped, in the same order."""
    views = [DataLoader(ArrayDataset(images, labels, plain), batch_size=EVAL_BATCH)]
    if mirrored:
        mirror = ComposeTransform([RandomHorizontalFlip(prob=1.0, dtype=None), *plain.transforms])
        views.append(DataLoader(ArrayDataset(images, labels, mirror), batch_size=EVAL_BATCH))
    return views
