"""The CIFAR-10 classification exercise graded on a hidden test set, in the real sandbox."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from data_helpers import build_cifar_subset
from model_submissions import (
    AlwaysFirstClass,
    ForgedResponse,
    LabelHunter,
    NotANumber,
    Raises,
    TwoLayerNet,
    WrongShape,
)

import barenet as bn
from barenet.app.cli import main as barenet_main
from barenet.grading import save_pickle
from barenet.grading.classroom.hidden_test_set import load_hidden_test_set
from barenet.grading.classroom.model_grading import CIFAR_MEAN, CIFAR_STD, ModelGrading
from barenet.grading.sandbox.isolation import detect_isolation
from barenet.grading.sandbox.limits import Limits

HIDDEN_NAME = "hidden-labels-5d1c"

pytestmark = pytest.mark.skipif(
    not detect_isolation().active, reason="the hidden test set is graded only inside bubblewrap"
)


@pytest.fixture(scope="module")
def cifar_subset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cifar")
    return build_cifar_subset(folder / "subset.zip", per_class=60, splits=("train", "test"))


@pytest.fixture(scope="module")
def hidden_test_set(cifar_subset, tmp_path_factory) -> Path:
    test = load_hidden_test_set(cifar_subset / "cifar10" / "test")
    path = tmp_path_factory.mktemp("private") / f"{HIDDEN_NAME}.npz"
    np.savez(path, images=test.images, labels=test.labels)
    return path


@pytest.fixture(scope="module")
def trained_params(cifar_subset) -> dict:
    """A two-layer net trained here on the subset's 600 training images."""
    transform = bn.ComposeTransform(
        [bn.RescaleTransform(), bn.NormalizeTransform(CIFAR_MEAN, CIFAR_STD), bn.FlattenTransform()]
    )
    train = bn.ImageFolderDataset(
        cifar_subset / "cifar10" / "train", transform, split=None, progress=False
    )
    net = bn.ClassificationNet(hidden_size=64, std="he", seed=0)
    loader = bn.DataLoader(train, batch_size=50, shuffle=True, seed=0)
    solver = bn.Solver(net, loader, loader, learning_rate=1e-3, verbose=False)
    solver.train(epochs=8)
    return {k: np.array(v) for k, v in net.params.items()}


def grading(test_set: Path) -> ModelGrading:
    return ModelGrading(load_hidden_test_set(test_set), Limits(timeout_s=60), detect_isolation())


def submission(folder: Path, model: object) -> Path:
    save_pickle({"cifar_fcn": model}, "cifar_fcn.p", directory=folder / "models")
    return folder


def expected_accuracy(params: dict, test_set: Path) -> float:
    """The net's accuracy computed here, with the kit's normalisation."""
    with np.load(test_set) as data:
        images, labels = data["images"], data["labels"]
    x = (images.astype(np.float32) / 255.0 - np.float32(CIFAR_MEAN)) / np.float32(CIFAR_STD)
    scores = TwoLayerNet(params).forward(x.reshape(len(x), -1))
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def test_a_trained_model_gets_the_accuracy_computed_here(tmp_path, hidden_test_set, trained_params):
    report = grading(hidden_test_set).grade(
        submission(tmp_path / "alice", TwoLayerNet(trained_params))
    )
    assert report.status == "graded", report.reason
    assert report.accuracy == expected_accuracy(trained_params, hidden_test_set)
    assert report.accuracy > 0.2  # better than chance (0.1): it learned something
    assert report.score == round(100 * report.accuracy, 2)
    assert report.num_images == 600
    assert report.to_dict()["passed_mark"] is (report.accuracy >= 0.48)


def test_a_model_looking_for_the_labels_finds_nothing(tmp_path, hidden_test_set):
    hunter = LabelHunter(HIDDEN_NAME, str(hidden_test_set))
    report = grading(hidden_test_set).grade(submission(tmp_path / "mallory", hunter))
    assert report.status == "graded", report.reason  # it raised nothing: it found nothing
    with np.load(hidden_test_set) as data:
        share_of_class_0 = float(np.mean(data["labels"] == 0))
    assert report.accuracy == share_of_class_0


@pytest.mark.parametrize(
    ("model", "reason"),
    [
        (ForgedResponse(), "no array of scores"),
        (WrongShape(), "shape (600, 3), expected (600, 10)"),
        (NotANumber(), "NaN or infinite"),
        (Raises(), "forward raised ValueError: shapes (500,3072)"),
    ],
)
def test_tampering_and_malformed_scores_get_a_status_and_no_points(
    tmp_path, hidden_test_set, model, reason
):
    report = grading(hidden_test_set).grade(submission(tmp_path / "trudy", model))
    assert report.status == "invalid-submission"
    assert reason in report.reason
    assert report.score == 0 and report.accuracy is None


def test_missing_key_and_oversized_models_are_refused(tmp_path, hidden_test_set):
    folder = tmp_path / "bob"
    save_pickle({"model": WrongShape()}, "cifar_fcn.p", directory=folder / "models")
    report = grading(hidden_test_set).grade(folder)
    assert report.status == "invalid-submission" and "no 'cifar_fcn'" in report.reason
    big = tmp_path / "carol"
    (big / "models").mkdir(parents=True)
    (big / "models" / "cifar_fcn.p").write_bytes(b"\0" * (20 * 2**20 + 1))
    report = grading(hidden_test_set).grade(big)
    assert (
        report.status == "invalid-submission" and "more than the limit of 20 MiB" in report.reason
    )


def test_a_test_set_the_sandbox_could_see_is_refused(tmp_path):
    with pytest.raises(ValueError, match="which the sandbox shows to submissions"):
        load_hidden_test_set(Path(np.__file__).parent / "__init__.py")


def test_a_class_of_models_gets_csv_leaderboard_and_pass_marks(
    tmp_path, hidden_test_set, trained_params
):
    export = tmp_path / "export"
    submission(export / "alice", TwoLayerNet(trained_params))
    submission(export / "bob", AlwaysFirstClass())
    submission(export / "carol", WrongShape())
    csv_path, page = tmp_path / "grades.csv", tmp_path / "class.html"
    command = ["grade", str(export), "--exercise", "cifar-classification"]
    command += ["--test-data", str(hidden_test_set), "--pass-mark", "0.2"]
    assert barenet_main([*command, "--csv", str(csv_path), "--report", str(page)]) == 1  # carol
    with open(csv_path, newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    alice = expected_accuracy(trained_params, hidden_test_set)
    assert float(rows["alice"]["score"]) == round(100 * alice, 2)
    assert (
        rows["alice"]["failed_tests"] == "" and rows["bob"]["failed_tests"] == "HiddenTestAccuracy"
    )
    assert rows["carol"]["status"] == "invalid-submission"
    html = page.read_text()
    board = html[html.index("id='leaderboard'") : html.index("id='items'")]
    assert board.index(">alice<") < board.index(">bob<") and ">carol<" not in board
    assert "Accuracy distribution" in html and "pass" in board and "fail" in board
