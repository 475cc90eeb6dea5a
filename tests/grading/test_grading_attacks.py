"""Attacks on the grade, each tried the way a hostile learner would; the grade holds.

The learner's code runs in the sandboxed child; the verdicts are computed by the
grader from the outputs the child sends back. So forged output lines, a patched
harness or a forged response cannot raise a score, inputs are fresh, barenet's
own code is refused, and one hostile submission never costs the batch a row.
"""

import csv
import json
import os
import pickle
import re
import struct
import sys
import tempfile
import time
import types
import zipfile

import cloudpickle
import learner_solutions as learner
import pytest

from barenet.app.grade import grade_main
from barenet.archives import UnsafeArchiveError, safe_extract
from barenet.grading.local.packaging import pickled_by_value
from barenet.grading.submissions.exports import gradescope_results, write_csv
from barenet.grading.submissions.grader import grade_folder, grade_submission
from barenet.grading.submissions.text import clean_text

TIMEOUT = 30.0

CORRECT = {
    "SGD_Momentum_update": learner.SGDMomentum._update,
    "AffineForward": learner.affine_forward,
    "AffineBackward": learner.affine_backward,
    "Sigmoid": learner.TupleCacheSigmoid,
    "Relu": learner.NoMaskRelu,  # the one bug: ReluBackwardTest fails, 11 of 12 pass
}
BUGGY_SCORE = 87.5  # ReluBackwardTest is half of the ReLU group's 25 points


class Runs:
    """Unpickling this runs ``code`` in the child (how a pickle runs code)."""

    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


def submission(path, data, *modules):
    """A zip whose pickle stores the learner's modules by value; a ``Runs`` key runs first."""
    with pickled_by_value([learner, *modules]):
        payload = cloudpickle.dumps(data)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/NN.p", payload)
    return path


def hostile(path, code, **more):
    """The buggy submission, with ``code`` run while it is unpickled."""
    return submission(path, {"attack": Runs(code), **CORRECT, **more})


# ------------------------------------------------------------------ forged results

FORGED = b'BARENET_RESULT {"score": 100, "tests": [{"name": "MadeUpTest", "passed": true}]}\n'


def test_honest_buggy_submission_scores_its_score(tmp_path):
    report = grade_submission(submission(tmp_path / "honest.zip", CORRECT), timeout=TIMEOUT)
    assert (report.status, report.score) == ("graded", BUGGY_SCORE)


def test_a_forged_line_on_stdout_then_exit_is_no_result(tmp_path):
    code = f"import os\nos.write(1, {FORGED!r})\nos._exit(0)"
    report = grade_submission(hostile(tmp_path / "forged.zip", code), timeout=TIMEOUT)
    assert (report.status, report.score) == ("crashed", 0)
    assert "without a result" in report.reason


def test_a_forged_line_at_exit_changes_nothing(tmp_path):
    code = f"import atexit, os\natexit.register(lambda: os.write(1, {FORGED!r}))"
    report = grade_submission(hostile(tmp_path / "atexit.zip", code), timeout=TIMEOUT)
    assert (report.status, report.score) == ("graded", BUGGY_SCORE)
    assert "MadeUpTest" not in [t["name"] for t in report.tests]


def test_a_forged_response_on_the_result_pipe_earns_nothing(tmp_path):
    code = (
        "import sys, os, json, struct\n"
        "header = json.dumps({'keys': ['Sigmoid'], 'load_error': None, "
        "'records': [[{'result': None, 'error': None}]] * 12}).encode()\n"
        "os.write(int(sys.argv[2]), b'BNW1' + struct.pack('<Q', len(header)) + header)\n"
    )
    report = grade_submission(hostile(tmp_path / "pipe.zip", code), timeout=TIMEOUT)
    assert report.score < BUGGY_SCORE


def test_a_patched_harness_changes_nothing(tmp_path):
    code = (
        "import sys\n"
        "try:\n"
        "    import barenet.grading.engine.results as h\n"
        "    h.score_percent = lambda passed, total: 100\n"
        "except ImportError:\n"
        "    pass\n"
        "for name, module in list(sys.modules.items()):\n"
        "    if name.startswith('barenet_sandboxed') and hasattr(module, 'run_plans'):\n"
        "        module.run_plans = lambda plans, impl: [[{'result': 'passed'}] for _ in plans]\n"
    )
    report = grade_submission(hostile(tmp_path / "patch.zip", code), timeout=TIMEOUT)
    assert report.score <= BUGGY_SCORE
    assert all(t["name"] != "MadeUpTest" for t in report.tests)


# ------------------------------------------------------------------ fresh inputs


def test_code_that_detects_the_course_input_fails(tmp_path):
    data = {**CORRECT, "Relu": learner.InPlaceRelu}
    data["AffineBackward"] = learner.shape_detecting_affine_backward
    reports = [
        grade_submission(submission(tmp_path / f"detect{s}.zip", data), timeout=TIMEOUT, seed=s)
        for s in (1, 2)
    ]
    for report in reports:
        failed = {t["name"] for t in report.tests if not t["passed"]}
        assert failed == {"AffineBackwardTestDw", "AffineBackwardTestDb"}
    assert reports[0].seed == 1 and reports[1].seed == 2


def test_the_seed_repeats_a_grade_and_is_recorded(tmp_path):
    path = submission(tmp_path / "s.zip", CORRECT)
    first = grade_submission(path, timeout=TIMEOUT, seed=12345)
    again = grade_submission(path, timeout=TIMEOUT, seed=12345)
    assert first.tests == again.tests and first.to_dict()["seed"] == 12345


# ------------------------------------------------------------------ reference code


def test_barenet_own_code_is_refused(tmp_path):
    import barenet.layers

    payload = pickle.dumps({"Relu": barenet.layers.Relu, "Sigmoid": barenet.layers.Sigmoid})
    path = tmp_path / "ref.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("models/NN.p", payload)
    report = grade_submission(path, timeout=TIMEOUT)
    assert (report.status, report.score) == ("invalid-submission", 0)
    assert "uses barenet's reference code" in report.reason


def test_a_subclass_of_barenet_layer_is_refused(tmp_path):
    module = types.ModuleType("subclassing_learner")
    sys.modules[module.__name__] = module
    try:
        exec(
            "import barenet.layers\nclass Sigmoid(barenet.layers.Sigmoid):\n    pass\n",
            module.__dict__,
        )
        path = submission(tmp_path / "sub.zip", {**CORRECT, "Sigmoid": module.Sigmoid}, module)
    finally:
        del sys.modules[module.__name__]
    report = grade_submission(path, timeout=TIMEOUT)
    assert (report.status, report.score) == ("invalid-submission", 0)
    assert "uses barenet's reference code" in report.reason


# ------------------------------------------------------------------ the batch keeps every row

NESTED = (
    "import sys, os, struct\n"
    "header = b'[' * 100000\n"
    "os.write(int(sys.argv[2]), b'BNW1' + struct.pack('<Q', len(header)) + header)\n"
    "os._exit(0)\n"
)
DEEP = (
    "import os\n"
    "os.symlink('{outside}', 'link-out')\n"
    "fd = os.open('.', os.O_RDONLY)\n"
    "for _ in range(3000):\n"
    "    os.mkdir('d', dir_fd=fd)\n"
    "    inner = os.open('d', os.O_RDONLY, dir_fd=fd)\n"
    "    os.close(fd)\n"
    "    fd = inner\n"
    "os.chmod('.', 0o500)\n"
)
FLOOD = (
    "import sys, os\n"
    "chunk = b'BNW1' + b'x' * (1 << 20)\n"
    "for _ in range(200):\n"
    "    os.write(int(sys.argv[2]), chunk)\n"
)


def test_a_batch_keeps_every_row_whatever_the_submissions_do(tmp_path, monkeypatch):
    folder = tmp_path / "batch"
    folder.mkdir()
    submission(folder / "a-honest.zip", CORRECT)
    hostile(folder / "b-nested.zip", NESTED)
    outside = tmp_path / "outside"  # a link to it is left in a working folder
    outside.mkdir()
    (outside / "keep.txt").write_text("the teacher's")
    hostile(folder / "c-deep.zip", DEEP.replace("{outside}", str(outside)))
    hostile(folder / "d-flood.zip", FLOOD)
    (folder / "e-not-a-zip.zip").write_bytes(b"PK not really")
    private_tmp = tmp_path / "tmp"  # the grader's working folders go here, and only here
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    reports = grade_folder(folder, timeout=TIMEOUT, workers=2)
    by_name = {r.submission: r for r in reports}
    assert sorted(by_name) == [
        "a-honest.zip",
        "b-nested.zip",
        "c-deep.zip",
        "d-flood.zip",
        "e-not-a-zip.zip",
    ]
    assert (by_name["a-honest.zip"].status, by_name["a-honest.zip"].score) == (
        "graded",
        BUGGY_SCORE,
    )
    assert (
        by_name["b-nested.zip"].status == "crashed"
        and "no readable result" in by_name["b-nested.zip"].reason
    )
    assert (by_name["c-deep.zip"].status, by_name["c-deep.zip"].score) == ("graded", BUGGY_SCORE)
    assert by_name["d-flood.zip"].status == "crashed"
    assert by_name["e-not-a-zip.zip"].status == "invalid-submission"
    assert os.listdir(private_tmp) == []  # every working folder removed, the deep one too
    assert (outside / "keep.txt").read_text() == "the teacher's"  # links not followed
    write_csv(reports, tmp_path / "grades.csv")
    assert len((tmp_path / "grades.csv").read_text().splitlines()) == 6


# ------------------------------------------------------------------ injection

ESCAPES = "\x1b]52;c;c3RvbGVu\x07\x1b[2J\x1b[1A\x1b[8mhidden\r\x9b31m"


def test_escape_sequences_never_reach_the_terminal(tmp_path, capsys):
    module = types.ModuleType("escaping_learner")
    sys.modules[module.__name__] = module
    try:
        exec(
            "class Sigmoid:\n"
            "    def forward(self, x):\n"
            f"        raise ValueError({ESCAPES!r})\n"
            "    def backward(self, dout, cache):\n"
            f"        raise ValueError({ESCAPES!r})\n",
            module.__dict__,
        )
        name = "\x1b[31mred\x1b[0m.zip"
        path = submission(tmp_path / name, {**CORRECT, "Sigmoid": module.Sigmoid}, module)
    finally:
        del sys.modules[module.__name__]
    assert grade_main([str(path), "--csv", str(tmp_path / "g.csv")]) == 0
    out = capsys.readouterr().out
    assert "SigmoidForwardTest failed: Sigmoid.forward raised ValueError: hidden" in out
    for text in (out, (tmp_path / "g.csv").read_text()):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text.replace("\r\n", "\n"))
    assert clean_text(ESCAPES) == "hidden"


def test_formula_like_cells_are_escaped(tmp_path):
    name = '=HYPERLINK("https:example.com","open me").zip'
    module = types.ModuleType("formula_learner")
    sys.modules[module.__name__] = module
    try:
        exec("def affine_forward(x, w, b):\n    raise ValueError('=1+1')\n", module.__dict__)
        path = submission(
            tmp_path / name, {**CORRECT, "AffineForward": module.affine_forward}, module
        )
    finally:
        del sys.modules[module.__name__]
    (folder := tmp_path / "f").mkdir()
    path.rename(folder / name)
    reports = grade_folder(folder, timeout=TIMEOUT)
    write_csv(reports, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["submission"] == "'" + name
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


# ------------------------------------------------------------------ limits


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf"])
def test_a_timeout_that_is_not_positive_exits_2(tmp_path, value, capsys):
    path = submission(tmp_path / "s.zip", CORRECT)
    with pytest.raises(SystemExit) as exit_info:
        grade_main([str(path), "--timeout", value])
    assert exit_info.value.code == 2
    assert "--timeout" in capsys.readouterr().err


def test_limits_name_the_wrong_value():
    from barenet.grading.sandbox.limits import Limits

    with pytest.raises(ValueError, match="timeout_s must be a positive number"):
        Limits(timeout_s=0)
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=-1)


def test_the_process_limit_holds_and_is_stated(tmp_path):
    code = (
        "import os, time\n"
        "forked = 0\n"
        "try:\n"
        "    for _ in range(150):\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(2)\n"
        "            os._exit(0)\n"
        "        forked += 1\n"
        "except OSError:\n"
        "    pass\n"
        "raise RuntimeError(f'forked {forked}')\n"
    )
    report = grade_submission(hostile(tmp_path / "forks.zip", code), timeout=TIMEOUT)
    forked = int(re.search(r"forked (\d+)", report.reason).group(1))
    assert forked < 150
    assert "+64 processes" in report.sandbox
    if os.geteuid() == 0:
        assert "runs as an unprivileged uid of its own" in report.sandbox


def test_a_zip_announcing_a_million_entries_is_refused_from_its_end_record(tmp_path):
    path = tmp_path / "million.zip"
    record = b"PK\x06\x06" + struct.pack(
        "<QHHIIQQQQ", 44, 45, 45, 0, 0, 10**6, 10**6, 46 * 10**6, 0
    )
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 0, 1)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    path.write_bytes(record + locator + end)
    start = time.monotonic()
    with pytest.raises(UnsafeArchiveError, match="1000000 entries"):
        safe_extract(path, tmp_path / "out")
    assert time.monotonic() - start < 1


# ------------------------------------------------------------------ Gradescope

GRADESCOPE_TOP = {
    "score": (int, float),
    "output": str,
    "visibility": str,
    "stdout_visibility": str,
    "extra_data": dict,
    "tests": list,
}
GRADESCOPE_TEST = {
    "name": str,
    "score": (int, float),
    "max_score": (int, float),
    "output": str,
    "status": str,
}


def test_gradescope_results_have_the_documented_fields(tmp_path):
    path = submission(tmp_path / "s.zip", CORRECT)
    out = tmp_path / "results" / "results.json"
    command = [str(path), "--format", "gradescope", "--json", str(out), "--seed", "987654321"]
    assert grade_main(command) == 0
    results = json.loads(out.read_text())
    # A fixed seed is kept for the teacher, never shown to the student.
    assert results["extra_data"]["seed"] == 987654321
    shown = json.dumps({k: v for k, v in results.items() if k != "extra_data"})
    assert "987654321" not in shown and "seed" not in shown.lower()
    assert set(results) <= set(GRADESCOPE_TOP)
    for key, kind in GRADESCOPE_TOP.items():
        assert isinstance(results[key], kind)
    assert results["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert results["score"] == BUGGY_SCORE
    for test in results["tests"]:
        assert set(test) == set(GRADESCOPE_TEST)
        for key, kind in GRADESCOPE_TEST.items():
            assert isinstance(test[key], kind)
        assert test["status"] in ("passed", "failed") and 0 <= test["score"] <= test["max_score"]
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(100)
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert [t["name"] for t in failed] == ["ReluBackwardTest"] and "mask is missing" in failed[0][
        "output"
    ]


def test_gradescope_results_of_a_submission_that_did_not_run(tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"not a zip")
    results = gradescope_results(grade_submission(path, timeout=TIMEOUT))
    assert results["score"] == 0 and results["tests"] == []
    assert "invalid-submission" in results["output"]
    assert (
        grade_main([str(path), "--format", "gradescope", "--json", str(tmp_path / "r.json")]) == 1
    )
