"""Finding the ``train/`` and ``test/`` folders of an image dataset, in a folder or a zip."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path


def find_split_folders(path: str | os.PathLike) -> tuple[str, str] | None:
    """``(train_root, test_root)`` when ``path`` (a folder or a ``.zip``) holds ``train/``
    and ``test/`` folders, at its top or one level down; else None."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            folders = {
                name.rsplit("/", 2)[0] + "/" for name in archive.namelist() if name.count("/") >= 2
            }
        for prefix in sorted({f[: -len("train/")] for f in folders if f.endswith("train/")}):
            if prefix.count("/") <= 1 and prefix + "test/" in folders:
                return f"{path}/{prefix}train", f"{path}/{prefix}test"
        return None
    for base in [path, *sorted(p for p in path.iterdir() if p.is_dir())] if path.is_dir() else []:
        if (base / "train").is_dir() and (base / "test").is_dir():
            return str(base / "train"), str(base / "test")
    return None
