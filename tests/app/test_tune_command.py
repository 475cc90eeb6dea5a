"""``barenet tune`` on the digits: a study, its best run, resume, Ctrl-C, bad flags."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from optuna.trial import TrialState
from tune_helpers import load_trials

from barenet.app.cli import main
from barenet.solver import Solver

#: A small, fast study: 300 digits, tiny nets, 3 epochs a trial.
SMALL = ["--limit", "300", "--epochs", "3", "--batch-size", "50"]
SPACE = ["--param", "learning_rate=log:1e-3:1e-1", "--param", "hidden_size=int:8:32"]


@pytest.fixture
def workdir(tmp_path, monkeypatch, cache_dir):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def tune(*args) -> int:
    return main(["tune", *SMALL, *map(str, args)])


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_study_retrains_its_best_trial_as_an_ordinary_run(workdir, capsys):
    assert tune(*SPACE, "--param", "flip=choice:true,false", "--trials", 4, "--out", "st") == 0
    out = capsys.readouterr().out
    rows = read_rows(workdir / "st" / "trials.csv")
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3]
    assert {r["flip"] for r in rows} <= {"true", "false"}
    assert (workdir / "st" / "leaderboard.txt").read_text().strip() in out

    best = min((t for t in load_trials(workdir / "st") if t.state == TrialState.COMPLETE),
               key=lambda t: t.value)  # fmt: skip
    config = json.loads((workdir / "st" / "best" / "config.json").read_text())
    assert config["learning_rate"] == best.params["learning_rate"]
    assert config["hidden_size"] == [best.params["hidden_size"]]
    assert config["flip"] == (best.params["flip"] == "true")
    assert (config["limit"], config["epochs"]) == (300, 3)
    # Same settings, same seed, same shuffles: the retrained run is the best trial again.
    history = json.loads((workdir / "st" / "best" / "history.json").read_text())
    assert min(history["val_loss"]) == pytest.approx(best.value, rel=1e-5)
    assert f"Retraining trial {best.number}, the best" in out
    assert "barenet evaluate st/best" in out


def test_a_space_file_and_the_fixed_settings_reach_every_trial(workdir, capsys):
    (workdir / "space.toml").write_text(
        '[space]\noptimizer = { choice = ["sgd_momentum", "adam"] }\n'
        "hidden_size = { choice = [[16, 8], [12, 12]] }\n"
    )
    args = ["--space", "space.toml", "--sampler", "grid", "--trials", 4, "--pruner", "none"]
    assert tune(*args, "--activation", "tanh", "--out", "g") == 0
    params = {(r["optimizer"], r["hidden_size"]) for r in read_rows(workdir / "g" / "trials.csv")}
    assert params == {(o, h) for o in ("sgd_momentum", "adam") for h in ("16x8", "12x12")}
    config = json.loads((workdir / "g" / "best" / "config.json").read_text())
    assert config["activation"] == "tanh" and config["hidden_size"] in ([16, 8], [12, 12])


def test_resume_adds_trials_without_losing_or_repeating_any(workdir, capsys):
    assert tune(*SPACE, "--trials", 3, "--out", "st") == 0
    first = {t.number: t.value for t in load_trials(workdir / "st")}
    assert main(["tune", "--resume", "st", "--trials", "5"]) == 0
    trials = load_trials(workdir / "st")
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    assert {t.number: t.value for t in trials if t.number in first} == first
    assert len(read_rows(workdir / "st" / "trials.csv")) == 5
    assert json.loads((workdir / "st" / "tune.json").read_text())["trials"] == 5


def test_ctrl_c_exits_130_with_the_resume_command_and_resume_finishes(workdir, capsys, monkeypatch):
    epochs = {"n": 0}
    train_epoch = Solver._train_epoch

    def interrupted_in_trial_3(self):
        epochs["n"] += 1
        if epochs["n"] == 7:  # trials of 3 epochs: the first epoch of the third trial
            raise KeyboardInterrupt
        return train_epoch(self)

    with monkeypatch.context() as patch:
        patch.setattr(Solver, "_train_epoch", interrupted_in_trial_3)
        assert tune(*SPACE, "--trials", 4, "--pruner", "none", "--out", "my study") == 130
    err = capsys.readouterr().err
    assert "Continue with:\n  barenet tune --resume 'my study'" in err
    assert not (workdir / "my study" / "best").exists()
    states = [t.state for t in load_trials(workdir / "my study")]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]

    assert main(["tune", "--resume", "my study"]) == 0
    states = [t.state for t in load_trials(workdir / "my study")]
    assert states[:3] == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
    assert states[3:] == [TrialState.COMPLETE] * 2
    assert (workdir / "my study" / "best" / "model.npz").is_file()


def test_two_commands_on_one_storage_share_the_study(workdir, capsys):
    storage = f"sqlite:///{workdir / 'study.db'}"
    for out in ("here", "there"):
        # The second command joins the study and stops when it has 4 finished trials.
        assert tune(*SPACE, "--trials", 4, "--storage", storage, "--out", out) == 0
    assert len(read_rows(workdir / "there" / "trials.csv")) == 4
    assert (workdir / "there" / "best" / "model.npz").is_file()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--timeout", "0"], "argument --timeout: must be > 0.0"),
        (["--trials", "0"], "argument --trials: must be >= 1"),
        (["--sampler", "annealing"], "argument --sampler: invalid choice"),
        ([], "--param: give the settings to search"),
        (["--param", "learning_rate=log:1e-2:1e-4"], "--param 'learning_rate': needs LOW <= HIGH"),
        (["--param", "dropout=float:0:1.5"], "--param dropout: --dropout must be in [0, 1)"),
        (["--param", "flip=choice:true,maybe"], "--param flip: --flip takes true or false"),
        (["--param", "seed=int:0:9"], "--param seed: --seed is fixed for the whole study"),
        (["--param", "width=int:8:32"], "--param width: not a setting to tune"),
        (["--param", "reg=log:1e-5:1e-2", "--reg", "0.1"], "--param reg: --reg is given too"),
        (["--param", "reg=log:1e-5:1e-2", "--space", "s.toml"], "--param flags or --space"),
        (["--space", "missing.toml"], "--space: missing.toml does not exist"),
        (["--param", "reg=log:1e-5:1e-2", "--sampler", "grid"], "--sampler grid: the grid"),
        (["--resume", "nowhere"], "--resume nowhere: tune.json is missing"),
    ],
)
def test_bad_flags_exit_2_with_one_line_naming_the_flag(workdir, capsys, args, message):
    try:
        status = tune(*args)
    except SystemExit as error:  # argparse's own checks exit from the parser
        status = error.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not list(workdir.glob("runs/*")), "a refused command wrote an output folder"


def test_resume_refuses_new_settings_and_an_existing_study_is_not_overwritten(workdir, capsys):
    assert tune(*SPACE, "--trials", 2, "--out", "st") == 0
    capsys.readouterr()
    assert main(["tune", "--resume", "st", "--lr", "0.1", "--sampler", "random"]) == 2
    err = capsys.readouterr().err
    assert "may change only --trials, --timeout, --workers and --storage" in err
    assert "not --lr, --sampler" in err
    assert tune(*SPACE, "--trials", 2, "--out", "st") == 2
    assert "continue it with --resume st" in capsys.readouterr().err
    assert len(load_trials(workdir / "st")) == 2


def test_end_to_end_in_a_subprocess_then_evaluate(tmp_path):
    env = {**os.environ, "BARENET_CACHE_DIR": str(tmp_path / "cache")}

    def barenet(*args):
        return subprocess.run([sys.executable, "-m", "barenet", *map(str, args)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=300)  # fmt: skip

    run = barenet("tune", *SMALL, *SPACE, "--trials", 4, "--workers", 2, "--out", "study")
    assert run.returncode == 0, run.stderr
    assert "4 trials:" in run.stdout and "rank trial" in run.stdout
    assert "\r" not in run.stderr, "a progress bar wrote into a pipe"
    study = tmp_path / "study"
    rows = read_rows(study / "trials.csv")
    assert len(rows) == 4 and {"value", "learning_rate", "hidden_size", "seconds"} <= set(rows[0])
    assert (study / "study.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    evaluated = barenet("evaluate", study / "best")
    assert evaluated.returncode == 0, evaluated.stderr
    accuracy = json.loads((study / "best" / "history.json").read_text())["test_accuracy"]
    assert f"test accuracy: {accuracy:.4f}" in evaluated.stdout


def test_ctrl_c_while_retraining_the_best_exits_130_and_resume_retrains_it(
    workdir, capsys, monkeypatch
):
    epochs = {"n": 0}
    train_epoch = Solver._train_epoch

    def interrupted_after_the_study(self):
        epochs["n"] += 1
        if epochs["n"] == 7:  # two trials of 3 epochs, then the first epoch of best/
            raise KeyboardInterrupt
        return train_epoch(self)

    with monkeypatch.context() as patch:
        patch.setattr(Solver, "_train_epoch", interrupted_after_the_study)
        assert tune(*SPACE, "--trials", 2, "--pruner", "none", "--out", "st") == 130
    assert "Continue with:\n  barenet tune --resume st" in capsys.readouterr().err
    assert main(["tune", "--resume", "st"]) == 0
    assert len(load_trials(workdir / "st")) == 2  # the study was done: only best/ is redone
    history = json.loads((workdir / "st" / "best" / "history.json").read_text())
    assert history["epochs_done"] == 3 and not history["interrupted"]


def test_a_study_without_a_complete_trial_exits_1_and_retrains_nothing(
    workdir, capsys, monkeypatch
):
    import optuna

    from barenet.app.tune.objective import TrialObjective

    def pruned(self, trial):
        raise optuna.TrialPruned

    monkeypatch.setattr(TrialObjective, "__call__", pruned)
    assert tune(*SPACE, "--trials", 2, "--out", "st") == 1
    assert "No trial completed: nothing to retrain" in capsys.readouterr().err
    assert len(read_rows(workdir / "st" / "trials.csv")) == 2
    assert not (workdir / "st" / "best").exists()
