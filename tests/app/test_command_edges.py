"""A newcomer's rough edges: run folders that travel, no empty folders, clean interrupts,
progress bars only on a terminal, --version, no abbreviations, defaults in every --help."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import zipfile
from pathlib import Path

import pytest
from data_helpers import make_image_folder

from barenet.app import run as run_module
from barenet.app.cli import build_parser, main
from barenet.progress import interactive
from barenet.solver import Solver

#: A small run; on an image folder (the CIFAR-10 recipe) without the whitening, which is slow.
SMALL = ["--hidden-size", "8", "--epochs", "2", "--batch-size", "16", "--zca", "0"]


@pytest.fixture
def workdir(tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def images(root: Path) -> Path:
    return make_image_folder(root, per_class=20)


# --- run folders that travel ------------------------------------------------------------


def test_a_run_folder_names_its_data_from_anywhere_and_says_when_they_moved(
    workdir, monkeypatch, capsys
):
    images(workdir / "pics")
    assert main(["train", "--data", "pics", *SMALL, "--out", "run"]) == 0
    config = json.loads((workdir / "run" / "config.json").read_text())
    assert config["data"] == str((workdir / "pics").resolve())

    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    assert main(["evaluate", "../run"]) == 0  # no --data: the stored path is absolute
    assert "test accuracy:" in capsys.readouterr().out

    shutil.move(workdir / "pics", workdir / "moved")
    assert main(["evaluate", "../run"]) == 2
    err = capsys.readouterr().err
    assert "which is not there any more" in err and "--data PATH" in err
    assert main(["evaluate", "../run", "--data", "../moved"]) == 0
    assert main(["train", "--resume", "../run", "--epochs", "3", "--data", "../moved"]) == 0
    history = json.loads((workdir / "run" / "history.json").read_text())
    assert history["epochs_done"] == 3


def test_an_older_run_folder_with_a_relative_data_path_still_evaluates(workdir, capsys):
    images(workdir / "pics")
    assert main(["train", "--data", "pics", *SMALL, "--out", "run"]) == 0
    path = workdir / "run" / "config.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "data": "pics"}))  # as older versions stored it
    assert main(["evaluate", "run"]) == 0


# --- no empty run folders ---------------------------------------------------------------


def test_a_failed_start_leaves_no_run_folder(workdir, monkeypatch, capsys):
    with zipfile.ZipFile(workdir / "notes.zip", "w") as archive:
        archive.writestr("notes/readme.txt", "no images here")
    assert main(["train", "--data", "no/such/folder"]) == 2
    assert main(["train", "--data", "notes.zip"]) == 2
    assert main(["train", "--data", "notes.zip", "--out", "mine"]) == 2

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:  # Ctrl-C while the data load
        patch.setattr(run_module, "build_data", interrupted)
        assert main(["train"]) == 130
    with monkeypatch.context() as patch:  # Ctrl-C after the folder was made
        patch.setattr(run_module, "save_checkpoint", interrupted)
        assert main(["train", "--out", "deep/er/run"]) == 130
    assert not (workdir / "runs").exists() and not (workdir / "mine").exists()
    assert not (workdir / "deep").exists()


# --- interrupts --------------------------------------------------------------------------


def test_ctrl_c_in_the_first_epoch_reports_no_accuracy_and_draws_no_plot(
    workdir, monkeypatch, capsys
):
    def interrupted(self):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Solver, "_train_epoch", interrupted)
        assert main(["train", *SMALL, "--out", "run"]) == 130
    out, err = capsys.readouterr()
    assert "test accuracy" not in out and "no epoch finished" in out
    assert "Continue with:\n  barenet train --resume run" in err
    run = workdir / "run"
    assert not (run / "curves.png").exists() and not (run / "model.npz").exists()
    assert json.loads((run / "history.json").read_text())["test_accuracy"] is None
    assert main(["train", "--resume", "run"]) == 0
    assert (run / "curves.png").exists() and (run / "model.npz").exists()


def test_ctrl_c_in_tune_prints_only_the_resume_command(tmp_path):
    command = [sys.executable, "-m", "barenet", "tune", "--limit", "300", "--epochs", "40",
               "--batch-size", "50", "--pruner", "none", "--trials", "50", "--param",
               "learning_rate=log:1e-3:1e-1", "--out", "st"]  # fmt: skip
    env = {**os.environ, "BARENET_CACHE_DIR": str(tmp_path / "cache")}
    # Its own process group, as a terminal's: Ctrl-C reaches the command.
    tune = subprocess.Popen(command, cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "st" / "trials.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(tune.pid, signal.SIGINT)
        _, err = tune.communicate(timeout=60)
    finally:
        if tune.poll() is None:
            os.killpg(tune.pid, signal.SIGKILL)
            tune.wait()
    assert tune.returncode == 130, err
    assert err.strip().splitlines() == [
        "Interrupted: st keeps its finished trials. Continue with:",
        "  barenet tune --resume st",
    ]


# --- progress bars ----------------------------------------------------------------------


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_a_bar_is_drawn_on_a_terminal_or_in_a_notebook_only():
    assert interactive(_Stream(True)) and not interactive(_Stream(False))
    notebook = type("OutStream", (_Stream,), {"__module__": "ipykernel.iostream"})
    assert interactive(notebook(False))
    assert not interactive(object())  # no isatty at all


BAR = (
    "from barenet.progress import progress_bar\nfor _ in progress_bar(range(3), desc='work'): pass"
)


def test_a_bar_reaches_a_terminal_but_not_a_pipe():
    piped = subprocess.run([sys.executable, "-c", BAR], capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and piped.stderr == ""
    leader, follower = pty.openpty()
    # A terminal of 80 columns (a fresh pseudo-terminal has none, and tqdm would fit no bar).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        shown = subprocess.run([sys.executable, "-c", BAR], stderr=follower, timeout=60)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert shown.returncode == 0 and b"work: 100%" in seen and b"\r" in seen


# --- the command line -------------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("barenet 0.")


def test_an_abbreviated_option_is_an_error_not_a_guess(workdir, capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--epoch", "2"])
    assert done.value.code == 2
    assert "unrecognized arguments: --epoch 2" in capsys.readouterr().err
    assert not (workdir / "runs").exists()


def test_argument_types_are_defined_in_one_module():
    app = Path(run_module.__file__).parent
    defining = sorted(
        str(path.relative_to(app))
        for path in app.rglob("*.py")
        if "ArgumentTypeError" in path.read_text(encoding="utf-8")
    )
    assert defining == ["arguments.py"]


def _parsers(parser: argparse.ArgumentParser, name: str = "barenet"):
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _parsers(child, f"{name} {sub}")


def test_every_help_shows_the_defaults():
    parsers = dict(_parsers(build_parser()))
    assert {"barenet train", "barenet size", "barenet tune"} <= set(parsers)
    for name, parser in parsers.items():
        for action in parser._actions:
            quiet = action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction)
            default = action.default
            if quiet or not action.option_strings or default in (None, False, argparse.SUPPRESS):
                continue
            assert "default" in (action.help or ""), f"{name} {action.option_strings[0]}"
    size = parsers["barenet size"].format_help()
    assert "(default 256)" in size and "(default 100)" in size
