"""``barenet check`` and ``barenet grade``, called directly and through ``python -m``."""

import json
import os
import pickle
import subprocess
import sys
import types
import zipfile

import cloudpickle
import pytest

import barenet.layers
import barenet.optim
from barenet.app.cli import main
from barenet.grading.local.packaging import pickled_by_value

GOOD_FILE = """
import numpy as np


class Sigmoid:
    def forward(self, x):
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0, e) / (1.0 + e)
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1.0 - cache)


class Relu:
    def forward(self, x):
        return np.maximum(x, 0.0), x

    def backward(self, dout, cache):
        return np.where(cache > 0, dout, 0.0)


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, _ = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(0)


def sgd_momentum(w, dw, config=None, lr=1e-2):
    config = {} if config is None else config
    v = config.get("momentum", 0.9) * config.get("velocity", 0.0) - lr * dw
    config["velocity"] = v
    return w + v, config
"""

NAIVE_SIGMOID_NO_RELU = """
import numpy as np


class Sigmoid:
    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1 - cache)
"""


def check_main(argv: list[str]) -> int:
    return main(["check", *argv])


def grade_main(argv: list[str]) -> int:
    return main(["grade", *argv])


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "my_layers.py"
    path.write_text(GOOD_FILE)
    return path


def test_check_a_correct_file_exits_0(good_file, capsys):
    assert check_main([str(good_file)]) == 0
    out = capsys.readouterr().out
    assert "SigmoidForwardTest passed." in out
    assert "Tests passed: 12/12" in out
    assert out.splitlines()[-1] == "Score: 100/100"


def test_check_reports_missing_names_and_failures(tmp_path, capsys):
    path = tmp_path / "partial.py"
    path.write_text(NAIVE_SIGMOID_NO_RELU)
    assert check_main([str(path)]) == 1
    out = capsys.readouterr().out
    assert "Missing: Relu, affine_forward, affine_backward, SGDMomentum" in out
    assert "found: Sigmoid" in out
    assert "  advice: NumPy warned 'overflow encountered in exp'" in out
    assert "Score: 25/100" in out  # the Sigmoid group: 1 of 4 groups, as barenet grade counts


def test_check_a_file_that_does_not_import(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\nthis is not python\n")
    assert check_main([str(path)]) == 1
    assert "could not import" in capsys.readouterr().err


def test_check_a_missing_file_exits_2(tmp_path, capsys):
    assert check_main([str(tmp_path / "nope.py")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_check_notes_barenet_objects(tmp_path, capsys):
    path = tmp_path / "reexport.py"
    path.write_text("from barenet.layers import Relu\n")
    check_main([str(path)])
    assert "Relu is barenet's own" in capsys.readouterr().out


def test_check_through_python_dash_m(good_file):
    done = subprocess.run(
        [sys.executable, "-m", "barenet", "check", str(good_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Score: 100/100" in done.stdout


def test_check_through_python_dash_m_fails_below_100(tmp_path):
    path = tmp_path / "partial.py"
    path.write_text(NAIVE_SIGMOID_NO_RELU)
    done = subprocess.run(
        [sys.executable, "-m", "barenet", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Missing: Relu" in done.stdout


def learner_submission(path):
    """A zip pickling a learner's correct code (GOOD_FILE) by value: scores 100."""
    module = types.ModuleType("good_learner_code")
    sys.modules[module.__name__] = module
    try:
        exec(GOOD_FILE, module.__dict__)
        with pickled_by_value([module]):
            payload = cloudpickle.dumps(
                {
                    k: getattr(module, k)
                    for k in (
                        "Sigmoid",
                        "Relu",
                        "affine_forward",
                        "affine_backward",
                        "sgd_momentum",
                    )
                }
            )
    finally:
        del sys.modules[module.__name__]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/exercise_code.p", payload)
    return path


def barenet_submission(path):
    """A zip pickling barenet's own implementations (by reference): refused."""
    payload = pickle.dumps(
        {
            "Sigmoid": barenet.layers.Sigmoid,
            "Relu": barenet.layers.Relu,
            "affine_forward": barenet.layers.affine_forward,
            "affine_backward": barenet.layers.affine_backward,
            "SGDMomentum": barenet.optim.SGDMomentum,
        }
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/exercise_code.p", payload)
    return path


def test_grade_refuses_barenet_own_code(tmp_path, capsys):
    assert grade_main([str(barenet_submission(tmp_path / "ref.zip"))]) == 1
    out = capsys.readouterr().out
    assert "Status: invalid-submission" in out and "uses barenet's reference code" in out
    assert out.splitlines()[-1] == "Score: 0/100"


def test_grade_a_zip_with_json_report(tmp_path, capsys):
    zip_path = learner_submission(tmp_path / "sub.zip")
    report = tmp_path / "report.json"
    assert grade_main([str(zip_path), "--json", str(report), "--timeout", "30"]) == 0
    out = capsys.readouterr().out
    assert "Sandbox:" in out and out.splitlines()[-2] == "Score: 100/100"
    data = json.loads(report.read_text())
    assert data["score"] == 100
    assert {"name", "passed", "message"} <= set(data["tests"][0])
    assert isinstance(data["sandbox"], str) and data["sandbox"]


def test_grade_a_folder_writes_one_csv_line_per_submission(tmp_path, capsys):
    folder = tmp_path / "subs"
    folder.mkdir()
    learner_submission(folder / "a.zip")
    (folder / "b.zip").write_bytes(b"not a zip")
    csv_path = tmp_path / "grades.csv"
    # 1: one submission was not graded (a script can tell), and every row is written.
    assert grade_main([str(folder), "--csv", str(csv_path), "--timeout", "20"]) == 1
    lines = csv_path.read_text().splitlines()
    assert len(lines) == 3
    assert (
        lines[0]
        == "student,submission,status,score,passed,total,failed_tests,advice,reason,isolation"
    )
    assert lines[1].startswith("a,a.zip,graded,100,12,12,,")
    assert lines[2].startswith("b,b.zip,invalid-submission,0,,,,,")


def test_grade_nothing_exits_2(tmp_path, capsys):
    assert grade_main([str(tmp_path / "missing.zip")]) == 2
    assert grade_main([str(tmp_path)]) == 2  # a folder without zips


def test_grade_through_python_dash_m(tmp_path):
    zip_path = learner_submission(tmp_path / "sub.zip")
    done = subprocess.run(
        [sys.executable, "-m", "barenet", "grade", str(zip_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ},
    )
    assert done.returncode == 0, done.stderr
    assert "Score: 100/100" in done.stdout


def test_unknown_subcommand_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["frobnicate"])
    assert exited.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_grade_exits_1_when_a_submission_is_not_graded(tmp_path, capsys):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"not a zip")
    assert grade_main([str(fake)]) == 1
    assert "Status: invalid-submission" in capsys.readouterr().out


def test_grade_without_a_sandbox_exits_2_naming_the_fix(tmp_path, capsys, monkeypatch):
    import barenet.grading.sandbox.isolation as isolation

    missing = isolation.Isolation("none", "bubblewrap (bwrap) is not installed")
    monkeypatch.setattr(isolation, "detect_isolation", lambda: missing)
    zip_path = learner_submission(tmp_path / "sub.zip")
    assert grade_main([str(zip_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing of the submission ran
    error = captured.err.strip()
    assert len(error.splitlines()) == 1 and "bwrap) is not installed" in error
    assert "apt-get install bubblewrap" in error and "--no-sandbox" in error
    csv_path = tmp_path / "grades.csv"
    assert grade_main([str(zip_path), "--no-sandbox", "--csv", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert (
        "Sandbox: NO file-system or network isolation (waived explicitly with --no-sandbox" in out
    )
    assert "Score: 100/100" in out.splitlines()
    assert csv_path.read_text().splitlines()[1].endswith(",none")
