"""save_pickle and submit_exercise: atomic writes, by-value pickling, refusal without models/."""

import importlib
import pickle
import sys
import threading
import zipfile

import numpy as np
import pytest

import barenet.layers
from barenet.grading.local.packaging import is_learner_module, save_pickle, submit_exercise

LEARNER_SOURCE = """
import numpy as np

def helper(x):
    return np.maximum(x, 0)

class Relu:
    def forward(self, x):
        return helper(x), x

    def backward(self, dout, cache):
        return np.where(cache > 0, dout, 0.0)
"""


def import_learner_module(folder, name):
    folder.mkdir()
    (folder / f"{name}.py").write_text(LEARNER_SOURCE)
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(folder))


def test_save_pickle_writes_models_under_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = save_pickle({"answer": 42}, "exercise_code.p")
    assert path.resolve() == (tmp_path / "models" / "exercise_code.p").resolve()
    assert pickle.loads(path.read_bytes()) == {"answer": 42}
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["exercise_code.p"]


def test_save_pickle_accepts_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_pickle({"a": 1}, "x.p", directory="elsewhere/deeper")
    assert (tmp_path / "elsewhere" / "deeper" / "x.p").is_file()


def test_a_failed_save_leaves_no_file_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_pickle({"a": 1}, "x.p")
    with pytest.raises(TypeError):
        save_pickle({"lock": threading.Lock()}, "x.p")
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["x.p"]
    assert pickle.loads((tmp_path / "models" / "x.p").read_bytes()) == {"a": 1}


def test_learner_code_travels_by_value(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = import_learner_module(tmp_path / "src", "learner_layers_by_value")
    assert is_learner_module(module)
    path = save_pickle({"Relu": module.Relu}, "exercise_code.p")
    # Without the source and the module, the class (and its helper) still load and run.
    del sys.modules["learner_layers_by_value"]
    (tmp_path / "src" / "learner_layers_by_value.py").unlink()
    relu = pickle.loads(path.read_bytes())["Relu"]()
    out, _ = relu.forward(np.array([-1.0, 2.0]))
    assert out.tolist() == [0.0, 2.0]


def test_barenet_objects_are_stored_by_reference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = save_pickle({"Sigmoid": barenet.layers.Sigmoid}, "ref.p")
    assert b"barenet.layers" in path.read_bytes() and len(path.read_bytes()) < 200
    assert pickle.loads(path.read_bytes())["Sigmoid"] is barenet.layers.Sigmoid
    assert not is_learner_module(barenet.layers) and not is_learner_module(pickle)


def test_submit_exercise_zips_models_and_notebooks(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    save_pickle({"a": 1}, "exercise_code.p")
    (tmp_path / "exercise.ipynb").write_text("{}")
    (tmp_path / "models" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "models" / ".ipynb_checkpoints" / "junk").write_text("x")
    zip_path = submit_exercise("out/exercise_05")
    out = capsys.readouterr().out
    assert zip_path.resolve() == (tmp_path / "out" / "exercise_05.zip").resolve()
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == ["exercise.ipynb", "models/exercise_code.p"]
    assert "Adding folder models/ (1 file)" in out
    assert "Adding notebook exercise.ipynb" in out
    assert str(zip_path.resolve()) in out


@pytest.mark.parametrize("empty", [False, True], ids=["missing", "empty"])
def test_submit_exercise_refuses_without_models(tmp_path, monkeypatch, empty):
    monkeypatch.chdir(tmp_path)
    if empty:
        (tmp_path / "models").mkdir()
    with pytest.raises(FileNotFoundError, match="models"):
        submit_exercise("exercise_05")
    assert not list(tmp_path.glob("*.zip"))
    assert not list(tmp_path.glob(".*.tmp"))


def test_submit_exercise_reads_from_data_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save_pickle({"a": 1}, "x.p", directory="work/models")
    zip_path = submit_exercise("sub", data_path="work")
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.namelist() == ["models/x.p"]
