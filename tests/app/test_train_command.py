"""``barenet train`` in this process: resume rules, interrupts, logs, bad images."""

import json

import numpy as np
import pytest
from data_helpers import make_image_folder

from barenet.app.cli import main
from barenet.solver import Solver

SMALL = ["--hidden-size", "16", "--limit", "300"]


@pytest.fixture
def workdir(tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def train(*args) -> int:
    return main(["train", *SMALL, *map(str, args)])


def test_resume_refuses_settings_it_cannot_change(workdir, capsys):
    assert train("--epochs", 2, "--out", "run") == 0
    capsys.readouterr()
    assert main(["train", "--resume", "run", "--lr", "0.5", "--optimizer", "sgd"]) == 2
    err = capsys.readouterr().err
    assert "may change only --epochs and --patience/--no-patience" in err
    assert "not --lr, --optimizer" in err
    assert len(err.strip().splitlines()) == 1


def test_resume_to_fewer_epochs_than_done_is_refused_and_changes_nothing(workdir, capsys):
    assert train("--epochs", 2, "--out", "run") == 0
    saved = (workdir / "run" / "config.json").read_text()
    capsys.readouterr()
    assert main(["train", "--resume", "run", "--epochs", "1"]) == 2
    assert "has done 2 epochs of 1 already" in capsys.readouterr().err
    assert main(["train", "--resume", "run"]) == 2  # all its epochs are done
    assert (workdir / "run" / "config.json").read_text() == saved


def test_resume_applies_a_new_epoch_total_and_records_it(workdir, capsys):
    assert train("--epochs", 2, "--no-patience", "--out", "run") == 0
    assert main(["train", "--resume", "run", "--epochs", "3", "--patience", "4"]) == 0
    assert "Resuming run after epoch 2 of 3." in capsys.readouterr().out
    config = json.loads((workdir / "run" / "config.json").read_text())
    assert (config["epochs"], config["patience"]) == (3, 4)
    assert json.loads((workdir / "run" / "history.json").read_text())["epochs_done"] == 3


def test_ctrl_c_in_the_first_epoch_exits_130_and_leaves_a_resumable_run(
    workdir, capsys, monkeypatch
):
    def interrupted(self):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Solver, "_train_epoch", interrupted)
        assert train("--epochs", 2, "--out", "my run") == 130
    err = capsys.readouterr().err
    assert "Continue with:\n  barenet train --resume 'my run'" in err
    assert (workdir / "my run" / "checkpoint.npz").is_file()
    assert main(["train", "--resume", "my run"]) == 0
    assert json.loads((workdir / "my run" / "history.json").read_text())["epochs_done"] == 2


def test_zero_epochs_is_refused(workdir, capsys):
    with pytest.raises(SystemExit) as exited:
        train("--epochs", 0, "--out", "run")
    assert exited.value.code == 2
    assert "argument --epochs: must be >= 1" in capsys.readouterr().err
    assert not (workdir / "run").exists()


def test_logs_that_are_not_a_terminal_get_epoch_lines_and_no_bar(workdir, capsys):
    assert train("--epochs", 2, "--out", "run") == 0
    out, err = capsys.readouterr()
    assert "(Epoch 2 / 2) train loss: " in out
    assert "batch/s" not in err and "epoch 1:" not in err


def test_a_learning_rate_of_zero_trains_without_moving(workdir):
    assert train("--epochs", 1, "--lr", 0, "--out", "run") == 0


def test_bad_images_stop_the_run_unless_skipped(workdir, capsys):
    folder = make_image_folder(workdir / "images", per_class=8)
    (folder / "cat" / "broken.png").write_bytes(b"not an image")
    assert main(["train", "--data", str(folder), "--epochs", "1", "--out", "a"]) == 2
    err = capsys.readouterr().err
    assert "broken.png" in err and "--on-bad-image skip" in err
    args = ["--data", str(folder), "--epochs", "1", "--on-bad-image", "skip", "--out", "b"]
    with pytest.warns(UserWarning, match="skipped 1 image files"):
        assert main(["train", *args]) == 0
    assert json.loads((workdir / "b" / "config.json").read_text())["on_bad_image"] == "skip"


def test_ctrl_c_while_loading_the_data_exits_130_in_one_line(workdir, capsys, monkeypatch):
    import barenet.app.run as run_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "build_data", interrupted)
    assert train("--epochs", 1, "--out", "run") == 130
    assert capsys.readouterr().err.strip() == "barenet train: interrupted"


def test_a_zca_run_saves_its_whitening_and_evaluate_and_resume_reuse_it(
    workdir, capsys, monkeypatch
):
    from barenet.data import ZCAWhitening

    assert train("--zca", 0.1, "--flip", "--epochs", 1, "--no-patience", "--out", "run") == 0
    run = workdir / "run"
    assert json.loads((run / "config.json").read_text())["zca"] == 0.1
    saved = ZCAWhitening.load(run / "whitening.npz")
    assert saved.epsilon == 0.1 and saved.flip_symmetric and saved.image_shape == (8, 8, 1)
    history = json.loads((run / "history.json").read_text())
    assert history["test_views"] == 2
    capsys.readouterr()

    def refit(self, images, chunk_size=4096):
        raise AssertionError("a saved run must not fit its whitening again")

    monkeypatch.setattr(ZCAWhitening, "fit", refit)
    assert main(["evaluate", "run"]) == 0
    accuracy = float(capsys.readouterr().out.split("test accuracy: ")[1].split()[0])
    assert accuracy == pytest.approx(history["test_accuracy"], abs=1e-4)
    assert main(["train", "--resume", "run", "--epochs", "2"]) == 0
    assert json.loads((run / "history.json").read_text())["epochs_done"] == 2

    (run / "whitening.npz").unlink()
    capsys.readouterr()
    assert main(["evaluate", "run"]) == 2
    assert "trained on ZCA-whitened images (zca 0.1) but has no whitening.npz" in (
        capsys.readouterr().err
    )


def test_a_zca_run_feeds_the_network_whitened_images(workdir):
    from barenet.app.config import RunConfig
    from barenet.app.run_data import build_data, data_settings
    from barenet.data.prepare import load_split_arrays

    config = RunConfig(limit=300, zca=0.1, flip=True)
    data = build_data(config)
    (x_train, _), (x_val, _), _, _ = load_split_arrays(data_settings(config))
    assert data.whitening.image_shape == (8, 8, 1) and data.whitening.flip_symmetric
    np.testing.assert_allclose(
        data.whitening.mean,
        x_train.reshape(300, -1).mean(0) / 255 * 0.5
        + x_train[:, :, ::-1].reshape(300, -1).mean(0) / 255 * 0.5,
        atol=1e-6,
    )
    images = np.concatenate([batch["image"] for batch in data.val])
    np.testing.assert_allclose(images, data.whitening(x_val).reshape(len(x_val), -1), atol=1e-6)
    plain = build_data(config.replace(zca=0.0))
    assert plain.whitening is None
    assert np.abs(np.concatenate([b["image"] for b in plain.val]) - images).max() > 0.5
