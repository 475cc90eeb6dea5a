"""Grading submissions: verdicts computed here, the submission's code run in a sandbox.

The grader never unpickles anything itself. For each submission it unpacks the
zip (or copies the folder) into a fresh working folder and draws the test
inputs from a seed. A sandboxed child (:mod:`barenet.grading.sandboxed.child`,
which imports only NumPy and what unpickling needs, and to which barenet itself
is not available) loads the submission, calls the learner's callables on those
inputs and sends back what they returned, as data on a dedicated pipe. The
grader then compares, diagnoses and scores, with the same tests the wrappers
use. Nothing the child prints or writes can raise a score; only right answers
can. Whatever happens to one submission becomes its report's ``status``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from barenet.archives import UnsafeArchiveError
from barenet.grading.classroom.class_grader import grade_class
from barenet.grading.classroom.scoring import Weights, group_names, score_tests
from barenet.grading.definitions.suite import check_exercise, suite_groups
from barenet.grading.definitions.teacher_notes import teacher_notes
from barenet.grading.engine.judge import judge_suite
from barenet.grading.engine.results import SuiteResult
from barenet.grading.engine.spec import check_convention, fresh_seed, suite_calls
from barenet.grading.sandbox.child_user import fresh_uid
from barenet.grading.sandbox.cleanup import remove_tree
from barenet.grading.sandbox.isolation import Isolation, required_isolation
from barenet.grading.sandbox.limits import DEFAULT_TIMEOUT_S, Limits
from barenet.grading.sandbox.process import ChildOutcome, run_sandboxed
from barenet.grading.sandboxed.exercise_names import DEFAULT_EXERCISE, GRADED_EXERCISES
from barenet.grading.sandboxed.wire import WireError, decode, encode
from barenet.grading.submissions.outcome import failed_outcome
from barenet.grading.submissions.report import GradeReport
from barenet.grading.submissions.response import found_keys, load_failure, records_of
from barenet.grading.submissions.strict_checks import verified_advice
from barenet.grading.submissions.text import clean_text
from barenet.grading.submissions.workdir import (
    bootstrap_code,
    install_child_code,
    unpack_submission,
)


class SubmissionGrader:
    """The settings of one grading run, shared by every submission of a batch; grades one."""

    def __init__(
        self,
        limits: Limits,
        isolation: Isolation,
        convention: str = "exact",
        strict: bool = False,
        seed: int | None = None,
        exercise: str = DEFAULT_EXERCISE,
        weights: Weights | None = None,
    ):
        self.exercise = check_exercise(exercise)
        self.limits = limits
        self.isolation = isolation
        self.convention = check_convention(convention)
        self.strict = strict
        self.seed = fresh_seed() if seed is None else seed
        self.groups = suite_groups(convention, exercise)
        self.test_groups = group_names(self.groups)
        self.weights = weights or Weights()
        self.weights.check_names(self.test_groups)
        self.plans = suite_calls(self.groups, self.seed)
        self.request = encode({"plans": self.plans})
        self.user = isolation.child_user()
        self.sandbox = clean_text(isolation.describe(limits, self.user))

    def report(self, name: str, status: str, reason: str | None = None, **kwargs) -> GradeReport:
        return GradeReport(
            clean_text(name),
            status,
            reason=None if reason is None else clean_text(reason),
            sandbox=self.sandbox,
            isolation=self.isolation.kind,
            seed=self.seed,
            convention=self.convention,
            strict=self.strict,
            exercise=self.exercise,
            **kwargs,
        )

    def run_child(self, workdir: Path, library: Path, request: bytes | None = None) -> ChildOutcome:
        """Run the child as a user of its own (a fresh uid per child when root)."""
        user = self.isolation.child_user(fresh_uid()) if os.geteuid() == 0 else self.user
        argv = [sys.executable, "-I", "-c", bootstrap_code(library), str(workdir)]
        argv += ["{response_fd}", str(user.uid_for_child())]
        return run_sandboxed(
            argv,
            workdir,
            self.limits,
            self.isolation,
            request=self.request if request is None else request,
            extra_ro=(library,),
            user=user,
        )

    def checks_strictly(self, graded: bool) -> bool:
        """Whether to verify advice: graded strictly, the first exercise, its child answered."""
        return self.strict and graded and self.exercise == DEFAULT_EXERCISE

    def verified_advice(self, path: Path, scratch: Path, library: Path) -> dict[str, list[str]]:
        """``--strict``'s advice, each remark verified by a fresh child on a fresh copy."""
        copies = iter(range(1 << 30))

        def run(calls: list, mode: str) -> ChildOutcome:
            workdir = scratch / f"check-{next(copies)}"
            workdir.mkdir()
            unpack_submission(path, workdir)
            return self.run_child(workdir, library, encode({"plans": [calls], "mode": mode}))

        return verified_advice(run, self.seed)

    def judge(self, name: str, outcome: ChildOutcome, verified: dict | None = None) -> GradeReport:
        """Turn the child's outcome into a report; only a readable response is judged.

        Graded strictly, the child's own account of warnings and Python steps is
        dropped: only ``verified`` advice (and arguments compared here) counts.
        """
        failure = failed_outcome(outcome, self.limits)
        if failure is not None:
            return self.report(name, failure[0], failure[1])
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
        keys = found_keys(response)
        records = records_of(response, len(self.plans))
        if self.strict:
            records = [[{**r, "warnings": [], "steps": 0} for r in plan] for plan in records]
        result = judge_suite(
            self.groups, records, self.strict, self.seed, keys, self.exercise, verified
        )
        return self.graded(name, result, keys)

    def graded(self, name: str, result: SuiteResult, keys: list[str]) -> GradeReport:
        tests = [
            {
                "name": r.name,
                "passed": r.passed,
                "message": clean_text(r.message),
                "advice": [clean_text(a) for a in r.advice],
                "error": r.error,
                "diagnosis": None if r.diagnosis is None else clean_text(r.diagnosis),
            }
            for r in result.results
        ]
        reason = None
        if len(result.missing) == len(GRADED_EXERCISES[self.exercise]):
            found = ", ".join(keys) or "nothing"
            return self.report(
                name,
                "invalid-submission",
                f"no exercise callables in the pickle (it holds: {found})",
            )
        if result.missing:
            reason = (
                f"missing from the submission: {', '.join(result.missing)}; "
                f"its pickle holds: {', '.join(keys) or 'nothing'}"
            )
        score = score_tests(self.test_groups, tests, self.weights)
        notes = teacher_notes(tests)
        return self.report(name, "graded", reason, score=score, tests=tests, teacher_notes=notes)

    def grade(self, path: Path) -> GradeReport:
        """Grade one submission; never raises."""
        scratch = None
        try:
            scratch = Path(tempfile.mkdtemp(prefix="barenet-grade-"))
            os.chmod(scratch, 0o711)  # the sandbox's own user must reach its folders
            workdir = scratch / "work"
            workdir.mkdir()
            try:
                unpack_submission(path, workdir)
            except FileNotFoundError:
                return self.report(path.name, "invalid-submission", f"{path} does not exist")
            except (UnsafeArchiveError, OSError) as exc:
                return self.report(
                    path.name, "invalid-submission", f"unsafe or unreadable submission: {exc}"
                )
            library = install_child_code(scratch / "lib")
            outcome = self.run_child(workdir, library)
            graded = failed_outcome(outcome, self.limits) is None
            verified = (
                self.verified_advice(path, scratch, library) if self.checks_strictly(graded) else {}
            )
            return self.judge(path.name, outcome, verified)
        except Exception as exc:  # includes RecursionError and MemoryError
            return self.report(path.name, "grader-error", f"{type(exc).__name__}: {exc}")
        finally:
            if scratch is not None:
                try:
                    remove_tree(scratch)
                except Exception:
                    pass  # a leftover temporary folder must not cost the row


def make_grader(
    timeout: float = DEFAULT_TIMEOUT_S,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    exercise: str = DEFAULT_EXERCISE,
    weights: Weights | None = None,
) -> SubmissionGrader:
    """The grader of a run, its settings validated (``ValueError`` names a wrong one).

    Raises
    ------
    NoIsolationError
        When no ``isolation`` is given and no sandbox works here (fail closed).
    """
    limits = limits or Limits(timeout_s=timeout)
    isolation = isolation or required_isolation()
    return SubmissionGrader(limits, isolation, convention, strict, seed, exercise, weights)


def grade_submission(
    path: str | os.PathLike,
    timeout: float = DEFAULT_TIMEOUT_S,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    exercise: str = DEFAULT_EXERCISE,
    weights: Weights | None = None,
) -> GradeReport:
    """Grade one submission (a zip, or an unpacked folder holding ``models/``).

    Parameters
    ----------
    path : zip file or folder
    timeout : float
        Wall-clock seconds for the child, > 0 (ignored when ``limits`` is given).
    limits : Limits, optional
    isolation : Isolation, optional
        Default: the sandbox this machine offers; without one, ``NoIsolationError``
        is raised unless ``no_isolation()`` is passed explicitly.
    convention : {"exact", "batch-mean"}
        How affine_backward's dw and db are expected (see the README).
    strict : bool
        Advice (overflow warnings, in-place writes, Python loops) costs points too.
    seed : int, optional
        Seed of the test inputs; fresh by default, recorded in the report.
    exercise : str
        The exercise graded, one of ``GRADED_EXERCISES`` (default: the first).
    weights : Weights, optional
        Points of the groups and tests (default: each group its share, each test alike).

    Returns
    -------
    GradeReport
        Never raises for anything the submission contains or does.
    """
    run = make_grader(timeout, limits, isolation, convention, strict, seed, exercise, weights)
    return run.grade(Path(path))


def grade_folder(
    folder: str | os.PathLike,
    timeout: float = DEFAULT_TIMEOUT_S,
    workers: int | None = None,
    isolation: Isolation | None = None,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
    exercise: str = DEFAULT_EXERCISE,
    weights: Weights | None = None,
) -> list[GradeReport]:
    """Grade every submission of an export folder, up to ``workers`` at a time.

    The submissions are found as :mod:`barenet.grading.classroom.discovery` says
    (zips in ``folder``, or one level down in a folder per student); each report
    names its ``student``. Every submission gets a report, whatever happens while
    grading it.
    """
    run = make_grader(timeout, None, isolation, convention, strict, seed, exercise, weights)
    return grade_class(folder, run, workers)
