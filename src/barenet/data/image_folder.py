"""``ImageFolderDataset``: a ``root/<class>/<image>`` tree (folder or zip) as arrays."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .base import ArrayDataset, Transform
from .download import download, download_and_unpack
from .image_cache import load_image_cache
from .image_files import ImageRoot, locate_root
from .splits import DEFAULT_SPLIT, select_indices, validate_limit, validate_mode, validate_split


class ImageFolderDataset(ArrayDataset):
    """Images in class folders, decoded once and served from one array.

    The first load decodes every image (Pillow, RGB; in parallel) into a cache
    file; later loads memory-map it (see ``load_image_cache``). ``mode`` then
    selects a seeded part of the files.

    Parameters
    ----------
    root : path
        A folder ``root/<class>/<image files>``, a ``.zip`` of one, or a folder
        inside a zip written as a path through it
        (``'../shared/data/cifar10-jpg.zip/cifar10/train'``). Classes are the
        sorted sub-folder names.
    transform : callable, optional
        Applied to one image ``(H, W, 3)`` in ``__getitem__``, and to a batch
        ``(B, H, W, 3)`` by ``DataLoader``.
    mode : str
        Which part of ``split`` to serve (``'train'``, ``'val'``, ``'test'``), or
        ``'all'`` for every file.
    limit_files : int, optional
        Keep at most this many files of the selected part (a seeded random
        subset, so every class still appears).
    split : mapping of str to float, or None
        Fractions of the parts: non-negative, summing to 1; None uses every
        file whatever ``mode`` says (for data that is already split, such as
        ``cifar10/train`` and ``cifar10/test``).
    download_url : str, optional
        If ``root`` does not exist, download it from here first: to ``root``
        itself when ``root`` is (inside) a ``.zip``, else an archive unpacked
        into ``root``.
    seed : int or np.random.Generator
        Seed of the split (never the global random state).
    download_sha256 : str, optional
        Expected SHA-256 of the download.
    cache_dir : path, optional
        Folder of the decoded cache; default ``$BARENET_CACHE_DIR``, else a
        ``.barenet-cache`` folder next to the data when writable, else the user
        cache folder.
    on_bad_image : {'raise', 'skip'}
        What to do with a corrupt or differently-sized image.
    num_workers : int, optional
        Processes that decode; None: all cores.
    progress : bool
        Show progress bars for decoding and downloading.

    Attributes
    ----------
    images : np.ndarray of uint8, shape (N, H, W, 3)
        The selected images, in file order (class, then name). A memory map of
        the cache when every file is selected, else an in-memory copy.
    labels : np.ndarray of int64, shape (N,)
    files : np.ndarray of str, shape (N,)
        Each image's path (zip member name for a zip).
    classes : list of str
    class_to_idx : dict of str to int
    indices : np.ndarray of int64, shape (N,)
        Rows of the selected images in the whole cache.
    skipped_files : list of str
        Files left out with ``on_bad_image='skip'``.
    root : str
        The folder that holds the class folders.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        transform: Transform | None = None,
        mode: str = "train",
        limit_files: int | None = None,
        split: Mapping[str, float] | None = DEFAULT_SPLIT,
        download_url: str | None = None,
        seed: int | np.random.Generator | None = 0,
        *,
        download_sha256: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        on_bad_image: str = "raise",
        num_workers: int | None = None,
        progress: bool = True,
    ) -> None:
        split = validate_split(split)
        validate_mode(mode, split)
        validate_limit(limit_files)
        located = _locate_or_download(root, download_url, download_sha256, progress)
        cached = load_image_cache(located, cache_dir, on_bad_image, num_workers, progress)
        num_cached = len(cached.images)
        selected = select_indices(num_cached, mode, split, seed, limit_files)
        files = np.asarray(cached.meta["files"])
        if selected is None:  # every file: serve the memory map itself, no copy
            images, labels, self.indices = cached.images, cached.labels, np.arange(num_cached)
        else:
            images, labels, self.indices = (
                cached.images[selected],
                cached.labels[selected],
                selected,
            )
            files = files[selected]
        super().__init__(images, labels, transform)
        self.files = files
        self.classes: list[str] = list(cached.meta["classes"])
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        self.skipped_files = [file for file, _ in cached.meta.get("skipped", [])]
        self.root = cached.meta.get("root", str(located))
        self.mode = mode

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={self.root!r}, mode={self.mode!r}, "
            f"{len(self)} images {self.images.shape[1:]}, {len(self.classes)} classes)"
        )


class MemoryImageFolderDataset(ImageFolderDataset):
    """``ImageFolderDataset`` whose images are read into memory instead of memory-mapped.

    Takes the same arguments. Useful when the cache lives on a slow or network
    disk; otherwise the memory map is as fast once the pages are cached.
    """

    def __init__(self, root: str | os.PathLike, *args, **kwargs) -> None:
        super().__init__(root, *args, **kwargs)
        if isinstance(self.images, np.memmap):
            self.images = np.array(self.images)


def _locate_or_download(
    root: str | os.PathLike, download_url: str | None, sha256: str | None, progress: bool
) -> ImageRoot:
    """Find ``root``; if it does not exist, download it from ``download_url`` first."""
    if isinstance(root, bool) or not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root must be a path, got {root!r}")
    located = locate_root(root)
    if located is not None:
        return located
    if download_url is None:
        raise FileNotFoundError(
            f"root {str(root)!r} does not exist; pass download_url= to download it, "
            "or point root at a folder (or .zip) of class folders"
        )
    path = Path(root).expanduser().absolute()
    zip_file = next((p for p in [path, *path.parents] if p.suffix.lower() == ".zip"), None)
    if zip_file is not None:
        download(download_url, zip_file.parent, zip_file.name, sha256, progress)
    else:
        download_and_unpack(download_url, path, sha256, progress=progress)
    located = locate_root(root)
    if located is None:
        raise FileNotFoundError(f"{download_url} was downloaded, but {str(root)!r} is not in it")
    return located
