"""Decoding image files (Pillow, RGB) straight into a cache array, in parallel.

Decoding is the slow step of an image pipeline (about 0.1 ms per 32x32 JPEG,
mostly Pillow's per-file overhead), so it is done once, by a pool of worker
processes that each open the folder or zip themselves and write their rows
into the memory-mapped cache file: no image data crosses a process boundary.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
import warnings
import zipfile
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from barenet.progress import progress_bar

from .image_files import ImageRoot

#: Images per task: large enough to amortise a task, small enough to balance.
CHUNK_SIZE = 1000

#: Images per extra worker process: each one costs a start and (for a zip) a
#: read of the zip's member list, about 0.5 s for CIFAR-10's 60,000 members.
MIN_IMAGES_PER_WORKER = 5000

#: What Pillow raises for a corrupt, truncated or unsupported image.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)


@dataclass(frozen=True)
class BadImage:
    """An image that could not be used: its file and the reason."""

    file: str
    reason: str


class ImageReader:
    """Reads the bytes of image files from a folder or a zip (one per process).

    Parameters
    ----------
    root : ImageRoot
    archive : zipfile.ZipFile, optional
        The zip of ``root``, already open (it stays open on ``close``); else
        the reader opens its own.
    """

    def __init__(self, root: ImageRoot, archive: zipfile.ZipFile | None = None) -> None:
        self.root = root
        self._owns_archive = root.is_zip and archive is None
        self._archive = zipfile.ZipFile(root.container) if self._owns_archive else archive

    def read(self, file: str) -> bytes:
        """The raw bytes of ``file`` (a zip member name or a path relative to the folder)."""
        if self._archive is not None:
            return self._archive.read(file)
        return (self.root.container / file).read_bytes()

    def describe(self, file: str) -> str:
        """A path a user can find: ``folder/file`` or ``archive.zip/member``."""
        return str(self.root.container / file)

    def close(self) -> None:
        if self._owns_archive:
            self._archive.close()


def decode_rgb(data: bytes) -> np.ndarray:
    """Decode one image file's bytes into an RGB array.

    Returns
    -------
    np.ndarray of uint8, shape (H, W, 3)
    """
    with Image.open(io.BytesIO(data)) as image:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        width, height = rgb.size
        return np.frombuffer(rgb.tobytes(), dtype=np.uint8).reshape(height, width, 3)


def probe_shape(reader: ImageReader, files: list[str]) -> tuple[int, int, int]:
    """The ``(H, W, 3)`` of the first image that decodes, which all others must match."""
    for file in files:
        try:
            return decode_rgb(reader.read(file)).shape
        except DECODE_ERRORS:
            continue
    raise ValueError(f"none of the {len(files)} image files in {reader.root} can be decoded")


def decode_into(
    reader: ImageReader,
    files: list[str],
    out: np.ndarray,
    start: int = 0,
) -> list[tuple[int, BadImage]]:
    """Decode ``files`` into rows ``start, start + 1, ...`` of ``out``.

    Parameters
    ----------
    reader : ImageReader
    files : list of str
    out : np.ndarray of uint8, shape (N, H, W, 3)
        The whole cache array; rows of bad images are left as they were.
    start : int
        Row of ``files[0]``.

    Returns
    -------
    list of (int, BadImage)
        Row and reason of every image that is corrupt or of another size.
    """
    expected = out.shape[1:]
    bad = []
    for row, file in enumerate(files, start):
        try:
            image = decode_rgb(reader.read(file))
        except DECODE_ERRORS as error:
            bad.append((row, BadImage(reader.describe(file), f"cannot be decoded ({error})")))
            continue
        if image.shape != expected:
            reason = (
                f"is {image.shape[1]}x{image.shape[0]} pixels, but the images before it are "
                f"{expected[1]}x{expected[0]}; all images must have one size"
            )
            bad.append((row, BadImage(reader.describe(file), reason)))
            continue
        out[row] = image
    return bad


def decode_all(
    reader: ImageReader,
    files: list[str],
    array_path: Path,
    out: np.ndarray,
    num_workers: int | None = None,
    progress: bool = True,
) -> list[tuple[int, BadImage]]:
    """Decode every file into ``out`` (the memory map of ``array_path``), in parallel.

    Parameters
    ----------
    reader : ImageReader
        Used in this process; worker processes open the same root themselves.
    files : list of str, length N
    array_path : Path
        The ``.npy`` file behind ``out``; workers map it themselves.
    out : np.ndarray of uint8, shape (N, H, W, 3)
    num_workers : int, optional
        Worker processes; None uses every available core (and none at all for
        a few thousand images), 0 or 1 decodes in this process.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    list of (int, BadImage)
        The bad images, sorted by row.
    """
    workers = _worker_count(num_workers, len(files))
    quick = len(files) < CHUNK_SIZE  # a bar for a fraction of a second is only noise
    bar = progress_bar(
        total=len(files), desc="Decoding images", unit="img", enabled=progress and not quick
    )
    with bar:
        if workers <= 1:
            return _decode_here(reader, files, out, bar)
        return _decode_in_pool(reader.root, files, array_path, workers, bar)


def _worker_count(requested: int | None, num_files: int) -> int:
    if requested is not None:
        if isinstance(requested, bool) or not isinstance(requested, int) or requested < 0:
            raise ValueError(f"num_workers must be a non-negative int or None, got {requested!r}")
        return requested
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, num_files // MIN_IMAGES_PER_WORKER))


def _decode_here(
    reader: ImageReader, files: list[str], out: np.ndarray, bar: tqdm
) -> list[tuple[int, BadImage]]:
    bad = []
    for start in range(0, len(files), CHUNK_SIZE):
        chunk = files[start : start + CHUNK_SIZE]
        bad += decode_into(reader, chunk, out, start)
        bar.update(len(chunk))
    return bad


def _decode_in_pool(
    root: ImageRoot, files: list[str], array_path: Path, workers: int, bar: tqdm
) -> list[tuple[int, BadImage]]:
    bad = []
    with (
        warnings.catch_warnings(),
        ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_process_context(),
            initializer=_start_worker,
            initargs=(root, array_path),
        ) as pool,
    ):
        # Python >= 3.12 warns when a threaded process forks (a thread may hold a lock the
        # child then needs). The children only read image files and write their own rows.
        warnings.filterwarnings("ignore", "This process .* use of fork", DeprecationWarning)
        tasks: list[Future] = [
            pool.submit(_decode_chunk, files[start : start + CHUNK_SIZE], start)
            for start in range(0, len(files), CHUNK_SIZE)
        ]
        try:
            for task in tasks:
                chunk_bad, count = task.result()
                bad += chunk_bad
                bar.update(count)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise
    return sorted(bad, key=lambda pair: pair[0])


def _process_context() -> multiprocessing.context.BaseContext:
    """'fork' on Linux: quick to start and needs no ``if __name__ == '__main__'`` guard."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


# State of one worker process: its own zip handle and memory map (set by _start_worker).
_worker: dict[str, object] = {}


def _start_worker(root: ImageRoot, array_path: Path) -> None:
    _worker["reader"] = ImageReader(root)
    _worker["out"] = np.load(array_path, mmap_mode="r+")


def _decode_chunk(files: list[str], start: int) -> tuple[list[tuple[int, BadImage]], int]:
    out = _worker["out"]
    bad = decode_into(_worker["reader"], files, out, start)
    out.flush()
    return bad, len(files)
