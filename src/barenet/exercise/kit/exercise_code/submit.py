"""``submit_exercise``: the zip you hand in, with ``models/`` and your notebook."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

SKIPPED = {"__pycache__", ".ipynb_checkpoints"}


def _files(folder: Path) -> list[Path]:
    """The files below ``folder``, without caches and checkpoints, sorted."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        found += [Path(root) / name for name in sorted(names)]
    return found


def submit_exercise(
    zip_output_filename: str,
    data_path: str | os.PathLike = ".",
    relevant_folders: tuple[str, ...] = ("models",),
) -> Path:
    """Zip the relevant folders and the notebooks of ``data_path`` into ``<name>.zip``.

    Parameters
    ----------
    zip_output_filename : str
        The zip's name, without ``.zip``, e.g. ``'exercise05'``.
    data_path : str or PathLike
        The exercise folder: it holds ``models/`` and the notebook.
    relevant_folders : tuple of str
        Folders to include, relative to ``data_path``.

    Returns
    -------
    Path
        The zip, written into ``data_path``.

    Raises
    ------
    FileNotFoundError
        When a relevant folder is missing or empty: save your work with ``save_pickle`` first.
    """
    base = Path(data_path)
    entries = []
    for name in relevant_folders:
        files = _files(base / name) if (base / name).is_dir() else []
        if not files:
            raise FileNotFoundError(
                f"{base / name} holds no files: save your work with save_pickle(...) first"
            )
        entries += files
    notebooks = sorted(p.name for p in base.glob("*.ipynb"))
    print("relevant folders:", list(relevant_folders))
    print("notebooks files:", notebooks)
    zip_path = base / f"{zip_output_filename}.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for file in entries:
            archive.write(file, file.relative_to(base).as_posix())
        for notebook in notebooks:
            archive.write(base / notebook, notebook)
    print(f"Zipped {len(entries) + len(notebooks)} files into {zip_path.resolve()}")
    return zip_path


__all__ = ["submit_exercise"]
