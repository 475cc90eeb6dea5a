"""The barenet command end to end, in subprocesses, on real files."""

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from data_helpers import CIFAR_ZIP, serve, tiny_cifar
from PIL import Image

import barenet as bn


def barenet(*args, cwd, env_extra=None):
    env = {**os.environ, "BARENET_CACHE_DIR": str(Path(cwd) / "cache"), **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "barenet", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_train_then_evaluate_on_offline_default(tmp_path):
    run = barenet("train", "--epochs", 3, "--out", "run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "(Epoch 1 / 3) train loss: " in run.stdout
    out = tmp_path / "run"
    history = json.loads((out / "history.json").read_text())
    assert len(history["train_loss"]) == 3 and 0.8 < history["test_accuracy"] <= 1
    assert history["wall_time_s"] > 0
    with np.load(out / "model.npz", allow_pickle=False) as weights:
        assert weights["W1"].shape == (64, 128)
    with Image.open(out / "curves.png") as png:
        assert png.size[0] >= 600 and png.size[1] >= 300
    evaluated = barenet("evaluate", "run", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    accuracy = float(re.search(r"test accuracy: ([0-9.]+)", evaluated.stdout).group(1))
    assert accuracy == pytest.approx(history["test_accuracy"], abs=1e-4)
    assert len(re.findall(r"^\d\s+\d+\.\d+%", evaluated.stdout, re.M)) == 10  # one row per class
    again = barenet("train", "--epochs", 1, "--out", "run", cwd=tmp_path)
    assert again.returncode == 2 and "already holds a run" in again.stderr
    assert json.loads((out / "history.json").read_text()) == history  # nothing overwritten


def test_resume_gives_the_same_weights_as_one_run(tmp_path):
    common = ["--epochs", 4, "--no-patience", "--dropout", 0.2, "--flip", "--seed", 3]
    assert barenet("train", *common, "--out", "whole", cwd=tmp_path).returncode == 0
    first = barenet("train", *common[:1], 2, *common[2:], "--out", "split", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    resumed = barenet("train", "--resume", "split", "--epochs", 4, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming" in resumed.stdout
    with (
        np.load(tmp_path / "whole" / "model.npz") as a,
        np.load(tmp_path / "split" / "model.npz") as b,
    ):
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])
    whole = json.loads((tmp_path / "whole" / "history.json").read_text())
    split = json.loads((tmp_path / "split" / "history.json").read_text())
    assert whole["train_loss"] == split["train_loss"] and len(split["train_loss"]) == 4


@pytest.fixture(scope="module")
def small_cifar_zip(tmp_path_factory):
    """A real image-folder zip: 12 train and 4 test JPEGs per class from the shared copy."""
    if not CIFAR_ZIP.exists():
        pytest.skip(f"{CIFAR_ZIP} is not present")
    path = tmp_path_factory.mktemp("zip") / "small.zip"
    with zipfile.ZipFile(CIFAR_ZIP) as src, zipfile.ZipFile(path, "w") as dst:
        names = sorted(n for n in src.namelist() if n.endswith(".jpg"))
        for split, count in (("train", 12), ("test", 4)):
            for cls in sorted({n.split("/")[2] for n in names}):
                members = [n for n in names if n.startswith(f"cifar10/{split}/{cls}/")][:count]
                for name in members:
                    dst.writestr(name, src.read(name))
    return path


def test_train_on_an_image_folder_zip(tmp_path, small_cifar_zip):
    run = barenet(
        "train",
        "--data",
        small_cifar_zip,
        "--epochs",
        2,
        "--hidden-size",
        32,
        "--out",
        "run",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["classes"][:2] == ["airplane", "automobile"] and config["input_size"] == 3072
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert 0 <= history["test_accuracy"] <= 1
    evaluated = barenet("evaluate", "run", cwd=tmp_path)
    assert "on 40 images" in evaluated.stdout


def test_compare_draws_three_curves(tmp_path):
    run = barenet(
        "compare",
        "--dataset",
        "digits",
        "--epochs",
        3,
        "--limit",
        200,
        "--out",
        "opt.png",
        "--quiet",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    for label in ("SGD ", "SGD + momentum", "Adam"):
        assert label in run.stdout
    with Image.open(tmp_path / "opt.png") as png:
        pixels = np.asarray(png.convert("RGB")).reshape(-1, 3)
    # matplotlib's first three line colours: one curve each.
    for colour in ([31, 119, 180], [255, 127, 14], [44, 160, 44]):
        assert np.any(np.all(pixels == colour, axis=1)), colour


def test_size_total_equals_compute_network_size(tmp_path):
    run = barenet(
        "size", "--hidden-size", 50, "--batch-size", 64, "--dataset-size", 1000, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    net = bn.ClassificationNet(hidden_size=50, seed=0)
    _, dlogits = bn.CrossEntropyFromLogits()(
        net.forward(np.zeros((64, 3072), np.float32)), np.zeros(64, int)
    )
    net.backward(dlogits)
    expected = bn.compute_network_size(net)
    assert f"total for one batch of 64: {expected:,d} B" in run.stdout
    # Extrapolation: caches grow with the batch, gradients do not.
    grads = sum(g.nbytes for g in net.grads.values())
    per_sample = (expected - grads - sum(p.nbytes for p in net.params.values())) / 64
    whole = int(
        re.search(r"1,000 images in one pass: ([0-9,]+) B", run.stdout).group(1).replace(",", "")
    )
    assert whole == pytest.approx(
        grads + sum(p.nbytes for p in net.params.values()) + per_sample * 1000, rel=1e-6
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--activation", "swish"], "invalid choice: 'swish'"),
        (["train", "--lr", "-1"], "must be >= 0.0"),
        (["train", "--data", "no/such/folder"], "does not exist"),
        (["train", "--momentum", "1.5"], "--momentum must be in [0, 1)"),
        (["train", "--std", "big"], "argument --std: expected a float"),
        (["train", "--val-fraction", "0.7"], "must be below 0.5"),
        (["evaluate", "."], "has no config.json"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, message):
    run = barenet(*args, cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_a_folder_that_is_not_an_image_folder_exits_2(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("hello")
    run = barenet("train", "--data", "notes", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_help_explains_itself(tmp_path):
    run = barenet("--help", cwd=tmp_path)
    assert run.returncode == 0
    for command in ("train", "evaluate", "tune", "compare", "size", "download", "check", "grade"):
        assert command in run.stdout
    train_help = barenet("train", "--help", cwd=tmp_path)
    assert "--hidden-size" in train_help.stdout and "--resume" in train_help.stdout


def test_download_then_train_and_compare_on_cifar10_format(tmp_path):
    """The official archive's format, served from 127.0.0.1 as a course mirror would."""
    import hashlib

    archive, _ = tiny_cifar(per_batch=20, test_size=20)
    with serve({"/cifar-10-python.tar.gz": archive}) as base:
        mirror = {
            "BARENET_CIFAR10_URL": f"{base}/cifar-10-python.tar.gz",
            "BARENET_CIFAR10_SHA256": hashlib.sha256(archive).hexdigest(),
        }
        fetched = barenet("download", "cifar10", cwd=tmp_path, env_extra=mirror)
    assert fetched.returncode == 0, fetched.stderr
    assert "CIFAR-10 ready" in fetched.stdout
    assert "\r" not in fetched.stderr  # a pipe, not a terminal: no progress bar
    # The server is gone: training and comparing use the cached archive.
    run = barenet(
        "train",
        "--dataset",
        "cifar10",
        "--epochs",
        1,
        "--hidden-size",
        16,
        "--out",
        "run",
        cwd=tmp_path,
        env_extra=mirror,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["classes"][0] == "airplane"
    compared = barenet("compare", "--epochs", 1, "--quiet", cwd=tmp_path, env_extra=mirror)
    assert compared.returncode == 0, compared.stderr
    assert "comparing on the offline digits" not in compared.stdout


def test_compare_falls_back_to_digits_without_cifar10(tmp_path):
    run = barenet("compare", "--epochs", 1, "--limit", 50, "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "comparing on the offline digits" in run.stdout


def test_download_unreachable_mirror_fails_clearly(tmp_path):
    from data_helpers import closed_port_url

    url = closed_port_url("cifar-10-python.tar.gz")
    run = barenet("download", "cifar10", cwd=tmp_path, env_extra={"BARENET_CIFAR10_URL": url})
    assert run.returncode == 1
    assert url in run.stderr and "Traceback" not in run.stderr


def test_ctrl_c_saves_what_was_reached_and_resume_continues(tmp_path):
    import signal
    import time

    from barenet.app.checkpoint import checkpoint_epoch

    env = {**os.environ, "BARENET_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "barenet",
            "train",
            "--epochs",
            "5000",
            "--no-patience",
            "--out",
            "run",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def epochs_done() -> int:
        try:
            return checkpoint_epoch(tmp_path / "run" / "checkpoint.npz")
        except (OSError, ValueError, KeyError):
            return 0

    # A checkpoint exists before epoch 1; wait until an epoch has really finished.
    deadline = time.monotonic() + 60
    while epochs_done() < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Interrupted during epoch" in out
    assert "barenet train --resume run" in err
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    done = history["epochs_done"]
    assert 1 <= done < 5000 and len(history["train_loss"]) == done
    with np.load(tmp_path / "run" / "model.npz", allow_pickle=False) as weights:
        assert np.all(np.isfinite(weights["W1"]))
    resumed = barenet("train", "--resume", "run", "--epochs", done + 2, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((tmp_path / "run" / "history.json").read_text())["epochs_done"] == done + 2


def test_limit_takes_a_random_subset_of_every_class(tmp_path, small_cifar_zip, monkeypatch):
    from barenet.app.config import RunConfig
    from barenet.app.run_data import data_settings
    from barenet.data.prepare import load_split_arrays

    monkeypatch.setenv("BARENET_CACHE_DIR", str(tmp_path / "cache"))
    config = RunConfig(data=str(small_cifar_zip), dataset="cifar10", limit=30)
    (images, labels), (val_images, val_labels), _, classes = load_split_arrays(
        data_settings(config)
    )
    assert len(labels) == 30 and len(classes) == 10
    assert len(np.unique(labels)) >= 8  # not the first 30 files, which are all airplanes
    again = load_split_arrays(data_settings(config))[0][1]
    np.testing.assert_array_equal(labels, again)


def test_divergence_exits_1_with_advice_and_keeps_the_run(tmp_path):
    run = barenet(
        "train", "--optimizer", "sgd", "--lr", "1e4", "--epochs", 3, "--out", "run", cwd=tmp_path
    )
    assert run.returncode == 1
    assert (
        "training diverged. Try a smaller learning rate" in run.stderr
        and "Traceback" not in run.stderr
    )
    # Diverged in its first epoch: the settings and history are kept, but no epoch
    # finished, so there is no trained model to save or test.
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert (history["epochs_done"], history["test_accuracy"]) == (0, None)
    assert (tmp_path / "run" / "config.json").exists()
    assert not (tmp_path / "run" / "model.npz").exists()


def test_flip_trained_runs_average_each_test_image_with_its_mirror(tmp_path):
    from barenet.app.run import load_run
    from barenet.app.run_data import build_data
    from barenet.prediction import predict_dataset

    run = barenet("train", "--flip", "--epochs", 2, "--out", "run", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["test_views"] == 2 and "mirror image averaged" in run.stdout
    config, model = load_run(tmp_path / "run")
    data = build_data(config, stats=(config.norm_mean, config.norm_std))
    plain, mirrored = ([b["image"] for b in view] for view in data.test_views)
    images = np.concatenate(plain).reshape(-1, 8, 8, 1)
    np.testing.assert_allclose(np.concatenate(mirrored).reshape(-1, 8, 8, 1), images[:, :, ::-1])
    model.eval()
    logp = bn.log_softmax(model.forward(images.reshape(len(images), -1)))
    logp_mirror = bn.log_softmax(model.forward(images[:, :, ::-1].reshape(len(images), -1)))
    expected = (np.exp(logp) + np.exp(logp_mirror)).argmax(axis=1)
    result = predict_dataset(model, data.test_views)
    np.testing.assert_array_equal(result.predictions, expected)
    assert result.accuracy == pytest.approx(history["test_accuracy"])
