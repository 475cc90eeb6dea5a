"""Throughput of grading a class: seconds per submission, with and without the class report.

Generates a Moodle-style export of ``--students`` submissions (five kinds of
learner code, from right to the classic bugs, pickled by value as ``save_pickle``
does) and grades it with ``barenet grade EXPORT --workers N``, alternating runs
without and with ``--report`` so that both see the same machine load; prints
the median seconds per submission of each and their ratio. Then the model
exercise: ``--model-students`` CIFAR-10 models graded on ``--test-images``
hidden test images (``--exercise cifar-classification --test-data``), with the
report. With ``--baseline-src OLD/src`` the first part instead alternates another
barenet tree (grading the same zips side by side, no report) with this one (the
Moodle-style export, with the report), each run as ``python -m barenet grade``.
Usage::

    python benchmarks/bench_grade_class.py [--students 200] [--workers 2] [--rounds 3]
        [--model-students 200] [--test-images 10000] [--zip ../shared/data/cifar10-jpg.zip]
        [--baseline-src benchmarks/out/baseline/src]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from gemm_speed import machine_line

from barenet.app.cli import main as barenet_main
from barenet.grading import save_pickle, submit_exercise

LEARNER_CODE = """
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
        out = np.maximum(x, 0)
        return out, out
    def backward(self, dout, cache):
        return dout * (cache > 0)

class NoMaskRelu(Relu):
    def backward(self, dout, cache):
        return dout

def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)

def averaged_affine_backward(dout, cache):
    dx, dw, db = affine_backward(dout, cache)
    return dx, dw / len(dout), db / len(dout)

class SGDMomentum:
    def _update(self, w, dw, config, lr):
        config = {} if config is None else config
        v = config.get("momentum", 0.9) * config.get("velocity", np.zeros_like(w)) - lr * dw
        config["velocity"] = v
        return w + v, config

class HardCodedMomentum:
    def _update(self, w, dw, config, lr):
        v = 0.9 * config.get("velocity", np.zeros_like(w)) - lr * dw
        config["velocity"] = v
        return w + v, config

class TwoLayerNet:
    def __init__(self, params):
        self.params = params
    def forward(self, X):
        p = self.params
        return np.maximum(X @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
"""


def learner_module(folder: Path):
    """The generated learner code, imported from a file (so it is pickled by value)."""
    path = folder / "bench_learner_code.py"
    path.write_text(LEARNER_CODE)
    spec = importlib.util.spec_from_file_location("bench_learner_code", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def kinds_of_submission(code) -> list[dict]:
    right = {
        "Sigmoid": code.Sigmoid,
        "Relu": code.Relu,
        "AffineForward": code.affine_forward,
        "AffineBackward": code.affine_backward,
        "SGD_Momentum_update": code.SGDMomentum._update,
    }
    return [
        right,
        {**right, "Relu": code.NoMaskRelu},
        {**right, "AffineBackward": code.averaged_affine_backward},
        {**right, "SGD_Momentum_update": code.HardCodedMomentum._update},
        {k: v for k, v in right.items() if k != "SGD_Momentum_update"},
    ]


def zipped(folder: Path, data: dict, file_name: str, name: str) -> Path:
    """``save_pickle`` then ``submit_exercise`` in ``folder``, as the notebook's last cell."""
    folder.mkdir(parents=True)
    here = Path.cwd()
    os.chdir(folder)
    try:
        save_pickle(data, file_name)
        return folder / submit_exercise(name).name
    finally:
        os.chdir(here)


def moodle_export(root: Path, zips: list[Path], students: int) -> Path:
    """``Student NNN_<id>_assignsubmission_file_/<zip>`` for each student, kinds in turn."""
    export = root / "export"
    for i in range(students):
        folder = export / f"Student {i:03d}_{100000 + i}_assignsubmission_file_"
        folder.mkdir(parents=True)
        shutil.copyfile(zips[i % len(zips)], folder / zips[i % len(zips)].name)
    return export


def grade_seconds(command: list[str], students: int) -> float:
    start = time.perf_counter()
    status = barenet_main(command)
    if status != 0:
        raise SystemExit(f"barenet {' '.join(command)} exited with status {status}")
    return (time.perf_counter() - start) / students


def first_exercise(root: Path, code, args) -> None:
    kinds = [
        zipped(root / f"kind{i}", data, "NN.p", "exercise05")
        for i, data in enumerate(kinds_of_submission(code))
    ]
    export = moodle_export(root, kinds, args.students)
    base = ["grade", str(export), "--workers", str(args.workers), "--csv", str(root / "g.csv")]
    plain, report = [], []
    for _ in range(args.rounds):
        plain.append(grade_seconds(base, args.students))
        report.append(grade_seconds([*base, "--report", str(root / "class.html")], args.students))
    ratios = [r / p for p, r in zip(plain, report, strict=True)]
    print(f"first exercise, {args.students} submissions, --workers {args.workers}:")
    print(f"  without --report: {statistics.median(plain):.3f} s per submission {plain}")
    print(f"  with --report:    {statistics.median(report):.3f} s per submission {report}")
    print(
        f"  ratio with/without: {statistics.median(ratios):.2f} (runs {[round(r, 2) for r in ratios]})"
    )


def flat_export(root: Path, zips: list[Path], students: int) -> Path:
    """``student_NNN.zip`` side by side: the layout every barenet version grades."""
    export = root / "flat"
    export.mkdir(parents=True)
    for i in range(students):
        shutil.copyfile(zips[i % len(zips)], export / f"student_{i:03d}.zip")
    return export


def command_seconds(src: str, arguments: list[str], students: int) -> float:
    """Seconds per submission of ``python -m barenet grade ...`` run from the source ``src``."""
    env = {**os.environ, "PYTHONPATH": src}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "barenet", "grade", *arguments],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"barenet grade from {src} exited with {done.returncode}: {done.stderr}")
    return (time.perf_counter() - start) / students


def against_baseline(root: Path, code, args) -> None:
    """The same class graded by another barenet source tree and by this one, alternately.

    The baseline grades zips side by side without a report (what it can do); this
    tree grades the Moodle-style export of the same zips with ``--report``.
    """
    kinds = [
        zipped(root / f"kind{i}", data, "NN.p", "exercise05")
        for i, data in enumerate(kinds_of_submission(code))
    ]
    flat = flat_export(root, kinds, args.students)
    moodle = moodle_export(root, kinds, args.students)
    here = str(Path(__file__).resolve().parents[1] / "src")
    workers = ["--workers", str(args.workers)]
    old, new = [], []
    for _ in range(args.rounds):
        old.append(
            command_seconds(
                args.baseline_src,
                [str(flat), *workers, "--csv", str(root / "o.csv")],
                args.students,
            )
        )
        report = ["--report", str(root / "class.html"), "--csv", str(root / "n.csv")]
        new.append(command_seconds(here, [str(moodle), *workers, *report], args.students))
    ratios = [n / o for o, n in zip(old, new, strict=True)]
    print(f"baseline {args.baseline_src} against this tree, {args.students} submissions:")
    print(f"  baseline, no report: {statistics.median(old):.3f} s per submission {old}")
    print(f"  this tree, --report: {statistics.median(new):.3f} s per submission {new}")
    print(f"  ratio: {statistics.median(ratios):.2f} (runs {[round(r, 2) for r in ratios]})")


def model_exercise(root: Path, code, args) -> None:
    from barenet.grading.classroom.hidden_test_set import load_hidden_test_set

    test = load_hidden_test_set(Path(args.zip) / "cifar10" / "test")
    private = root / "private"
    private.mkdir(parents=True)
    test_path = private / "test.npz"
    count = min(args.test_images, len(test))
    np.savez(test_path, images=test.images[:count], labels=test.labels[:count])
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.standard_normal((3072, 100)).astype(np.float32) * 0.02,
        "b1": np.zeros(100, np.float32),
        "W2": rng.standard_normal((100, 10)).astype(np.float32) * 0.1,
        "b2": np.zeros(10, np.float32),
    }
    model_zip = zipped(
        root / "model", {"cifar_fcn": code.TwoLayerNet(params)}, "cifar_fcn.p", "exercise06"
    )
    export = moodle_export(root / "models", [model_zip], args.model_students)
    command = [
        "grade",
        str(export),
        "--exercise",
        "cifar-classification",
        "--test-data",
        str(test_path),
    ]
    command += [
        "--workers",
        str(args.workers),
        "--csv",
        str(root / "m.csv"),
        "--report",
        str(root / "m.html"),
    ]
    seconds = grade_seconds(command, args.model_students)
    print(
        f"model exercise, {args.model_students} models on {count} hidden test images, with --report:"
    )
    print(f"  {seconds:.3f} s per submission")


def shared_zip() -> Path:
    """``shared/data/cifar10-jpg.zip`` in the nearest folder above the project that has it."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "shared/data/cifar10-jpg.zip").is_file():
            return folder / "shared/data/cifar10-jpg.zip"
    return Path("../shared/data/cifar10-jpg.zip")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model-students", type=int, default=200)
    parser.add_argument("--test-images", type=int, default=10000)
    parser.add_argument("--zip", default=str(shared_zip()), help="the CIFAR-10 JPEG zip")
    parser.add_argument(
        "--baseline-src",
        help="another barenet source tree (its src/ folder) to time against this one, alternately",
    )
    args = parser.parse_args(argv)
    print(machine_line())
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-grade-class-") as scratch:
        root = Path(scratch)
        code = learner_module(root)
        if args.baseline_src:
            against_baseline(root / "baseline", code, args)
        elif args.students:
            first_exercise(root / "first", code, args)
        if args.model_students:
            model_exercise(root / "model", code, args)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(machine_line())


if __name__ == "__main__":
    main()
