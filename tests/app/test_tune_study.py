"""Optuna studies on the digits: pruning, reports, workers, and the settings they refuse."""

from __future__ import annotations

import csv
import time

import pytest
from optuna.trial import TrialState
from tune_helpers import digits_trials, load_trials, small_space

from barenet.app.tune.config import TrialSettings
from barenet.app.tune.storage import hide_password
from barenet.app.tune.study import StudySettings, best_params, load_settings, run_study
from barenet.search_space import space_from_flags


@pytest.fixture(scope="module")
def trials():
    return digits_trials(epochs=5)


def study(out, space, shared: TrialSettings, progress=False, **settings):
    """``run_study`` with the StudySettings ``settings``, quiet unless ``progress``."""
    return run_study(out, space, shared, StudySettings(**settings), progress=progress)


def test_a_study_prunes_bad_trials_and_writes_its_reports(tmp_path, trials, capsys):
    done = study(tmp_path, small_space(), trials, progress=True, trials=12)
    states = [t.state for t in done.trials]
    assert len(states) == 12
    assert states.count(TrialState.PRUNED) >= 1, "the median pruner stopped no trial"
    assert states.count(TrialState.COMPLETE) >= 3
    pruned = [t for t in done.trials if t.state == TrialState.PRUNED]
    assert all(len(t.intermediate_values) < 5 for t in pruned)
    best = done.best_trial
    assert best.value == min(t.value for t in done.trials if t.state == TrialState.COMPLETE)
    assert best.user_attrs["val_acc"] > 0.5

    with open(tmp_path / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "number", "state", "value", "val_acc", "learning_rate", "hidden_size", "epochs", "seconds",
    ]  # fmt: skip
    assert [int(r["number"]) for r in rows] == list(range(12))
    assert {r["state"] for r in rows} == {"COMPLETE", "PRUNED"}
    assert all(float(r["seconds"]) > 0 for r in rows)
    assert {int(r["epochs"]) for r in rows if r["state"] == "COMPLETE"} == {5}

    out = capsys.readouterr().out
    board = (tmp_path / "leaderboard.txt").read_text()
    assert board.strip() in out
    assert f"   1 {best.number:>5} {best.value:9.5f}" in board
    assert (tmp_path / "study.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = load_settings(tmp_path)
    assert saved["space"] == small_space()
    assert (saved["epochs"], saved["base_config"]["limit"]) == (5, 400)
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left behind"


def test_two_workers_share_one_study_and_finish_the_budget(tmp_path):
    study(tmp_path, small_space(), digits_trials(epochs=3), trials=8, workers=2)
    trials = load_trials(tmp_path)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == len(trials) == 8
    assert sorted(t.number for t in trials) == list(range(8))
    assert len({t.user_attrs["pid"] for t in trials}) == 2, "one process ran every trial"


def test_each_trial_trains_the_network_of_its_run_config(tmp_path, monkeypatch):
    built = []
    solver = TrialSettings.solver

    def recording(self, config, **kwargs):
        made = solver(self, config, **kwargs)
        built.append((config, made.train_dataloader.batch_size, made.model.params["W1"].shape))
        return made

    monkeypatch.setattr(TrialSettings, "solver", recording)
    space = space_from_flags(["learning_rate=choice:0.001,0.01", "batch_size=choice:16,64"])
    trials = digits_trials(limit=200, epochs=3, hidden_size=[16])
    done = study(tmp_path, space, trials, trials=10, sampler="grid", pruner="hyperband")
    # The grid has 4 points: the sampler stops there, under the budget of 10.
    assert sorted((t.params["learning_rate"], t.params["batch_size"]) for t in done.trials) == [
        (0.001, 16), (0.001, 64), (0.01, 16), (0.01, 64),
    ]  # fmt: skip
    assert sorted(b for _, b, _ in built) == [16, 16, 64, 64]
    assert all(c.batch_size == b and shape == (64, 16) for c, b, shape in built)
    assert {c.learning_rate for c, _, _ in built} == {0.001, 0.01}


def test_an_existing_study_is_not_overwritten(tmp_path, trials):
    study(tmp_path, small_space(), digits_trials(epochs=1), trials=1)
    with pytest.raises(ValueError, match=f"--resume {tmp_path}"):
        study(tmp_path, small_space(), digits_trials(epochs=1), trials=2)


def test_resume_needs_a_study(tmp_path, trials):
    with pytest.raises(ValueError, match="no study there"):
        run_study(tmp_path, small_space(), trials, StudySettings(trials=1), resume=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sampler": "cmaes"}, "sampler must be one of"),
        ({"pruner": "sometimes"}, "pruner must be one of"),
        ({"trials": 0}, "trials must be >= 1"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"timeout": -1}, "timeout must be > 0"),
        ({"sampler": "grid"}, "grid sampler needs a list of values"),
    ],
)
def test_bad_settings_are_refused_before_the_study_exists(tmp_path, trials, kwargs, message):
    with pytest.raises(ValueError, match=message):
        study(tmp_path, small_space(), trials, **{"trials": 2, **kwargs})
    assert not (tmp_path / "study.journal").exists()


def test_a_setting_no_trial_takes_is_refused_before_the_study_exists(tmp_path, trials):
    space = space_from_flags(["learning_rat=log:1e-4:1e-2"])
    with pytest.raises(ValueError, match="--param learning_rat: not a setting to tune"):
        study(tmp_path, space, trials, trials=2)
    assert not (tmp_path / "study.journal").exists()


def test_best_params_decode_the_winning_parameters(tmp_path):
    space = space_from_flags(["learning_rate=choice:0.0001,0.03", "hidden_size=choice:8x8,16"])
    trials = digits_trials(epochs=2)
    done = study(tmp_path, space, trials, trials=4, sampler="grid", pruner="none")
    params = best_params(done, space)
    assert params["learning_rate"] == 0.03  # 1e-4 barely moves in 2 epochs
    assert params["hidden_size"] in ([8, 8], 16)
    assert trials.config(params).hidden_size in ([8, 8], [16])


def test_timeout_stops_a_long_study(tmp_path):
    start = time.perf_counter()
    done = study(tmp_path, small_space(), digits_trials(epochs=1), trials=10_000, timeout=1.0,
                 pruner="none")  # fmt: skip
    assert time.perf_counter() - start < 20
    assert 1 <= len(done.trials) < 10_000


def test_a_database_password_is_not_written_to_the_output_folder():
    assert hide_password("postgresql://me:s3cr:et@db.lan:5432/tune") == (
        "postgresql://me:***@db.lan:5432/tune"
    )
    assert hide_password("postgresql://me@db.lan/tune") == "postgresql://me@db.lan/tune"
    assert hide_password(None) is None


def test_study_png_with_one_parameter_and_none_before_two_complete_trials(tmp_path):
    space = space_from_flags(["learning_rate=log:1e-3:1e-1"])
    trials = digits_trials(epochs=1)
    study(tmp_path / "one", space, trials, trials=1)
    assert not (tmp_path / "one" / "study.png").exists()  # nothing to compare yet
    study(tmp_path / "three", space, trials, trials=3, pruner="none")
    assert (tmp_path / "three" / "study.png").stat().st_size > 10_000
