"""A study killed mid-way (SIGKILL, no clean-up at all) and then resumed."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from optuna.trial import TrialState
from tune_helpers import digits_trials, load_trials

from barenet.app.tune.study import StudySettings, load_settings, run_study

SCRIPT = """
import sys, time
sys.path.insert(0, {helpers!r})
from tune_helpers import digits_trials, small_space
from barenet.app.tune.study import StudySettings, run_study
from barenet.solver import Solver

train_epoch = Solver._train_epoch

def slow_epoch(self):  # like data read from a slow disk: about 1.2 s a trial, little CPU
    time.sleep(0.4)
    return train_epoch(self)

Solver._train_epoch = slow_epoch
settings = StudySettings(trials=40, sampler="random", pruner="none", workers={workers})
trials = digits_trials(limit=200, epochs=3, batch_size=50)
run_study({out!r}, small_space(), trials, settings, progress=False)
"""


def _finished_rows(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, newline="") as f:
        return sum(row["state"] in ("COMPLETE", "PRUNED") for row in csv.DictReader(f))


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_killed_study_resumes_without_losing_or_repeating_trials(tmp_path):
    script = SCRIPT.format(helpers=str(Path(__file__).parent), out=str(tmp_path), workers=1)
    worker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)])
    try:
        _wait_for(lambda: _finished_rows(tmp_path / "trials.csv") >= 2, 120, "2 finished trials")
        _wait_for(
            lambda: any(t.state == TrialState.RUNNING for t in load_trials(tmp_path)),
            30,
            "a running trial",
        )
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()  # reaped: its pid no longer names a live process
    assert worker.returncode == -signal.SIGKILL

    before = load_trials(tmp_path)
    done_before = {t.number: t.value for t in before if t.state == TrialState.COMPLETE}
    running = [t.number for t in before if t.state == TrialState.RUNNING]
    assert len(done_before) >= 2 and len(running) == 1

    settings = load_settings(tmp_path)
    target = len(done_before) + 2
    again = StudySettings(trials=target, sampler=settings["sampler"], pruner=settings["pruner"])
    trials = digits_trials(limit=200, epochs=2)
    run_study(tmp_path, settings["space"], trials, again, resume=True, progress=False)

    after = load_trials(tmp_path)
    numbers = [t.number for t in after]
    assert sorted(numbers) == list(range(len(after))), "a trial number appears twice or is missing"
    assert {t.number: t.value for t in after if t.number in done_before} == done_before
    assert [t.state for t in after if t.number in running] == [TrialState.FAIL]
    assert not [t for t in after if t.state == TrialState.RUNNING]
    finished = [t for t in after if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == target
    assert all(t.number > max(running) for t in finished if t.number not in done_before)


def test_ctrl_c_stops_every_worker_and_marks_their_trials_failed(tmp_path):
    script = SCRIPT.format(helpers=str(Path(__file__).parent), out=str(tmp_path), workers=2)
    # Its own process group, as a terminal's: Ctrl-C reaches the parent and both workers.
    worker = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)],
                              start_new_session=True, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _wait_for(lambda: _finished_rows(tmp_path / "trials.csv") >= 2, 120, "2 finished trials")
        os.killpg(worker.pid, signal.SIGINT)
        _, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    assert worker.returncode != 0 and b"KeyboardInterrupt" in err
    trials = load_trials(tmp_path)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert 1 <= sum(t.state == TrialState.FAIL for t in trials) <= 2
    assert len(trials) < 40
    with open(tmp_path / "trials.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(
            trials
        )  # the reports were written on the way out
