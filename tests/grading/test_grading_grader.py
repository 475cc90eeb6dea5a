"""Grading: the round trip scores 100; hostile submissions are contained and score 0.

The hostile submissions run under bubblewrap where the machine allows it (it is
installed by .ci/run); the assertions that need the sandbox (no file written
outside the working folder, no network connection) are skipped otherwise.
"""

import importlib
import io
import os
import pickle
import socket
import subprocess
import sys
import time
import types
import zipfile

import cloudpickle
import pytest

from barenet.archives import UnsafeArchiveError, copy_limited, safe_extract
from barenet.grading.local.packaging import pickled_by_value, save_pickle, submit_exercise
from barenet.grading.sandbox.isolation import Isolation, detect_isolation
from barenet.grading.submissions.exports import write_csv, write_json_report
from barenet.grading.submissions.grader import grade_folder, grade_submission

SANDBOXED = detect_isolation().active
NO_SANDBOX_REASON = f"bubblewrap is not usable here: {detect_isolation().detail}"
TIMEOUT = 8.0

LEARNER_SOURCE = """
import numpy as np


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


class Sigmoid:
    def forward(self, x):
        out = _sigmoid(x)
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
    x2d = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), x2d.T @ dout, dout.sum(axis=0)


class SGDMomentum:
    def _update(self, w, dw, config, lr):
        config.setdefault("momentum", 0.9)
        v = config.get("velocity")
        v = (0 if v is None else config["momentum"] * v) - lr * dw
        config["velocity"] = v
        return w + v, config
"""
EXERCISE_KEYS = ["Sigmoid", "Relu", "affine_forward", "affine_backward", "SGDMomentum"]


class Hostile:
    """Unpickling this calls ``function(*args)``: how a pickle runs code."""

    def __init__(self, function, *args):
        self.call = (function, args)

    def __reduce__(self):
        return self.call


def learner_payload(*keys):
    """A pickle of the learner's code (LEARNER_SOURCE) under ``keys``, stored by value."""
    module = types.ModuleType("graded_learner_code")
    sys.modules[module.__name__] = module
    try:
        exec(LEARNER_SOURCE, module.__dict__)
        with pickled_by_value([module]):
            return cloudpickle.dumps({key: getattr(module, key) for key in keys})
    finally:
        del sys.modules[module.__name__]


def make_zip(path, entries):
    """A zip at ``path`` with ``{name: bytes}`` entries."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def hostile_zip(tmp_path, function, *args, name="hostile.zip"):
    payload = pickle.dumps({"Sigmoid": Hostile(function, *args)})
    return make_zip(tmp_path / name, {"models/exercise_code.p": payload})


def assert_contained(report, *reason_words, limit=TIMEOUT + 5):
    assert report.score == 0
    assert report.reason, "a score of 0 needs a reason"
    for word in reason_words:
        assert word in report.reason


# ---------------------------------------------------------------- the round trip


def test_save_submit_grade_round_trip_scores_100(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source_dir = tmp_path / "learner_src"
    source_dir.mkdir()
    (source_dir / "round_trip_layers.py").write_text(LEARNER_SOURCE)
    sys.path.insert(0, str(source_dir))
    try:
        module = importlib.import_module("round_trip_layers")
    finally:
        sys.path.remove(str(source_dir))
    save_pickle({key: getattr(module, key) for key in EXERCISE_KEYS}, "exercise_code.p")
    (tmp_path / "exercise.ipynb").write_text("{}")
    zip_path = submit_exercise("submission")
    # The grader has no copy of the learner's source: the code must travel in the pickle.
    del sys.modules["round_trip_layers"]
    for file in source_dir.iterdir():
        file.unlink()
    source_dir.rmdir()

    report = grade_submission(zip_path, timeout=30)
    assert report.reason is None, report.reason
    assert report.score == 100
    assert len(report.tests) == 12 and all(t["passed"] for t in report.tests)
    assert report.lines()[-1] == "Score: 100/100"

    write_json_report(report, tmp_path / "report.json")
    import json

    data = json.loads((tmp_path / "report.json").read_text())
    assert data["score"] == 100 and data["sandbox"] == report.sandbox
    assert set(data["tests"][0]) >= {"name", "passed", "message"}


def test_a_notebook_main_module_travels_by_value(tmp_path):
    """Classes defined in ``__main__`` (a notebook or script) are pickled by value too."""
    script = LEARNER_SOURCE + (
        "\nfrom barenet.grading import save_pickle\n"
        f"save_pickle({{k: globals()[k] for k in {EXERCISE_KEYS!r}}}, 'exercise_code.p')\n"
    )
    (tmp_path / "notebook_like.py").write_text(script)
    subprocess.run([sys.executable, "notebook_like.py"], cwd=tmp_path, check=True, timeout=60)
    (tmp_path / "notebook_like.py").unlink()
    report = grade_submission(tmp_path, timeout=30)  # an unpacked submission folder
    assert report.score == 100, report.reason


def test_partial_submission_scores_the_part_it_has(tmp_path):
    payload = learner_payload("Sigmoid", "Relu")
    report = grade_submission(make_zip(tmp_path / "part.zip", {"models/p.p": payload}))
    assert report.score == 50  # the Sigmoid and ReLU groups: 2 of 4 groups
    assert "affine_forward" in report.reason and "SGDMomentum" in report.reason


def test_without_sandbox_the_report_says_so(tmp_path):
    payload = learner_payload("Relu")
    zip_path = make_zip(tmp_path / "plain.zip", {"models/p.p": payload})
    report = grade_submission(zip_path, isolation=Isolation("none", "disabled for this test"))
    assert report.isolation == "none"
    assert "NO file-system or network isolation" in report.sandbox
    assert report.score == 25  # the ReLU group: 1 of 4 groups


# ---------------------------------------------------------------- hostile pickles


def test_infinite_loop_times_out(tmp_path):
    start = time.monotonic()
    report = grade_submission(hostile_zip(tmp_path, exec, "while True: pass"), timeout=3)
    # 3 s of CPU time, or (on a machine too busy to give them) 9 s of wall clock.
    assert time.monotonic() - start < 15
    assert report.status == "timeout"
    assert_contained(report, "timed out after", "of CPU time")


def test_memory_bomb_is_stopped(tmp_path):
    # np.empty reserves address space without touching it: the limit trips at once,
    # without actually eating gigabytes of the test machine's memory.
    bomb = "chunks = [__import__('numpy').empty(2**28, 'uint8') for _ in range(10_000)]"
    report = grade_submission(hostile_zip(tmp_path, exec, bomb), timeout=TIMEOUT)
    assert_contained(report, "MemoryError")


def test_os_exit_in_reduce_scores_0(tmp_path):
    report = grade_submission(hostile_zip(tmp_path, os._exit, 3), timeout=TIMEOUT)
    assert_contained(report, "exited with status 3")


def test_interpreter_crash_scores_0(tmp_path):
    import ctypes

    report = grade_submission(hostile_zip(tmp_path, ctypes.string_at, 0), timeout=TIMEOUT)
    assert_contained(report, "SIGSEGV")


def test_exception_in_reduce_scores_0_with_its_message(tmp_path):
    report = grade_submission(hostile_zip(tmp_path, int, "not a number"), timeout=TIMEOUT)
    assert_contained(report, "could not load the submission", "ValueError")


def test_output_flood_is_cut_by_the_file_size_limit(tmp_path):
    flood = "import sys\nfor _ in range(200): sys.stderr.write('x' * 1_000_000)"
    report = grade_submission(hostile_zip(tmp_path, exec, flood), timeout=TIMEOUT)
    assert report.score == 0
    assert "File too large" in report.reason or "SIGXFSZ" in report.reason


def test_not_a_pickle_scores_0(tmp_path):
    zip_path = make_zip(tmp_path / "junk.zip", {"models/exercise_code.p": os.urandom(256)})
    report = grade_submission(zip_path, timeout=TIMEOUT)
    assert_contained(report, "could not load the submission")


def test_no_pickle_at_all_scores_0(tmp_path):
    zip_path = make_zip(tmp_path / "empty.zip", {"notes.txt": b"hello"})
    assert_contained(grade_submission(zip_path, timeout=TIMEOUT), "no models/*.p")


def test_pickle_without_exercise_names_scores_0(tmp_path):
    payload = pickle.dumps({"weights": [1, 2, 3]})
    zip_path = make_zip(tmp_path / "other.zip", {"models/x.p": payload})
    assert_contained(
        grade_submission(zip_path, timeout=TIMEOUT), "no exercise callables", "weights"
    )


def test_write_outside_the_working_folder_is_blocked(tmp_path):
    target = tmp_path / "escaped.txt"
    code = f"open({str(target)!r}, 'w').write('escaped')"
    report = grade_submission(hostile_zip(tmp_path, exec, code), timeout=TIMEOUT)
    assert report.score == 0 and report.reason
    if not SANDBOXED:
        pytest.skip(f"file-system isolation not checked: {NO_SANDBOX_REASON}")
    assert not target.exists()


def test_network_connection_is_blocked(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.5)
        port = server.getsockname()[1]
        code = (
            "import socket\n"
            f"s = socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "s.sendall(b'stolen')"
        )
        report = grade_submission(hostile_zip(tmp_path, exec, code), timeout=TIMEOUT)
        assert report.score == 0 and report.reason
        if not SANDBOXED:
            pytest.skip(f"network isolation not checked: {NO_SANDBOX_REASON}")
        # The sandbox has its own network namespace: its 127.0.0.1 is not ours.
        with pytest.raises(TimeoutError):
            server.accept()


# ---------------------------------------------------------------- hostile zips


def test_zip_with_parent_paths_is_rejected(tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    zip_path = make_zip(inner / "evil.zip", {"../escaped.txt": b"x", "models/a.p": b"x"})
    report = grade_submission(zip_path, timeout=TIMEOUT)
    assert_contained(report, "unsafe", "'..'")
    assert not (tmp_path / "escaped.txt").exists()


def test_zip_with_absolute_path_is_rejected(tmp_path):
    zip_path = make_zip(tmp_path / "abs.zip", {"/tmp/barenet_absolute.txt": b"x"})
    assert_contained(grade_submission(zip_path, timeout=TIMEOUT), "absolute path")


def test_zip_with_symlink_is_rejected(tmp_path):
    link = zipfile.ZipInfo("models/link.p")
    link.external_attr = 0o120777 << 16  # S_IFLNK
    zip_path = tmp_path / "link.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr(link, "/etc/passwd")
    assert_contained(grade_submission(zip_path, timeout=TIMEOUT), "symbolic link")


def test_zip_bomb_is_rejected_from_its_header(tmp_path):
    zip_path = make_zip(tmp_path / "bomb.zip", {"models/big.p": bytes(60 * 1024 * 1024)})
    assert zip_path.stat().st_size < 1024 * 1024
    assert_contained(grade_submission(zip_path, timeout=TIMEOUT), "more than the limit")


def test_too_many_files_are_rejected(tmp_path):
    zip_path = make_zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(1001)})
    assert_contained(grade_submission(zip_path, timeout=TIMEOUT), "1001 entries")


def test_a_header_that_lies_about_sizes_is_caught_while_extracting(tmp_path):
    zip_path = make_zip(tmp_path / "liar.zip", {"models/a.p": bytes(4 * 1024 * 1024)})
    data = bytearray(zip_path.read_bytes())
    # Patch the declared uncompressed size (local header and central directory) to 10 bytes.
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.index(signature)
        data[start + offset : start + offset + 4] = (10).to_bytes(4, "little")
    zip_path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchiveError):
        safe_extract(zip_path, tmp_path / "out", max_total_bytes=1024)
    assert not any((tmp_path / "out").iterdir())


def test_extraction_counts_the_bytes_it_writes():
    with pytest.raises(UnsafeArchiveError, match="more bytes than its limit"):
        copy_limited(io.BytesIO(bytes(5000)), io.BytesIO(), budget=4096)
    assert copy_limited(io.BytesIO(bytes(4096)), io.BytesIO(), budget=4096) == 4096


def test_not_a_zip_is_rejected(tmp_path):
    path = tmp_path / "fake.zip"
    path.write_bytes(b"definitely not a zip")
    assert_contained(grade_submission(path, timeout=TIMEOUT), "not a valid zip")


# ---------------------------------------------------------------- many submissions


def test_grading_a_folder_grades_each_zip_and_writes_csv(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    good = learner_payload("Relu")
    make_zip(folder / "alice.zip", {"models/p.p": good})
    hostile_zip(folder, os._exit, 1, name="bob.zip")
    reports = grade_folder(folder, timeout=TIMEOUT)
    assert [r.submission for r in reports] == ["alice.zip", "bob.zip"]
    assert reports[0].score == 25 and reports[1].score == 0
    write_csv(reports, tmp_path / "grades.csv")
    lines = (tmp_path / "grades.csv").read_text().splitlines()
    assert (
        lines[0]
        == "student,submission,status,score,passed,total,failed_tests,advice,reason,isolation"
    )
    assert lines[1].startswith("alice,alice.zip,graded,25,2,12,SigmoidForwardTest;")
    assert lines[2].startswith("bob,bob.zip,crashed,0,,,")
