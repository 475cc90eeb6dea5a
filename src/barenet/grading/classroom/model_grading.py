"""Grading the CIFAR-10 classification exercise on a hidden test set.

Each submission's model (``save_pickle({"cifar_fcn": model}, "cifar_fcn.p")``)
is loaded in the sandboxed child of :mod:`barenet.grading.sandboxed.classify`,
which is sent the test images and nothing else. It returns the model's class
scores; the grader takes their argmax and compares it with the labels, which
never leave this process. Whatever a model does (reads files, looks for the
labels, patches the child, returns garbage) can only make its scores wrong or
unreadable. Statuses and limits are those of the first exercise's grader.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from barenet.archives import UnsafeArchiveError
from barenet.grading.sandbox.cleanup import remove_tree
from barenet.grading.sandbox.isolation import Isolation
from barenet.grading.sandbox.limits import Limits
from barenet.grading.sandbox.process import ChildOutcome, run_sandboxed
from barenet.grading.sandboxed.wire import WireError, decode, encode
from barenet.grading.submissions.outcome import failed_outcome
from barenet.grading.submissions.report import GradeReport
from barenet.grading.submissions.response import load_failure
from barenet.grading.submissions.text import clean_text
from barenet.grading.submissions.workdir import install_child_code, unpack_submission

from .hidden_test_set import NUM_CLASSES, HiddenTestSet

EXERCISE = "cifar-classification"
MODEL_KEY = "cifar_fcn"  # as save_pickle knows it (local/packaging.py)
DEFAULT_PASS_MARK = 0.48
#: The exercise's normalisation (the kit's): CIFAR-10's per-channel training mean and std.
CIFAR_MEAN = (0.49191375, 0.48235852, 0.44673872)
CIFAR_STD = (0.24706447, 0.24346213, 0.26147554)
MAX_MODEL_BYTES = 20 * 1024**2  # the course's limit on the model file
BATCH = 500


@dataclass
class ModelReport(GradeReport):
    """A model submission's grade: :class:`GradeReport` with the accuracy and the mark.

    Attributes
    ----------
    accuracy : float or None
        Fraction of the hidden test images classified right; None unless graded.
    pass_mark : float
    num_images : int
    """

    accuracy: float | None = None
    pass_mark: float = DEFAULT_PASS_MARK
    num_images: int = 0

    @property
    def passed_mark(self) -> bool:
        return self.accuracy is not None and self.accuracy >= self.pass_mark

    def lines(self) -> list[str]:
        head = f"Grading {self.submission}" + (f" ({self.student})" if self.student else "")
        lines = [head, f"Status: {self.status}", f"Sandbox: {self.sandbox}"]
        if self.reason:
            lines.append(f"Reason: {self.reason}")
        if self.accuracy is not None:
            verdict = "passed" if self.passed_mark else "below"
            lines.append(
                f"Accuracy: {100 * self.accuracy:.2f}% on {self.num_images} hidden test images "
                f"({verdict} the pass mark of {100 * self.pass_mark:g}%)"
            )
        lines.append(f"Score: {self.score:g}/100")
        return [clean_text(line) for line in lines]

    def to_dict(self) -> dict:
        data = super().to_dict()
        data.update(
            accuracy=self.accuracy,
            pass_mark=self.pass_mark,
            passed_mark=self.passed_mark,
            num_images=self.num_images,
        )
        return data


def bootstrap_code(library: Path) -> str:
    return (
        f"import sys; sys.path.insert(0, {str(library)!r}); "
        "from barenet_sandboxed.classify import main; main()"
    )


def model_files_too_large(workdir: Path) -> str | None:
    """Why the submission's model files exceed the size limit, or None."""
    sizes = [p.stat().st_size for p in (workdir / "models").glob("*") if p.is_file()]
    if sum(sizes) > MAX_MODEL_BYTES:
        return (
            f"the model files hold {sum(sizes) / 2**20:.1f} MiB, more than the limit of "
            f"{MAX_MODEL_BYTES // 2**20} MiB"
        )
    return None


def accuracy_of(scores: object, labels: np.ndarray) -> tuple[float | None, str | None]:
    """``(accuracy, None)`` for well-formed scores, ``(None, why not)`` otherwise."""
    expected = f"({len(labels)}, {NUM_CLASSES})"
    if not isinstance(scores, np.ndarray) or scores.dtype.kind not in "fiub":
        return None, f"the model's forward returned no array of scores (expected {expected})"
    if scores.shape != (len(labels), NUM_CLASSES):
        return None, f"the model's scores have shape {scores.shape}, expected {expected}"
    if not np.all(np.isfinite(scores)):
        return None, "the model's scores contain NaN or infinite values"
    predictions = np.argmax(scores, axis=1)
    return float(np.mean(predictions == labels)), None


def accuracy_test(accuracy: float, pass_mark: float, count: int, score: float) -> dict:
    """The grade as one test record (for Gradescope, the CSV and the item analysis)."""
    passed = accuracy >= pass_mark
    message = (
        f"HiddenTestAccuracy {'passed' if passed else 'failed'}: {100 * accuracy:.2f}% of "
        f"{count} hidden test images classified right (pass mark {100 * pass_mark:g}%)"
    )
    return {
        "name": "HiddenTestAccuracy",
        "passed": passed,
        "message": message,
        "advice": [],
        "error": None,
        "diagnosis": None,
        "points": score,
        "max_points": 100.0,
    }


class ModelGrading:
    """The settings of one model-grading run; see the module's docstring."""

    def __init__(
        self,
        test_set: HiddenTestSet,
        limits: Limits,
        isolation: Isolation,
        pass_mark: float = DEFAULT_PASS_MARK,
    ):
        if not isolation.active:
            raise ValueError(
                "grading on a hidden test set needs the bubblewrap sandbox (without it a model "
                f"could read the test set's files): {isolation.detail}"
            )
        if not 0 <= pass_mark <= 1:
            raise ValueError(f"--pass-mark must lie in [0, 1], got {pass_mark!r}")
        self.test_set, self.limits, self.isolation, self.pass_mark = (
            test_set,
            limits,
            isolation,
            pass_mark,
        )
        self.user = isolation.child_user()
        self.sandbox = clean_text(isolation.describe(limits, self.user))
        request = {"images": test_set.images, "mean": list(CIFAR_MEAN), "std": list(CIFAR_STD)}
        self.request = encode({**request, "batch": BATCH, "key": MODEL_KEY})

    def report(self, name: str, status: str, reason: str | None = None, **kwargs) -> ModelReport:
        return ModelReport(
            clean_text(name),
            status,
            reason=None if reason is None else clean_text(reason),
            sandbox=self.sandbox,
            isolation=self.isolation.kind,
            pass_mark=self.pass_mark,
            num_images=len(self.test_set),
            convention="",
            exercise=EXERCISE,
            **kwargs,
        )

    def run_child(self, workdir: Path, library: Path) -> ChildOutcome:
        argv = [sys.executable, "-I", "-c", bootstrap_code(library), str(workdir)]
        return run_sandboxed(
            [*argv, "{response_fd}", str(self.user.uid_for_child())],
            workdir,
            self.limits,
            self.isolation,
            request=self.request,
            extra_ro=(library,),
            user=self.user,
        )

    def judge(self, name: str, outcome: ChildOutcome) -> ModelReport:
        failure = failed_outcome(outcome, self.limits)
        if failure is not None:
            return self.report(name, *failure)
        try:
            response = decode(outcome.response)
        except WireError as exc:
            return self.report(
                name, "crashed", f"the grading process sent no readable result ({exc})"
            )
        if not isinstance(response, dict):
            return self.report(name, "crashed", "the grading process sent no readable result")
        if isinstance(response.get("load_error"), dict):
            return self.report(name, "invalid-submission", load_failure(response["load_error"]))
        if isinstance(response.get("error"), dict):
            error = response["error"]
            text = f"{error.get('type', 'Error')}: {error.get('message', '')}"
            return self.report(
                name, "invalid-submission", f"the model's forward raised {text[:600]}"
            )
        accuracy, problem = accuracy_of(response.get("scores"), self.test_set.labels)
        if problem:
            return self.report(name, "invalid-submission", problem)
        score = round(100 * accuracy, 2)
        test = accuracy_test(accuracy, self.pass_mark, len(self.test_set), score)
        return self.report(name, "graded", score=score, accuracy=accuracy, tests=[test])

    def grade(self, path: Path) -> ModelReport:
        """Grade one model submission (zip or folder holding ``models/``); never raises."""
        scratch = None
        try:
            scratch = Path(tempfile.mkdtemp(prefix="barenet-grade-"))
            os.chmod(scratch, 0o711)
            workdir = scratch / "work"
            workdir.mkdir()
            try:
                unpack_submission(path, workdir)
            except (UnsafeArchiveError, OSError) as exc:
                return self.report(
                    path.name, "invalid-submission", f"unsafe or unreadable submission: {exc}"
                )
            too_large = model_files_too_large(workdir)
            if too_large:
                return self.report(path.name, "invalid-submission", too_large)
            library = install_child_code(scratch / "lib")
            return self.judge(path.name, self.run_child(workdir, library))
        except Exception as exc:
            return self.report(path.name, "grader-error", f"{type(exc).__name__}: {exc}")
        finally:
            if scratch is not None:
                try:
                    remove_tree(scratch)
                except Exception:
                    pass
