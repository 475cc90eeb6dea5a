"""`barenet check` and `barenet grade` on the next exercises' submissions, with real pickles.

The learner's layers (``next_solutions.SOURCE``, written independently of barenet) are
saved by value with ``save_pickle``, zipped with ``submit_exercise`` and graded in the
sandboxed child: one key per function, the verdicts computed outside the sandbox on
fresh inputs, every test's row kept in the report.
"""

from __future__ import annotations

import json
import sys

import next_solutions
import pytest

from barenet.app.check import check_main
from barenet.app.grade import grade_main
from barenet.grading.local.packaging import save_pickle, submit_exercise
from barenet.grading.submissions.grader import grade_submission

TIMEOUT = 30.0
TESTS = {"batchnorm-dropout": 14, "convnet": 19}


@pytest.fixture
def learner(tmp_path):
    folder = tmp_path / "learner_src"
    folder.mkdir()
    module = next_solutions.learner_module(folder)
    yield module
    del sys.modules[module.__name__]


def submission(tmp_path, monkeypatch, module, keys, name, rename=None):
    """A zip made as a learner makes it: save_pickle, then submit_exercise."""
    monkeypatch.chdir(tmp_path)
    rename = rename or {}
    save_pickle({rename.get(k, k): getattr(module, k) for k in keys}, f"{name}.p")
    return submit_exercise(name)


def test_grade_a_batchnorm_dropout_submission_scores_100(tmp_path, monkeypatch, learner, capsys):
    zip_path = submission(
        tmp_path, monkeypatch, learner, next_solutions.BATCHNORM_DROPOUT_KEYS, "bn"
    )
    saved = capsys.readouterr().out
    assert "Warning" not in saved  # the pickle holds the whole exercise
    code = grade_main(
        [
            str(zip_path),
            "--exercise",
            "batchnorm-dropout",
            "--timeout",
            str(TIMEOUT),
            "--json",
            str(tmp_path / "report.json"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "Score: 100/100" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["status"] == "graded" and report["score"] == 100
    assert report["exercise"] == "batchnorm-dropout"
    assert len(report["tests"]) == TESTS["batchnorm-dropout"]
    names = [test["name"] for test in report["tests"]]
    assert names[0] == "BatchNormForwardTrainTest" and names[-1] == "DropoutBackwardTest"
    assert names[6:10] == [  # layer norm, graded between batch norm and dropout
        "LayerNormForwardTest",
        "LayerNormBackwardTestDx",
        "LayerNormBackwardTestDgamma",
        "LayerNormBackwardTestDbeta",
    ]


def test_grade_a_convnet_submission_with_camel_case_keys(tmp_path, monkeypatch, learner):
    camel = {"conv_forward": "ConvForward", "max_pool_backward": "MaxPoolBackward"}
    zip_path = submission(
        tmp_path, monkeypatch, learner, next_solutions.CONVNET_KEYS, "cnn", rename=camel
    )
    first = grade_submission(zip_path, timeout=TIMEOUT, exercise="convnet")
    assert first.status == "graded" and first.score == 100, first.reason
    assert len(first.tests) == TESTS["convnet"] and first.exercise == "convnet"
    second = grade_submission(zip_path, timeout=TIMEOUT, exercise="convnet")
    assert second.seed != first.seed  # fresh inputs for every grade


def test_a_bug_costs_its_test_and_is_named_in_the_report(tmp_path, monkeypatch):
    buggy = next_solutions.SOURCE.replace(
        "xhat = (x - mu) / np.sqrt(var + eps)", "xhat = (x - mu) / (np.sqrt(var) + eps)"
    )
    assert buggy != next_solutions.SOURCE
    module = next_solutions.learner_module(tmp_path, "buggy_layers", buggy)
    try:
        zip_path = submission(
            tmp_path, monkeypatch, module, next_solutions.BATCHNORM_DROPOUT_KEYS, "buggy"
        )
    finally:
        del sys.modules["buggy_layers"]
    report = grade_submission(zip_path, timeout=TIMEOUT, exercise="batchnorm-dropout", seed=7)
    assert report.status == "graded" and 0 < report.score < 100
    assert len(report.tests) == TESTS["batchnorm-dropout"]  # every row kept
    forward = next(t for t in report.tests if t["name"] == "BatchNormForwardTrainTest")
    assert not forward["passed"] and "eps is added outside the square root" in forward["diagnosis"]
    dropout = [t for t in report.tests if t["name"].startswith("Dropout")]
    assert len(dropout) == 4 and all(t["passed"] for t in dropout)


def test_a_submission_without_layer_norm_loses_its_tests(tmp_path, monkeypatch, learner, capsys):
    keys = [k for k in next_solutions.BATCHNORM_DROPOUT_KEYS if not k.startswith("layernorm")]
    zip_path = submission(tmp_path, monkeypatch, learner, keys, "bn")
    assert "has no layernorm_forward, layernorm_backward" in capsys.readouterr().out
    report = grade_submission(zip_path, timeout=TIMEOUT, exercise="batchnorm-dropout", seed=5)
    assert report.status == "graded" and report.score == pytest.approx(200 / 3, abs=0.01)
    assert len(report.tests) == TESTS["batchnorm-dropout"]
    failed = [t["name"] for t in report.tests if not t["passed"]]
    assert failed == [
        "LayerNormForwardTest",
        "LayerNormBackwardTestDx",
        "LayerNormBackwardTestDgamma",
        "LayerNormBackwardTestDbeta",
    ]


def test_a_submission_of_another_exercise_is_invalid(tmp_path, monkeypatch, learner):
    zip_path = submission(tmp_path, monkeypatch, learner, next_solutions.CONVNET_KEYS, "cnn")
    report = grade_submission(zip_path, timeout=TIMEOUT)  # graded as the first exercise
    assert report.status == "invalid-submission" and report.score == 0
    assert "conv_forward" in report.reason  # it names what the pickle holds


def test_check_finds_the_exercise_from_the_names_and_scores_100(tmp_path, capsys):
    (tmp_path / "layers.py").write_text(next_solutions.SOURCE)
    assert check_main([str(tmp_path / "layers.py"), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "ConvForwardTest passed." in out and "Sigmoid" not in out  # the convnet suite
    assert check_main([str(tmp_path / "layers.py"), "--exercise", "batchnorm-dropout"]) == 0
    assert "DropoutBackwardTest passed." in capsys.readouterr().out


def test_an_unknown_exercise_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        grade_main([str(tmp_path), "--exercise", "transformers"])
    assert exit_info.value.code == 2
    assert "--exercise" in capsys.readouterr().err
