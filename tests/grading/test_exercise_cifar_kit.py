"""The CIFAR-10 classification kit end to end: its notebook searches, trains and writes
the submission, and the hidden-test-set grader grades that submission in the sandbox."""

from __future__ import annotations

import zipfile

import pytest
from kit_notebooks import run_notebook, small_cifar10_zip

from barenet.exercise import write_kit
from barenet.exercise.catalog import EXERCISES
from barenet.grading.classroom.hidden_test_set import load_hidden_test_set
from barenet.grading.classroom.model_grading import ModelGrading
from barenet.grading.sandbox.isolation import detect_isolation
from barenet.grading.sandbox.limits import Limits

EXERCISE = EXERCISES["cifar-classification"]


def test_the_kit_holds_the_course_search_api_and_the_submission_cell(tmp_path):
    kit = write_kit(tmp_path / "kit", exercise=EXERCISE.name)
    notebook = (kit / EXERCISE.notebook).read_text()
    for words in ("random_search(", "grid_search(", "findBestConfig", "patience=5"):
        assert words in notebook
    assert 'save_pickle({\\"cifar_fcn\\": model}, \\"cifar_fcn.p\\")' in notebook
    # the network travels with its own code: nothing of barenet in its module
    network = (kit / "exercise_code/networks/classification_net.py").read_text()
    layers = (kit / "exercise_code/networks/layer.py").read_text()
    assert "import barenet" not in network + layers and "from barenet" not in network + layers


@pytest.mark.skipif(
    not detect_isolation().active, reason="the hidden test set is graded only inside bubblewrap"
)
def test_the_notebook_writes_a_submission_the_grader_grades(tmp_path, monkeypatch):
    data = small_cifar10_zip(tmp_path)
    kit = write_kit(tmp_path / "kit", exercise=EXERCISE.name)
    monkeypatch.setenv("EPOCHS", "2")
    monkeypatch.setenv("NUM_SEARCH", "2")
    _, text, error = run_notebook(kit, data, monkeypatch, tmp_path / "cache", EXERCISE.notebook)
    assert error is None, error
    assert "validation accuracy:" in text and "models/cifar_fcn.p" in text
    with zipfile.ZipFile(kit / "exercise06.zip") as archive:
        assert "models/cifar_fcn.p" in archive.namelist()
    test_set = load_hidden_test_set(f"{data}/cifar10/test")
    grading = ModelGrading(test_set, Limits(timeout_s=60), detect_isolation())
    report = grading.grade(kit / "exercise06.zip")
    assert report.status == "graded", report.reason  # loaded without barenet, in the sandbox
    assert report.num_images == 50 and 0 <= report.accuracy <= 1


def test_save_pickle_names_the_model_without_warnings(tmp_path, capsys):
    from barenet.grading import save_pickle

    save_pickle({"cifar_fcn": [1, 2]}, "cifar_fcn.p", directory=tmp_path / "models")
    out = capsys.readouterr().out
    assert "holds: cifar_fcn (the model of the CIFAR-10 classification exercise)" in out
    assert "Warning" not in out
