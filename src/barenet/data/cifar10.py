"""CIFAR-10 from the official ``cifar-10-python.tar.gz``, decoded once into the cache."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np

from .base import ArrayDataset, Transform
from .cache import (
    CachedImages,
    CacheWriter,
    cache_stem,
    choose_cache_dir,
    load_cache,
    user_cache_dir,
)
from .download import download, file_sha256, filename_from_url, validate_sha256

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"

#: Environment variables that point barenet at a mirror of the archive.
URL_ENV = "BARENET_CIFAR10_URL"
SHA256_ENV = "BARENET_CIFAR10_SHA256"

BATCH_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{number}" for number in range(1, 6))
TEST_BATCHES = ("test_batch",)
META_FILE = "batches.meta"


class CIFAR10(ArrayDataset):
    """CIFAR-10: 50,000 training or 10,000 test images, 32x32 RGB, 10 classes.

    The archive is downloaded (tqdm bar, SHA-256 checked) into ``root``, its
    batches are decoded once into a ``uint8`` cache file and memory-mapped on
    every later load, as for ``ImageFolderDataset``. The batches are pickles:
    they are read only after the archive's SHA-256 matched, and with an
    unpickler that can build nothing but NumPy arrays.

    Parameters
    ----------
    root : path, optional
        Folder of the archive; default ``$BARENET_CACHE_DIR/cifar10``, else the
        platformdirs user cache.
    train : bool
        The 50,000 training images (True) or the 10,000 test images.
    download : bool
        Download the archive if it is missing (else raise ``FileNotFoundError``).
    transform : callable, optional
        Applied to one image ``(32, 32, 3)`` or a batch ``(B, 32, 32, 3)``.
    url, sha256 : str, optional
        A mirror and its archive's SHA-256; default ``$BARENET_CIFAR10_URL`` and
        ``$BARENET_CIFAR10_SHA256``, else the official ones.
    cache_dir : path, optional
        Folder of the decoded cache (see ``ImageFolderDataset``).
    progress : bool
        Show the download progress bar.

    Attributes
    ----------
    images : np.ndarray of uint8, shape (N, 32, 32, 3)
        Memory-mapped.
    labels : np.ndarray of int64, shape (N,)
    classes : list of str
        From the archive's ``batches.meta`` (``'airplane'``, ...).
    class_to_idx : dict of str to int

    Raises
    ------
    DownloadError
        Offline, unreachable mirror, truncated download or wrong SHA-256.
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        download: bool = True,
        transform: Transform | None = None,
        *,
        url: str | None = None,
        sha256: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> None:
        url = url or os.environ.get(URL_ENV) or CIFAR10_URL
        sha256 = validate_sha256(sha256 or os.environ.get(SHA256_ENV) or CIFAR10_SHA256)
        folder = Path(root).expanduser() if root is not None else user_cache_dir() / "cifar10"
        archive = folder / filename_from_url(url)
        cached = _load_cifar10(archive, bool(train), url, sha256, download, cache_dir, progress)
        super().__init__(cached.images, cached.labels, transform)
        self.classes: list[str] = list(cached.meta["classes"])
        self.class_to_idx = {name: index for index, name in enumerate(self.classes)}
        self.train = bool(train)
        self.archive = archive


def _load_cifar10(
    archive: Path,
    train: bool,
    url: str,
    sha256: str,
    allow_download: bool,
    cache_dir: str | os.PathLike | None,
    progress: bool,
) -> CachedImages:
    directory = choose_cache_dir(cache_dir, archive.parent)
    part = "train" if train else "test"
    stem = cache_stem(f"cifar10-{part}", f"{archive.absolute()}:{part}")
    key = f"{sha256}:{part}"
    if archive.is_file():
        quick_key = _stat_key(archive)
        cached = load_cache(
            directory,
            stem,
            lambda meta: meta.get("key") == key and meta.get("quick_key") == quick_key,
        )
        if cached is not None:
            return cached
    if allow_download:
        hint = f"To use a mirror, set {URL_ENV} and {SHA256_ENV}."
        download(url, archive.parent, archive.name, sha256, progress, hint=hint)
    elif not archive.is_file():
        raise FileNotFoundError(
            f"CIFAR-10 archive {archive} not found: pass download=True, or download {url} "
            f"and save it there (SHA-256 {sha256})"
        )
    elif file_sha256(archive) != sha256:
        raise ValueError(
            f"the SHA-256 of {archive} is not {sha256}: the file is corrupt; delete it"
        )
    return _decode_archive(archive, train, directory, stem, key)


def _decode_archive(
    archive: Path, train: bool, directory: Path, stem: str, key: str
) -> CachedImages:
    """Unpickle the batches (the archive's SHA-256 already matched) into a cache entry."""
    names = TRAIN_BATCHES if train else TEST_BATCHES
    members = _read_members(archive, [*names, META_FILE])
    classes = _class_names(_unpickle(members[META_FILE], META_FILE))
    batches = [_batch_arrays(_unpickle(members[name], name), name, len(classes)) for name in names]
    del members
    labels = np.concatenate([batch_labels for _, batch_labels in batches])
    with CacheWriter(directory, stem, (len(labels), 32, 32, 3)) as writer:
        start = 0
        for rows, batch_labels in batches:
            size = len(batch_labels)
            # Rows are channel-first (3, 32, 32); barenet images are channels-last.
            channels_last = rows.reshape(size, 3, 32, 32).transpose(0, 2, 3, 1)
            writer.array[start : start + size] = channels_last
            start += size
        meta = {"key": key, "quick_key": _stat_key(archive), "classes": classes, "files": []}
        return writer.commit(labels, meta)


def _class_names(meta: dict) -> list[str]:
    names = meta.get(b"label_names")
    if not isinstance(names, list) or not names:
        raise ValueError(f"CIFAR-10 {META_FILE} has no 'label_names' list")
    return [_text(name) for name in names]


def _read_members(archive: Path, names: list[str]) -> dict[str, bytes]:
    """The bytes of ``cifar-10-batches-py/<name>`` for each name, in one pass over the tar."""
    wanted = {f"{BATCH_FOLDER}/{name}": name for name in names}
    found: dict[str, bytes] = {}
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if member.name in wanted and member.isfile():
                found[wanted[member.name]] = tar.extractfile(member).read()
    missing = sorted(set(names) - set(found))
    if missing:
        raise ValueError(f"{archive} is not a CIFAR-10 python archive: it lacks {missing}")
    return found


def _batch_arrays(batch: dict, name: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    data = batch.get(b"data")
    labels = np.asarray(batch.get(b"labels"), dtype=np.int64)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape[1:] != (3072,):
        raise ValueError(f"CIFAR-10 batch {name}: 'data' must be a (N, 3072) uint8 array")
    if (
        labels.shape != (len(data),)
        or labels.min(initial=0) < 0
        or labels.max(initial=0) >= num_classes
    ):
        raise ValueError(
            f"CIFAR-10 batch {name}: 'labels' must be {len(data)} ints in [0, {num_classes})"
        )
    return data, labels


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Builds dicts, lists, strings, numbers and NumPy arrays, and nothing else."""

    _allowed = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(1))[0],
        ("numpy._core.multiarray", "_reconstruct"): np.ndarray.__reduce__(np.zeros(1))[0],
        ("_codecs", "encode"): __import__("codecs").encode,  # bytes in protocol-2 pickles
    }

    def find_class(self, module: str, name: str) -> object:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from a CIFAR-10 batch"
            ) from None


def _unpickle(data: bytes, name: str) -> dict:
    try:
        loaded = _ArrayOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as error:
        raise ValueError(f"CIFAR-10 batch {name} cannot be read: {error}") from error
    if not isinstance(loaded, dict):
        raise ValueError(f"CIFAR-10 batch {name} is not a dict")
    return loaded


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _stat_key(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
