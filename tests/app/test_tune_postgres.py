"""A study stored in a real PostgreSQL server, shared by workers as on several machines."""

from __future__ import annotations

import os

import optuna
import pytest
from optuna.trial import TrialState
from postgres_server import postgres_server, why_unavailable
from tune_helpers import digits_trials, small_space

from barenet.app.tune.storage import open_storage
from barenet.app.tune.study import StudySettings, run_study


@pytest.fixture(scope="module")
def postgres_url():
    reason = why_unavailable()
    if reason:
        pytest.skip(reason)
    with postgres_server() as url:
        yield url


def test_workers_and_a_second_machine_share_a_study_in_postgresql(tmp_path, postgres_url):
    trials = digits_trials(limit=200, epochs=2)
    first, second = tmp_path / "first", tmp_path / "second"
    shared = {"storage": postgres_url, "study_name": "shared"}
    run_study(first, small_space(), trials, StudySettings(trials=6, workers=2, **shared),
              progress=False)  # fmt: skip
    # Another machine runs the same command with the same storage and study name: it joins.
    run_study(second, small_space(), trials, StudySettings(trials=9, **shared), progress=False)

    study = optuna.load_study(study_name="shared", storage=open_storage(postgres_url))
    trials = study.get_trials()
    assert sorted(t.number for t in trials) == list(range(9))
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert len({t.user_attrs["pid"] for t in trials[:6]}) == 2  # two worker processes
    assert {t.user_attrs["pid"] for t in trials[6:]} == {os.getpid()}  # the joining run
    assert not (first / "study.journal").exists()  # the study lives in the database
    assert (second / "trials.csv").read_text().count("\n") == 1 + 9


def test_the_command_joins_and_resumes_a_study_in_postgresql(tmp_path, postgres_url, capsys):
    from barenet.app.cli import main

    tune = ["tune", "--limit", "200", "--epochs", "2", "--param", "hidden_size=int:8:32"]
    shared = ["--storage", postgres_url, "--study-name", "command"]
    assert main([*tune, *shared, "--trials", "2", "--out", str(tmp_path / "a")]) == 0
    # The second machine's command: the same storage and study name, its own folder.
    assert main([*tune, *shared, "--trials", "4", "--out", str(tmp_path / "b")]) == 0
    # Resuming takes the storage from tune.json (this URL has no password to leave out).
    assert main(["tune", "--resume", str(tmp_path / "a"), "--trials", "5"]) == 0
    study = optuna.load_study(study_name="command", storage=open_storage(postgres_url))
    assert sorted(t.number for t in study.get_trials()) == list(range(5))
    assert (tmp_path / "a" / "best" / "model.npz").is_file()
