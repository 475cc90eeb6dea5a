"""Decode an image root once into the cache, and memory-map it on every later load."""

from __future__ import annotations

import contextlib
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np

from .cache import CachedImages, CacheWriter, cache_stem, choose_cache_dir, load_cache, write_meta
from .decode import ImageReader, decode_all, probe_shape
from .image_files import ImageListing, ImageRoot, list_images

#: Accepted values of ``on_bad_image``.
ON_BAD_IMAGE = ("raise", "skip")


class BadImageError(ValueError):
    """An image file is corrupt, unreadable or of another size than the others."""


def load_image_cache(
    root: ImageRoot,
    cache_dir: str | os.PathLike | None = None,
    on_bad_image: str = "raise",
    num_workers: int | None = None,
    progress: bool = True,
) -> CachedImages:
    """The decoded images of ``root``: memory-mapped from the cache, decoded on a miss.

    The cache entry is valid while its key matches the image files (names,
    sizes and modification times; for a zip, the members' names, sizes and
    CRC-32). For a zip, an unchanged size and modification time of the zip
    itself is taken as proof that nothing changed, so a reload does not even
    read the zip's member list.

    Parameters
    ----------
    root : ImageRoot
    cache_dir : path, optional
        See ``choose_cache_dir``.
    on_bad_image : {'raise', 'skip'}
        'raise': a corrupt or differently-sized image raises ``BadImageError``
        naming the file; 'skip': such images are left out with a warning.
    num_workers, progress
        See ``decode_all``.

    Returns
    -------
    CachedImages
        ``images`` (N, H, W, 3) uint8 memory map, ``labels`` (N,) int64, and
        ``meta`` with ``classes``, ``files`` and ``skipped``.
    """
    if on_bad_image not in ON_BAD_IMAGE:
        raise ValueError(f"on_bad_image must be 'raise' or 'skip', got {on_bad_image!r}")
    directory = choose_cache_dir(cache_dir, root.container.parent)
    readable = f"{root.container.stem}-{root.inner}" if root.is_zip else root.container.name
    stem = cache_stem(readable, str(root))
    quick_key = _quick_key(root)
    cached = None
    if quick_key is not None:  # an unchanged zip: no need to read its member list
        cached = load_cache(directory, stem, lambda meta: meta.get("quick_key") == quick_key)
    if cached is None:
        cached = _load_or_decode(
            root, directory, stem, quick_key, on_bad_image, num_workers, progress
        )
    _report_skipped(cached.meta.get("skipped", []), on_bad_image)
    return cached


def _load_or_decode(
    root: ImageRoot,
    directory: Path,
    stem: str,
    quick_key: dict | None,
    on_bad_image: str,
    num_workers: int | None,
    progress: bool,
) -> CachedImages:
    """List the images; load the entry if its key matches them, else decode them."""
    with contextlib.ExitStack() as stack:
        # A zip is opened once here, for listing, probing and (serial) decoding.
        archive = stack.enter_context(zipfile.ZipFile(root.container)) if root.is_zip else None
        listing = list_images(root, archive)
        cached = load_cache(directory, stem, lambda meta: meta.get("key") == listing.key)
        if cached is not None:
            if quick_key is not None:  # e.g. the zip was copied: new time, same members
                cached.meta["quick_key"] = quick_key
                write_meta(directory, stem, cached.meta)
            return cached
        reader = ImageReader(listing.root, archive)
        stack.callback(reader.close)
        return _decode_to_cache(
            reader, listing, directory, stem, quick_key, on_bad_image, num_workers, progress
        )


def _quick_key(root: ImageRoot) -> dict | None:
    """For a zip: its size and modification time (a rewritten zip changes both)."""
    if not root.is_zip:
        return None
    stat = root.container.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "inner": root.inner}


def _decode_to_cache(
    reader: ImageReader,
    listing: ImageListing,
    directory: Path,
    stem: str,
    quick_key: dict | None,
    on_bad_image: str,
    num_workers: int | None,
    progress: bool,
) -> CachedImages:
    shape = probe_shape(reader, listing.files)
    with CacheWriter(directory, stem, (len(listing.files), *shape)) as writer:
        bad = decode_all(reader, listing.files, writer.path, writer.array, num_workers, progress)
        bad_rows = [row for row, _ in bad]
        keep = np.setdiff1d(np.arange(len(listing.files)), bad_rows) if bad else None
        files = np.asarray(listing.files)
        labels = np.asarray(listing.labels, dtype=np.int64)
        meta = {
            "key": listing.key,
            "quick_key": quick_key,
            "root": str(listing.root),
            "classes": listing.classes,
            "files": (files if keep is None else files[keep]).tolist(),
            "skipped": [[image.file, image.reason] for _, image in bad],
        }
        if on_bad_image == "raise":
            _report_skipped(meta["skipped"], on_bad_image)  # raises before anything is cached
        return writer.commit(labels if keep is None else labels[keep], meta, keep=keep)


def _report_skipped(skipped: list[list[str]], on_bad_image: str) -> None:
    """Raise (mode 'raise'), warn (mode 'skip'), or do nothing if all images were good."""
    if not skipped:
        return
    file, reason = skipped[0]
    more = f" (and {len(skipped) - 1} more bad images)" if len(skipped) > 1 else ""
    if on_bad_image == "skip":
        warnings.warn(
            f"skipped {len(skipped)} image files that cannot be used, e.g. {file} {reason}",
            stacklevel=3,
        )
    else:
        raise BadImageError(
            f"image file {file} {reason}{more}; fix or remove it, "
            "or pass on_bad_image='skip' (on the command line: --on-bad-image skip) "
            "to leave such files out"
        )
