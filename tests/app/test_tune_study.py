"""Optuna studies on the digits: pruning, reports, workers, and the settings they refuse."""

from __future__ import annotations

import csv
import time

import pytest
from optuna.trial import TrialState
from tune_helpers import BASE, digits_loaders, load_trials, small_space

from barenet.app.tune_space import space_from_flags
from barenet.app.tune_storage import hide_password
from barenet.app.tune_study import best_config, load_settings, run_study


@pytest.fixture(scope="module")
def loaders():
    return digits_loaders()


def test_a_study_prunes_bad_trials_and_writes_its_reports(tmp_path, loaders, capsys):
    study = run_study(tmp_path, small_space(), BASE, loaders, trials=12, epochs=5, seed=0)
    states = [t.state for t in study.trials]
    assert len(states) == 12
    assert states.count(TrialState.PRUNED) >= 1, "the median pruner stopped no trial"
    assert states.count(TrialState.COMPLETE) >= 3
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert all(len(t.intermediate_values) < 5 for t in pruned)
    best = study.best_trial
    assert best.value == min(t.value for t in study.trials if t.state == TrialState.COMPLETE)
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
    assert load_settings(tmp_path)["space"] == small_space()


def test_two_workers_share_one_study_and_finish_the_budget(tmp_path, loaders):
    run_study(tmp_path, small_space(), BASE, loaders, trials=8, epochs=3, workers=2, progress=False)
    trials = load_trials(tmp_path)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == len(trials) == 8
    assert sorted(t.number for t in trials) == list(range(8))
    assert len({t.user_attrs["pid"] for t in trials}) == 2, "one process ran every trial"


def test_grid_sampler_with_hyperband_and_a_data_setting(tmp_path):
    built = []

    def make_loaders(config):
        built.append(config["batch_size"])
        return digits_loaders(train_images=200, batch_size=config["batch_size"])

    space = space_from_flags(["learning_rate=choice:0.001,0.01", "batch_size=choice:16,64"])
    study = run_study(
        tmp_path, space, {**BASE, "hidden_size": 16}, make_loaders, trials=10, epochs=3,
        sampler="grid", pruner="hyperband", data_keys={"batch_size"}, progress=False,
    )  # fmt: skip
    # The grid has 4 points: the sampler stops there, under the budget of 10.
    assert sorted((t.params["learning_rate"], t.params["batch_size"]) for t in study.trials) == [
        (0.001, 16), (0.001, 64), (0.01, 16), (0.01, 64),
    ]  # fmt: skip
    assert sorted(built) == [16, 16, 64, 64]


def test_an_existing_study_is_not_overwritten(tmp_path, loaders):
    run_study(tmp_path, small_space(), BASE, loaders, trials=1, epochs=1, progress=False)
    with pytest.raises(ValueError, match=f"--resume {tmp_path}"):
        run_study(tmp_path, small_space(), BASE, loaders, trials=2, epochs=1, progress=False)


def test_resume_needs_a_study(tmp_path, loaders):
    with pytest.raises(ValueError, match="no study there"):
        run_study(tmp_path, small_space(), BASE, loaders, trials=1, epochs=1, resume=True)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sampler": "cmaes"}, "sampler must be one of"),
        ({"pruner": "sometimes"}, "pruner must be one of"),
        ({"trials": 0}, "trials must be >= 1"),
        ({"workers": 0}, "workers must be >= 1"),
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"timeout": -1}, "timeout must be > 0"),
        ({"sampler": "grid"}, "grid sampler needs a list of values"),
    ],
)
def test_bad_settings_are_refused_before_the_study_exists(tmp_path, loaders, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_study(tmp_path, small_space(), BASE, loaders, **{"trials": 2, "epochs": 1, **kwargs})
    assert not (tmp_path / "study.journal").exists()


def test_a_setting_no_part_of_a_trial_takes_is_refused(tmp_path, loaders):
    space = space_from_flags(["learning_rat=log:1e-4:1e-2"])
    with pytest.raises(ValueError, match="config key 'learning_rat' is not a setting"):
        run_study(tmp_path, space, BASE, loaders, trials=2, epochs=1)


def test_best_config_decodes_the_winning_parameters(tmp_path, loaders):
    space = space_from_flags(["learning_rate=choice:0.0001,0.03", "hidden_size=choice:8x8,16"])
    base = {**BASE, "num_layer": 3}
    study = run_study(tmp_path, space, base, loaders, trials=4, epochs=2, sampler="grid",
                      pruner="none", progress=False)  # fmt: skip
    config = best_config(study, space, base)
    assert config["learning_rate"] == 0.03  # 1e-4 barely moves in 2 epochs
    assert config["hidden_size"] in ([8, 8], 16) and config["num_layer"] == 3


def test_timeout_stops_a_long_study(tmp_path, loaders):
    start = time.perf_counter()
    study = run_study(tmp_path, small_space(), BASE, loaders, trials=10_000, epochs=1,
                      timeout=1.0, pruner="none", progress=False)  # fmt: skip
    assert time.perf_counter() - start < 20
    assert 1 <= len(study.trials) < 10_000


def test_a_database_password_is_not_written_to_the_output_folder():
    assert hide_password("postgresql://me:s3cr:et@db.lan:5432/tune") == (
        "postgresql://me:***@db.lan:5432/tune"
    )
    assert hide_password("postgresql://me@db.lan/tune") == "postgresql://me@db.lan/tune"
    assert hide_password(None) is None


def test_study_png_with_one_parameter_and_none_before_two_complete_trials(tmp_path, loaders):
    space = space_from_flags(["learning_rate=log:1e-3:1e-1"])
    run_study(tmp_path / "one", space, BASE, loaders, trials=1, epochs=1, progress=False)
    assert not (tmp_path / "one" / "study.png").exists()  # nothing to compare yet
    run_study(tmp_path / "three", space, BASE, loaders, trials=3, epochs=1, pruner="none",
              progress=False)  # fmt: skip
    assert (tmp_path / "three" / "study.png").stat().st_size > 10_000
