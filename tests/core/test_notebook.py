"""Run examples/neural_networks.ipynb top to bottom and check a few of its outputs."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from data_helpers import CIFAR_ZIP, REPO_ROOT
from nbclient import NotebookClient

NOTEBOOK = REPO_ROOT / "examples" / "neural_networks.ipynb"


def run_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: Path, limit: int):
    """Execute the notebook in ``tmp_path`` with the given data; return it and its text output."""
    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setenv("BARENET_NOTEBOOK_DATA", str(data))
    monkeypatch.setenv("BARENET_NOTEBOOK_LIMIT", str(limit))
    monkeypatch.setenv("BARENET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TMPDIR", str(work))  # the notebook's own temporary working folder
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    text = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                text.append(output.text)
            elif "text/plain" in output.get("data", {}):
                text.append(output.data["text/plain"])
    return nb, "\n".join(text), work


def count_png(nb) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )


def check_outputs(nb, text: str, work: Path) -> None:
    assert text.count("Score: 100/100") == 4  # the four wrappers
    assert "You secured a score of: 100" in text
    # barenet's own code, submitted as the example does, is not the learner's: refused.
    assert "Status: invalid-submission" in text and "uses barenet's reference code" in text
    loss = float(re.search(r"untrained loss: (\d+\.\d+)", text).group(1))
    assert loss == pytest.approx(2.3026, abs=0.01)
    best_train_acc = float(re.search(r"best training accuracy: ([\d.]+)%", text).group(1))
    assert best_train_acc >= 90.0
    assert re.search(r"50,000 images at once: \d+\.\d+[KMGT]?B", text)
    for name in ("SGD ", "SGD + momentum", "Adam"):
        assert re.search(rf"^{re.escape(name)}\s*training loss \d", text, re.MULTILINE)
    assert count_png(nb) >= 3  # sample images, overfitting curves, optimizer comparison
    # Everything written went to the notebook's temporary folder.
    (folder,) = work.glob("barenet-notebook-*")
    with zipfile.ZipFile(folder / "exercise_submission.zip") as archive:
        assert "models/NN.p" in archive.namelist()
    assert (folder / "overfit.png").is_file()


def test_notebook_runs_on_cifar10(tmp_path, monkeypatch):
    if not CIFAR_ZIP.is_file():
        pytest.skip(f"the CIFAR-10 zip is not at {CIFAR_ZIP}")
    nb, text, work = run_notebook(tmp_path, monkeypatch, CIFAR_ZIP, limit=300)
    check_outputs(nb, text, work)
    assert "automobile" in text  # the CIFAR-10 classes, not the digits


def test_notebook_runs_offline_on_digits(tmp_path, monkeypatch):
    nb, text, work = run_notebook(tmp_path, monkeypatch, tmp_path / "missing.zip", limit=300)
    check_outputs(nb, text, work)
    assert "none found, using the digits" in text


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
