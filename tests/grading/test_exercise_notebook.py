"""The exercise kit's notebook, executed in both kits on a few hundred CIFAR-10 images."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from kit_notebooks import PER_CLASS, run_notebook, small_cifar10_zip

from barenet.exercise import write_kit
from barenet.exercise.catalog import EXERCISES

NOTEBOOK = "1_neural_networks.ipynb"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_cifar10(tmp_path_factory) -> Path:
    return small_cifar10_zip(tmp_path_factory.mktemp("data"))


def execute(kit: Path, data: Path, monkeypatch, cache: Path):
    return run_notebook(kit, data, monkeypatch, cache, NOTEBOOK)


def test_notebook_runs_in_the_solution_kit(tmp_path, monkeypatch, small_cifar10):
    kit = write_kit(tmp_path / "solution", solutions=True)
    nb, text, error = execute(kit, small_cifar10, monkeypatch, tmp_path / "cache")
    assert error is None, error
    assert f"{8 * PER_CLASS} training and {2 * PER_CLASS} validation images" in text
    assert "automobile" in text  # CIFAR-10, not the digits
    assert text.count("Score: 100/100") == 4 and "You secured a score of: 100" in text
    loss = float(re.search(r"untrained loss: (\d+\.\d+)", text).group(1))
    assert loss == pytest.approx(2.3026, abs=0.01)
    assert re.search(r"all 50,000 images at once: \d+\.\d+[KMGT]?B", text)
    assert float(re.search(r"best training accuracy: ([\d.]+)%", text).group(1)) >= 90
    for name in ("SGD", "SGD \\+ momentum", "Adam"):
        assert re.search(rf"^{name}\s+final training loss \d", text, re.MULTILINE)
    assert "Adding folder models/ (1 file)" in text
    assert f"Adding notebook {NOTEBOOK}" in text
    with zipfile.ZipFile(kit / "exercise05.zip") as archive:
        assert "models/NN.p" in archive.namelist()
    pictures = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert pictures >= 3  # samples, overfitting curves, optimizer comparison


def test_notebook_stops_at_the_first_unwritten_layer_in_the_starter_kit(tmp_path, monkeypatch):
    # Offline, on the bundled digits: the data cell's third way.
    monkeypatch.setenv("USE_DIGITS", "1")
    kit = write_kit(tmp_path / "starter")
    _, text, error = execute(kit, tmp_path / "no-cifar10", monkeypatch, tmp_path / "cache")
    assert "Note: using scikit-learn's 8x8 digits instead of CIFAR-10." in text
    assert "image shape: (8, 8, 1)" in text
    assert error is not None
    assert (
        "affine_forward is not implemented yet: write it in exercise_code/networks/layer.py"
        in str(error)
    )
    # the three layer tests ran before it stopped
    assert text.count("Score: 0/100") == 3 and "not implemented yet" in text
    assert "untrained loss" not in text


@pytest.mark.parametrize("exercise", list(EXERCISES.values()), ids=list(EXERCISES))
def test_kit_notebook_has_no_outputs(exercise):
    kits = ROOT / "src" / "barenet" / "exercise" / "kits"
    nb = nbformat.read(kits / exercise.folder / exercise.notebook, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
