"""Helpers for running an exercise kit's notebook on a few hundred CIFAR-10 images."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[2]
#: The real CIFAR-10 JPEG zip, next to the project (read only); a checkout in a
#: sub-folder of the project's parent looks one level further up.
CIFAR_ZIP = next(
    (
        base / "shared" / "data" / "cifar10-jpg.zip"
        for base in (ROOT.parent, ROOT.parent.parent)
        if (base / "shared" / "data" / "cifar10-jpg.zip").is_file()
    ),
    ROOT.parent / "shared" / "data" / "cifar10-jpg.zip",
)
PER_CLASS = 40


def small_cifar10_zip(folder: Path) -> Path:
    """A zip of PER_CLASS training and a few test images per class, taken from the real one."""
    if not CIFAR_ZIP.is_file():
        pytest.skip(f"the CIFAR-10 zip is not at {CIFAR_ZIP}")
    target = folder / "cifar10-small.zip"
    counts: dict[tuple[str, str], int] = {}
    with zipfile.ZipFile(CIFAR_ZIP) as source, zipfile.ZipFile(target, "w") as small:
        for name in source.namelist():
            parts = name.split("/")  # cifar10/<split>/<class>/<nnnn>.jpg
            if len(parts) != 4 or not parts[3]:
                continue
            key = (parts[1], parts[2])
            if counts.get(key, 0) < (PER_CLASS if parts[1] == "train" else 5):
                counts[key] = counts.get(key, 0) + 1
                small.writestr(name, source.read(name))
    return target


def run_notebook(kit: Path, data: Path, monkeypatch, cache: Path, notebook: str):
    """Run the kit's ``notebook`` in the kit's folder; return it, its text output, its error."""
    monkeypatch.setenv("CIFAR10_PATH", str(data))
    monkeypatch.setenv("IMAGE_LIMIT", "0")
    monkeypatch.setenv("BARENET_CACHE_DIR", str(cache))
    nb = nbformat.read(kit / notebook, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(kit)}}
    )
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = exc
    text = "\n".join(
        output.get("text", "") or output.get("data", {}).get("text/plain", "")
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )
    return nb, text, error
