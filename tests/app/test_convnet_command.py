"""``barenet train --model convnet`` on the digits: run folder, evaluate, resume, help."""

import json

import numpy as np
import pytest

from barenet.app.cli import main
from barenet.app.config import RunConfig
from barenet.whitened_convnet import WhitenedConvNet

SMALL = ["--model", "convnet", "--widths", "4", "8", "--limit", "300", "--batch-size", "50"]


@pytest.fixture
def workdir(tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def train(*args) -> int:
    return main(["train", *SMALL, *map(str, args)])


def test_evaluate_prints_the_test_accuracy_the_run_recorded(workdir, capsys):
    assert train("--epochs", 2, "--out", "run") == 0
    history = json.loads((workdir / "run" / "history.json").read_text())
    config = RunConfig.from_json((workdir / "run" / "config.json").read_text())
    assert (config.model, config.widths) == ("convnet", [4, 8])
    assert isinstance(WhitenedConvNet.load(workdir / "run" / "model.npz"), WhitenedConvNet)
    assert (workdir / "run" / "curves.png").is_file()
    capsys.readouterr()
    assert main(["evaluate", "run"]) == 0
    accuracy = history["test_accuracy"]
    assert (
        f"test accuracy: {accuracy:.4f} ({accuracy:.2%}) on 180 images" in capsys.readouterr().out
    )


def test_a_resumed_run_ends_as_the_uninterrupted_run(workdir):
    assert train("--epochs", 3, "--out", "straight") == 0
    assert train("--epochs", 2, "--out", "resumed") == 0
    assert main(["train", "--resume", "resumed", "--epochs", "3"]) == 0
    straight, resumed = (
        json.loads((workdir / run / "history.json").read_text()) for run in ("straight", "resumed")
    )
    assert resumed["val_loss"] == straight["val_loss"]  # batch norm's statistics came back
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    with (
        np.load(workdir / "straight" / "model.npz") as a,
        np.load(workdir / "resumed" / "model.npz") as b,
    ):
        assert set(a.files) == set(b.files)
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_the_convnet_recipe_applies_only_with_the_model_flag():
    mlp, convnet = RunConfig.recipe("cifar10"), RunConfig.recipe("cifar10", model="convnet")
    assert (mlp.model, mlp.optimizer, mlp.zca) == ("mlp", "adam", 1.0)
    assert (convnet.model, convnet.zca, convnet.crop, convnet.flip) == ("convnet", 0.0, 2, True)
    with pytest.raises(ValueError, match="--model must be one of mlp, convnet"):
        RunConfig.recipe("digits", model="resnet")


def test_help_shows_the_convnet_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--model {mlp,convnet}" in text
    assert "(default digits 16 32, cifar10 32 64 128)" in text
