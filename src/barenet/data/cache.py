"""The on-disk cache of decoded images: one raw ``.npy`` array plus JSON metadata.

A cache entry named ``<stem>`` is two files in one folder:

- ``<stem>.<build id>.npy``: the ``uint8`` images ``(N, H, W, 3)``, memory-mapped on load;
- ``<stem>.json``: the key of the source data, the array file's name, shape and
  size in bytes, the labels, the class names and the file list.

Both are written under temporary names and renamed into place, the JSON last:
the JSON is the only pointer to an array file, so an interrupted build (or two
builds racing) can never pair metadata with a half-written or foreign array.
A truncated array file is caught by its size and the entry is rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from barenet.io import remove_stale_temporaries, temporary_path, write_text_atomically

#: Environment variable that moves every barenet cache (decoded arrays, downloads).
CACHE_DIR_ENV = "BARENET_CACHE_DIR"

#: Bumped whenever the layout of a cache entry changes, which invalidates old entries.
CACHE_FORMAT = 1

#: Name of the cache folder created next to the data.
LOCAL_CACHE_FOLDER = ".barenet-cache"


def user_cache_dir() -> Path:
    """barenet's cache folder: ``$BARENET_CACHE_DIR``, else the platformdirs user cache."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("barenet"))


def choose_cache_dir(cache_dir: str | os.PathLike | None, data_parent: Path) -> Path:
    """Where a dataset's decoded cache goes (the folder is created only when written).

    In order: the ``cache_dir`` argument, ``$BARENET_CACHE_DIR``, a
    ``.barenet-cache`` folder next to the data if that place is writable, and
    otherwise the platformdirs user cache (e.g. for data in a read-only folder).
    """
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get(CACHE_DIR_ENV):
        return user_cache_dir()
    local = data_parent / LOCAL_CACHE_FOLDER
    if is_writable_folder(local if local.is_dir() else data_parent):
        return local
    return user_cache_dir() / "images"


def is_writable_folder(folder: Path) -> bool:
    """Whether barenet may create files in ``folder``.

    A folder whose mode grants nobody write access counts as read-only even
    for root (which ``os.access`` would let through): it was made read-only
    on purpose.
    """
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & 0o222) and os.access(folder, os.W_OK)


def cache_stem(name: str, identity: str) -> str:
    """A file-name-safe stem: a readable ``name`` plus a hash of ``identity``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:60] or "data"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return f"{slug}-{digest}"


@dataclass
class CachedImages:
    """A loaded cache entry.

    Attributes
    ----------
    images : np.ndarray of uint8, shape (N, H, W, 3)
        Memory-mapped (read-only) when loaded from disk.
    labels : np.ndarray of int64, shape (N,)
    meta : dict
        The JSON metadata (key, classes, files, ...).
    """

    images: np.ndarray
    labels: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


def load_cache(
    cache_dir: Path, stem: str, accept: Callable[[dict[str, Any]], bool]
) -> CachedImages | None:
    """Memory-map the cache entry ``stem``, or return None if it is missing or invalid.

    ``accept(meta)`` decides whether the entry's key still matches the data;
    the array file must also exist, have the recorded size and shape.
    """
    meta = _read_meta(cache_dir / f"{stem}.json")
    if meta is None or meta.get("format") != CACHE_FORMAT or not accept(meta):
        return None
    array_path = cache_dir / str(meta.get("array_file", ""))
    try:
        if array_path.stat().st_size != meta["array_bytes"]:
            return None  # truncated or overwritten: rebuild
        images = np.load(array_path, mmap_mode="r", allow_pickle=False)
        labels = np.asarray(meta["labels"], dtype=np.int64)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if list(images.shape) != meta.get("shape") or images.dtype != np.uint8:
        return None
    if labels.shape != (len(images),):
        return None
    return CachedImages(images, labels, meta)


def write_meta(cache_dir: Path, stem: str, meta: dict[str, Any]) -> None:
    """Atomically (re)write the JSON metadata of entry ``stem``."""
    write_text_atomically(cache_dir / f"{stem}.json", json.dumps(meta))


def _read_meta(path: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


class CacheWriter:
    """Builds a cache entry: fill ``array`` (or the file at ``path``), then ``commit``.

    Use as a context manager: leaving the block without ``commit`` (an error,
    Ctrl-C) deletes the temporary array file.

    Parameters
    ----------
    cache_dir : Path
        The folder of the entry (created if missing).
    stem : str
        The entry's name.
    shape : tuple of int
        ``(N, H, W, 3)``, the shape of the ``uint8`` array to fill.

    Attributes
    ----------
    path : Path
        The temporary ``.npy`` file; worker processes may open it with
        ``np.load(path, mmap_mode='r+')`` and write their rows.
    array : np.memmap of uint8, shape ``shape``
        The same file, mapped in this process.
    """

    def __init__(self, cache_dir: Path, stem: str, shape: tuple[int, ...]) -> None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.cache_dir = cache_dir
        self.stem = stem
        self.build_id = uuid.uuid4().hex[:12]
        # Builds killed before their commit leave temporary arrays: clear those first.
        remove_stale_temporaries(self._array_name())
        self.path = temporary_path(self._array_name())
        self.array = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.uint8, shape=shape)
        self._committed = False

    def _array_name(self) -> Path:
        """The name the temporary array files of this entry derive from."""
        return self.cache_dir / f"{self.stem}.npy"

    def __enter__(self) -> CacheWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self._committed:
            self.abort()

    def abort(self) -> None:
        """Drop the temporary array file."""
        self.array = None  # close the mapping before deleting the file
        self.path.unlink(missing_ok=True)

    def commit(
        self, labels: np.ndarray, meta: dict[str, Any], keep: np.ndarray | None = None
    ) -> CachedImages:
        """Rename the array into place, then write the metadata that points to it.

        Parameters
        ----------
        labels : np.ndarray of int, shape (N,) or (len(keep),)
            Labels of the rows that are kept.
        meta : dict
            JSON-serialisable metadata, including the ``key`` checked on load.
        keep : np.ndarray of int, optional
            Rows to keep (e.g. without the images that failed to decode);
            None keeps all.

        Returns
        -------
        CachedImages
            The committed entry, memory-mapped from its final file.
        """
        self.array.flush()
        if keep is not None:
            self._compact(keep)
        final = self.cache_dir / f"{self.stem}.{self.build_id}.npy"
        os.replace(self.path, final)
        self.array = None
        full_meta = {
            **meta,
            "format": CACHE_FORMAT,
            "array_file": final.name,
            "array_bytes": final.stat().st_size,
            "shape": list(np.load(final, mmap_mode="r").shape),
            "labels": np.asarray(labels, dtype=np.int64).tolist(),
        }
        write_meta(self.cache_dir, self.stem, full_meta)  # last: this makes the entry valid
        self._committed = True
        images = np.load(final, mmap_mode="r")  # ours, even if a concurrent build won the JSON
        self._remove_unreferenced_arrays()
        return CachedImages(images, np.asarray(full_meta["labels"], np.int64), full_meta)

    def _compact(self, keep: np.ndarray) -> None:
        """Rewrite the temporary array with only the rows in ``keep``."""
        compact_path = temporary_path(self._array_name())
        compact = np.lib.format.open_memmap(
            compact_path, mode="w+", dtype=np.uint8, shape=(len(keep), *self.array.shape[1:])
        )
        compact[:] = self.array[keep]
        compact.flush()
        del compact
        self.array = None
        os.replace(compact_path, self.path)

    def _remove_unreferenced_arrays(self) -> None:
        """Delete array files of this entry that its JSON does not point to (best effort)."""
        meta = _read_meta(self.cache_dir / f"{self.stem}.json") or {}
        for old in self.cache_dir.glob(f"{glob_escape(self.stem)}.*.npy"):
            if old.name != meta.get("array_file"):
                with contextlib.suppress(OSError):  # e.g. still mapped on Windows
                    old.unlink()


def glob_escape(text: str) -> str:
    """Escape the glob metacharacters of ``text``."""
    return re.sub(r"([*?\[])", r"[\1]", text)
