"""``barenet check`` on the course's file layout and ``barenet grade`` on the course's pickle keys."""

import sys
import zipfile

import cloudpickle
import learner_solutions as learner
import pytest

from barenet.app.cli import main
from barenet.grading.local.packaging import pickled_by_value


def check_main(argv: list[str]) -> int:
    return main(["check", *argv])


def grade_main(argv: list[str]) -> int:
    return main(["grade", *argv])


LAYER_PY = """
import numpy as np


class Sigmoid:
    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        return out, out

    def backward(self, dout, cache):
        return dout * cache * (1 - cache)


class Relu:
    def forward(self, x):
        return np.maximum(x, 0), x

    def backward(self, dout, cache):
        return dout * (cache > 0)


def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    # Hint: Don't forget to average the gradients dw and db
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(n, -1).T @ dout / n
    db = dout.sum(axis=0) / n
    return dx, dw, db
"""

OPTIMIZER_PY = """
import numpy as np

from exercise_code.networks.layer import affine_forward  # a sibling import, as the course has


class SGDMomentum:
    def _update(self, w, dw, config, lr):
        v = config.get("velocity", np.zeros_like(w))
        v = config.get("momentum", 0.9) * v - lr * dw
        config["velocity"] = v
        return w + v, config
"""


@pytest.fixture
def exercise_code(tmp_path):
    """The course's layout: exercise_code/networks/{layer,optimizer}.py and a tests folder."""
    networks = tmp_path / "exercise_code" / "networks"
    networks.mkdir(parents=True)
    for package in (networks.parent, networks):
        (package / "__init__.py").write_text("")
    (networks / "layer.py").write_text(LAYER_PY)
    (networks / "optimizer.py").write_text(OPTIMIZER_PY)
    tests = networks.parent / "tests"
    tests.mkdir()
    (tests / "layer_tests.py").write_text("from .base_tests import UnitTest  # not barenet's\n")
    yield networks.parent
    for name in [m for m in sys.modules if m.split(".")[0] == "exercise_code"]:
        del sys.modules[name]  # the learner's package, imported by optimizer.py


def test_check_a_folder_finds_the_names_across_its_files(exercise_code, capsys):
    assert check_main([str(exercise_code), "--convention", "batch-mean", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Tests passed: 12/12" in out and "Missing" not in out
    assert "  advice: NumPy warned 'overflow encountered in exp'" in out


def test_check_several_files(exercise_code, capsys):
    networks = exercise_code / "networks"
    paths = [str(networks / "layer.py"), str(networks / "optimizer.py")]
    assert check_main([*paths, "--convention", "batch-mean"]) == 0
    assert check_main(paths) == 1  # exact: the averaged dw and db are 1/N too small
    out = capsys.readouterr().out
    assert "Tests passed: 10/12" in out and "exactly 1/N" in out
    assert "--convention" not in out  # a flag is the teacher's business, not the learner's


def test_check_strict_fails_on_advice(exercise_code, capsys):
    assert check_main([str(exercise_code), "--convention", "batch-mean", "--strict"]) == 1
    assert "graded strictly" in capsys.readouterr().out


def test_check_refuses_an_unknown_convention(exercise_code, capsys):
    with pytest.raises(SystemExit) as exit_info:
        check_main([str(exercise_code), "--convention", "mean"])
    assert exit_info.value.code == 2
    assert "--convention" in capsys.readouterr().err


def course_zip(path, data):
    """A submission zip; the learner's code (learner_solutions) is pickled by value."""
    with pickled_by_value([learner]):
        payload = cloudpickle.dumps(data)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/NN.p", payload)
    return path


COURSE_SUBMISSION = {
    "SGD_Momentum_update": learner.SGDMomentum._update,
    "AffineForward": learner.affine_forward,
    "AffineBackward": learner.affine_backward,
    "Sigmoid": learner.TupleCacheSigmoid,
    "Relu": learner.InPlaceRelu,
}


def test_grade_accepts_the_course_keys_and_convention(tmp_path, capsys):
    path = course_zip(tmp_path / "course.zip", COURSE_SUBMISSION)
    assert grade_main([str(path), "--json", str(tmp_path / "r.json")]) == 0
    out = capsys.readouterr().out
    assert "Score: 100/100" in out and "missing" not in out
    assert grade_main([str(path), "--convention", "batch-mean"]) == 0
    assert "Score: 87.5/100" in capsys.readouterr().out


def test_grade_names_the_keys_it_found_when_one_is_missing(tmp_path, capsys):
    path = course_zip(
        tmp_path / "typo.zip", {"Sigmoid": learner.TupleCacheSigmoid, "Affine_Forward": 1}
    )
    assert grade_main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "missing from the submission: Relu, affine_forward, affine_backward, SGDMomentum" in out
    assert "Affine_Forward" in out
