"""``barenet grade`` on a class: platform exports, the student column, weights, Gradescope
per submission, teacher notes kept out of the learner's feedback, the class report."""

from __future__ import annotations

import csv
import json
import sys
import types
import zipfile
from decimal import Decimal
from pathlib import Path

import cloudpickle
import test_grading_cli as cli_helpers

from barenet.app.cli import main
from barenet.grading.local.packaging import pickled_by_value

AVERAGED = """
def affine_backward(dout, cache):
    x, w, _ = cache
    n = x.shape[0]
    return (dout @ w.T).reshape(x.shape), x.reshape(n, -1).T @ dout / n, dout.sum(0) / n
"""
NO_MASK = """
class Relu(Relu):
    def backward(self, dout, cache):
        return dout
"""


def submission_zip(path: Path, extra_code: str = "") -> Path:
    """A zip of the learner's code (GOOD_FILE, then ``extra_code`` redefining some of it)."""
    module = types.ModuleType("class_learner_code")
    sys.modules[module.__name__] = module
    try:
        exec(cli_helpers.GOOD_FILE + extra_code, module.__dict__)
        names = ("Sigmoid", "Relu", "affine_forward", "affine_backward", "sgd_momentum")
        with pickled_by_value([module]):
            payload = cloudpickle.dumps({k: getattr(module, k) for k in names})
    finally:
        del sys.modules[module.__name__]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/NN.p", payload)
    return path


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_moodle_export_grades_without_renaming(tmp_path):
    export = tmp_path / "lms"
    submission_zip(export / "Alice Smith_1201_assignsubmission_file_" / "exercise05.zip")
    submission_zip(export / "Bob Jones_1202_assignsubmission_file_" / "exercise05.zip", AVERAGED)
    (export / "Carol White_1203_assignsubmission_file_").mkdir()
    out = tmp_path / "grades.csv"
    # status 1: Carol's folder holds no submission (her row says so; the others are graded)
    assert main(["grade", str(export), "--csv", str(out), "--seed", "5"]) == 1
    got = [(r["student"], r["submission"], r["status"], r["score"]) for r in rows(out)]
    assert got == [
        ("Alice Smith_1201", "exercise05.zip", "graded", "100"),
        ("Bob Jones_1202", "exercise05.zip", "graded", "87.5"),
        ("Carol White_1203", "Carol White_1203_assignsubmission_file_", "invalid-submission", "0"),
    ]


def test_a_canvas_export_with_weights_and_the_class_report(tmp_path, capsys):
    export = tmp_path / "canvas"
    submission_zip(export / "smithalice_48213_9911032_exercise05.zip", NO_MASK)
    submission_zip(export / "jonesbob_late_48214_9911040_exercise05.zip", AVERAGED)
    weights = tmp_path / "weights.toml"
    weights.write_text("[groups]\nReluTestWrapper = 2\nAffineTestWrapper = 2\n")
    out, page = tmp_path / "grades.csv", tmp_path / "class.html"
    command = ["grade", str(export), "--csv", str(out), "--weights", str(weights)]
    assert main([*command, "--report", str(page), "--seed", "5"]) == 0
    got = {r["student"]: r["score"] for r in rows(out)}
    # ReLU and affine groups 1/3 of the points each, Sigmoid and momentum 1/6 each
    assert got == {"jonesbob_48214": "83.33", "smithalice_48213": "83.33"}
    html = page.read_text()
    assert "jonesbob_48214" in html and "smithalice_48213" in html
    assert "exactly 1/N" in html and "the mask is missing" in html
    assert "For the teacher: AffineBackwardTestDw" in html and "--convention batch-mean" in html
    printed = capsys.readouterr().out
    assert (
        "Note for the teacher: AffineBackwardTestDw: the learner's dw and db are averaged"
        in printed
    )


def test_gradescope_on_a_class_writes_one_results_json_per_submission(tmp_path):
    export = tmp_path / "gs"
    submission_zip(export / "submission_101" / "exercise05.zip", AVERAGED)
    submission_zip(export / "carol.zip", NO_MASK)
    (export / "submission_metadata.yml").write_text(
        "submission_101:\n  :submitters:\n  - :name: Alice Smith\n    :sid: '1201'\n"
    )
    assert (
        main(["grade", str(export), "--format", "gradescope", "--csv", str(tmp_path / "g.csv")])
        == 0
    )
    for path in (export / "submission_101" / "results.json", export / "carol.results.json"):
        results = json.loads(path.read_text())
        earned = sum(Decimal(str(t["score"])) for t in results["tests"])
        possible = sum(Decimal(str(t["max_score"])) for t in results["tests"])
        assert earned == Decimal(str(results["score"])) and possible == 100
        assert results["score"] == 87.5
        assert "--convention" not in json.dumps(results)  # the learner's feedback names no flag
    assert {r["student"] for r in rows(tmp_path / "g.csv")} == {"Alice Smith (1201)", "carol"}


def test_class_options_are_checked(tmp_path, capsys):
    export = tmp_path / "e"
    submission_zip(export / "a.zip")
    assert main(["grade", str(export), "--format", "gradescope", "--json", "r.json"]) == 2
    assert "one results.json per submission" in capsys.readouterr().err
    assert main(["grade", str(export), "--exercise", "cifar-classification"]) == 2
    assert "needs --test-data" in capsys.readouterr().err
    bad = tmp_path / "w.toml"
    bad.write_text("[tests]\nReluBackwardTset = 2\n")
    assert main(["grade", str(export), "--weights", str(bad)]) == 2
    assert "unknown test 'ReluBackwardTset'" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["grade", str(tmp_path / "empty")]) == 2
    assert "no submissions in" in capsys.readouterr().err
