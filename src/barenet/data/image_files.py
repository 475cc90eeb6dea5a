"""Finding the image files of a ``root/<class>/<image>`` tree, in a folder or a zip.

A root is a folder, a ``.zip`` file, or a folder inside a zip written as a path
through it (``data/cifar10-jpg.zip/cifar10/train``). Classes are the sorted
names of the sub-folders that hold images directly; a root made of a single
wrapping folder (``archive.zip`` holding ``mydata/<class>/...``) is looked
through. Hidden files and folders (``.name``, ``__MACOSX``) are ignored.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: File name endings read as images (compared in lower case).
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".pgm", ".tif", ".tiff", ".webp"}
)


@dataclass(frozen=True)
class ImageRoot:
    """Where the images are.

    Attributes
    ----------
    container : Path
        The folder, or the ``.zip`` file.
    inner : str
        For a zip, the folder inside it (posix, no trailing slash; '' = top).
    is_zip : bool
    """

    container: Path
    inner: str = ""
    is_zip: bool = False

    def __str__(self) -> str:
        return str(self.container / self.inner) if self.inner else str(self.container)


@dataclass(frozen=True)
class ImageListing:
    """The images of a root, sorted by class then file name.

    Attributes
    ----------
    root : ImageRoot
        Narrowed to the folder that holds the class folders.
    classes : list of str
        Sorted class names; the label of class ``classes[i]`` is ``i``.
    files : list of str, length N
        Paths relative to the folder (dir root) or zip member names (zip root).
    labels : list of int, length N
    key : str
        SHA-256 over the files' names, sizes and modification times (zip:
        names, sizes and CRC-32 of the members): any change to an image changes it.
    """

    root: ImageRoot
    classes: list[str]
    files: list[str]
    labels: list[int]
    key: str


def locate_root(root: str | os.PathLike) -> ImageRoot | None:
    """Resolve ``root`` to a folder, a zip, or a folder inside a zip; None if missing."""
    path = Path(root).expanduser().absolute()
    if path.is_dir():
        return ImageRoot(path)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"root must be a folder of class folders or a .zip of one, got the file {path}"
            )
        return ImageRoot(path, "", is_zip=True)
    for parent in path.parents:
        if parent.is_file():
            if not zipfile.is_zipfile(parent):
                return None
            return ImageRoot(parent, path.relative_to(parent).as_posix(), is_zip=True)
    return None


def list_images(root: ImageRoot, archive: zipfile.ZipFile | None = None) -> ImageListing:
    """List the class folders and images of ``root``.

    For a zip root, ``archive`` may be the zip already opened (reading a zip's
    member list is the slow part for 60,000 members).

    Raises
    ------
    ValueError
        If ``root`` holds no class folders with images; the message says what
        it holds instead (e.g. ``train/`` and ``test/`` folders to pick from).
    """
    if root.is_zip:
        if archive is None:
            with zipfile.ZipFile(root.container) as opened:
                return list_images(root, opened)
        members = _zip_members(archive, root.inner)
        inner, classes, chosen = _find_class_level(lambda level: _below(members, level), str(root))
    else:
        inner, classes, chosen = _find_class_level(
            lambda level: _scan_folder(root.container / level), str(root)
        )
    files = [path for path, _ in chosen]
    labels = [classes.index(path.split("/")[0]) for path in files]
    signature = "\n".join(f"{path}\0{stamp}" for path, stamp in chosen)
    key = hashlib.sha256(signature.encode()).hexdigest()
    if root.is_zip:
        narrowed = ImageRoot(root.container, _join(root.inner, inner), is_zip=True)
        files = [_join(narrowed.inner, path) for path in files]
    else:
        narrowed = ImageRoot(root.container / inner if inner else root.container)
    return ImageListing(narrowed, classes, files, labels, key)


def _zip_members(archive: zipfile.ZipFile, inner: str) -> dict[str, str]:
    """``{path relative to inner: 'size:crc'}`` for the visible files below ``inner``."""
    prefix = f"{inner}/" if inner else ""
    members = {}
    for info in archive.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        relative = info.filename[len(prefix) :]
        if _is_visible(relative):
            members[relative] = f"{info.file_size}:{info.CRC}"
    return members


def _below(members: dict[str, str], level: str) -> tuple[dict[str, str], set[str]]:
    """The two-level view of zip ``members`` below folder ``level`` (see ``_scan_folder``)."""
    prefix = f"{level}/" if level else ""
    files, folders = {}, set()
    for path, stamp in members.items():
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        if len(parts) > 1:
            folders.add(parts[0])
        if len(parts) == 2:
            files["/".join(parts)] = stamp
    return files, folders


def _scan_folder(folder: Path) -> tuple[dict[str, str], set[str]]:
    """Files one folder down (``{'<sub>/<file>': 'size:mtime_ns'}``) and the sub-folders."""
    files, folders = {}, set()
    with os.scandir(folder) as top:
        subfolders = [entry for entry in top if _is_visible(entry.name) and entry.is_dir()]
    for sub in subfolders:
        folders.add(sub.name)
        with os.scandir(sub.path) as scan:
            for entry in scan:
                if _is_visible(entry.name) and entry.is_file():
                    stat = entry.stat()
                    files[f"{sub.name}/{entry.name}"] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return files, folders


def _find_class_level(
    scan: Callable[[str], tuple[dict[str, str], set[str]]], where: str
) -> tuple[str, list[str], list[tuple[str, str]]]:
    """Find the folder level that holds ``<class>/<image>``.

    ``scan(level)`` gives the files one folder below ``level`` and its
    sub-folders. Returns the wrapping folders looked through (posix, '' if
    none), the sorted classes and the sorted ``(path relative to that level,
    stamp)`` pairs.
    """
    inner = ""
    while True:
        files, folders = scan(inner)
        by_class: dict[str, list[tuple[str, str]]] = {}
        for path, stamp in files.items():
            if _is_image(path):
                by_class.setdefault(path.split("/")[0], []).append((path, stamp))
        if by_class:
            classes = sorted(by_class)
            chosen = [pair for name in classes for pair in sorted(by_class[name])]
            return inner, classes, chosen
        if len(folders) != 1:
            raise ValueError(_no_classes_message(where, inner, folders))
        inner = _join(inner, folders.pop())


def _no_classes_message(where: str, inner: str, folders: set[str]) -> str:
    location = f"{where}/{inner}" if inner else where
    if not folders:
        return f"root must be a folder of class folders holding images, but {location} has none"
    names = ", ".join(sorted(folders)[:5])
    example = "train" if "train" in folders else sorted(folders)[0]
    return (
        f"root must be a folder of class folders holding images, but the folders in "
        f"{location} ({names}) hold no images directly; if they are splits, pass one of "
        f"them as root, e.g. root='{location}/{example}'"
    )


def _is_visible(relative: str) -> bool:
    return not any(part.startswith(".") or part == "__MACOSX" for part in relative.split("/"))


def _is_image(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _join(left: str, right: str) -> str:
    return f"{left}/{right}" if left and right else left or right
