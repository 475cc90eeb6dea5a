"""``barenet train --model convnet`` on the digits: run folder, evaluate, resume, help."""

import json

import numpy as np
import pytest

from barenet.app.cli import main
from barenet.app.config import RunConfig
from barenet.solver import Solver
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


def test_a_run_interrupted_and_resumed_ends_as_the_uninterrupted_run(workdir, monkeypatch):
    # The digits recipe warms up and decays the learning rate per update; the average
    # of the weights and batch norm's statistics must come back too, and the whitening
    # bias, trained in the first epoch only, stays frozen after the resume.
    recipe = ["--epochs", 3, "--weight-average", "0.9", "--label-smoothing", "0.1"]
    recipe += ["--whitening-bias-epochs", 1]
    assert train(*recipe, "--out", "straight") == 0
    epoch = Solver._train_epoch
    calls = []

    def ctrl_c_in_epoch_3(solver):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return epoch(solver)

    with monkeypatch.context() as patch:
        patch.setattr(Solver, "_train_epoch", ctrl_c_in_epoch_3)
        assert train(*recipe, "--out", "resumed") == 130
    assert main(["train", "--resume", "resumed"]) == 0
    straight, resumed = (
        json.loads((workdir / run / "history.json").read_text()) for run in ("straight", "resumed")
    )
    assert resumed["val_loss"] == straight["val_loss"]
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


def test_the_run_settings_reach_the_solver():
    from barenet.app.factories import lr_schedule, make_solver
    from barenet.app.run_data import build_data

    config = RunConfig.recipe(
        "digits", model="convnet", limit=200, batch_size=50, epochs=4, warmup_epochs=1.0,
        lr_final=0.1, label_smoothing=0.2, weight_average=0.95, widths=[4],
        whitening_bias_epochs=2,
    )  # fmt: skip
    data = build_data(config)
    assert data.train.dataset[0]["image"].shape == (8, 8, 1)  # images, not flat vectors
    solver = make_solver(config, _net(config, data), data, verbose=False)
    assert solver.loss_func.smoothing == 0.2 and solver.weight_average == 0.95
    assert solver.train_epochs == {"b1": 2}  # the whitening layer's bias
    schedule = solver.lr_schedule
    assert (schedule.total_steps, schedule.warmup_steps) == (16, 4)
    assert (schedule.decay, schedule.final_factor) == ("linear", 0.1)
    # A warm-up longer than the run leaves the last update to the decay.
    too_long = lr_schedule(config.replace(warmup_epochs=9.0), steps_per_epoch=4)
    assert (too_long.total_steps, too_long.warmup_steps) == (16, 15)


def _net(config, data):
    from barenet.app.factories import make_model

    return make_model(config, data.input_size, len(data.classes), data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"warmup_epochs": -1.0}, "--warmup-epochs must be >= 0"),
        ({"lr_final": 1.5}, r"--lr-final must be in \[0, 1\]"),
        ({"label_smoothing": -0.1}, r"--label-smoothing must be in \[0, 1\]"),
        ({"weight_average": 1.0}, r"--weight-average must be in \[0, 1\)"),
        ({"lr_schedule": "step"}, "--lr-schedule must be one of none, linear, cosine"),
        ({"widths": []}, "--widths must be ints >= 1"),
        ({"whitening_bias_epochs": -1}, "--whitening-bias-epochs must be >= 0"),
    ],
)
def test_bad_recipe_settings_name_their_option(changes, message):
    with pytest.raises(ValueError, match=message):
        RunConfig.recipe("digits", model="convnet", **changes)


def test_help_shows_the_convnet_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--model {mlp,convnet}" in text
    assert "(default digits 16 32, cifar10 32 64 128)" in text
