"""The exercise kit's notebook, executed in both kits on a few hundred CIFAR-10 images."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from barenet.exercise import write_kit

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
NOTEBOOK = "1_neural_networks.ipynb"


@pytest.fixture(scope="module")
def small_cifar10(tmp_path_factory) -> Path:
    """A zip of PER_CLASS training and a few test images per class, taken from the real one."""
    if not CIFAR_ZIP.is_file():
        pytest.skip(f"the CIFAR-10 zip is not at {CIFAR_ZIP}")
    target = tmp_path_factory.mktemp("data") / "cifar10-small.zip"
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


def execute(kit: Path, data: Path, monkeypatch, cache: Path):
    """Run the kit's notebook in the kit's folder; return the notebook and its text output."""
    monkeypatch.setenv("CIFAR10_PATH", str(data))
    monkeypatch.setenv("IMAGE_LIMIT", "0")
    monkeypatch.setenv("BARENET_CACHE_DIR", str(cache))
    nb = nbformat.read(kit / NOTEBOOK, as_version=4)
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


def test_kit_notebook_has_no_outputs():
    kit_notebook = ROOT / "src" / "barenet" / "exercise" / "kits" / "neural_networks" / NOTEBOOK
    nb = nbformat.read(kit_notebook, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
