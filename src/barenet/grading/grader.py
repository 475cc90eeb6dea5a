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

import datetime
import os
import shutil
import signal
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from barenet.grading.cleanup import remove_tree
from barenet.grading.harness import ADVICE_PREFIX, summary_lines
from barenet.grading.reports import clean_text
from barenet.grading.safe_zip import MAX_FILES, MAX_TOTAL_BYTES, UnsafeArchiveError, safe_extract
from barenet.grading.sandbox import (
    NOBODY,
    ChildOutcome,
    Isolation,
    Limits,
    detect_isolation,
    run_sandboxed,
)
from barenet.grading.sandboxed import child as child_module
from barenet.grading.sandboxed.exercise_names import EXERCISE_KEYS
from barenet.grading.sandboxed.wire import WireError, decode, encode
from barenet.grading.spec import build_probes, check_convention, fresh_seed
from barenet.grading.suite import SuiteResult, judge_suite, suite_groups

DEFAULT_TIMEOUT_S = 60.0
STATUSES = ("graded", "timeout", "crashed", "invalid-submission", "grader-error")
CHILD_PACKAGE = "barenet_sandboxed"


@dataclass
class GradeReport:
    """The grade of one submission.

    Attributes
    ----------
    submission : str
        The zip's or folder's name.
    status : {"graded", "timeout", "crashed", "invalid-submission", "grader-error"}
        Whether the tests ran; only ``graded`` reports carry test results.
    score : int
        0-100; 0 unless graded.
    tests : list of dict
        Per test: ``name``, ``passed``, ``message``, ``advice``, ``error``, ``diagnosis``.
    reason : str or None
        Why the score is 0 or partial (timeout, crash, unsafe zip, missing names).
    sandbox : str
        The isolation and limits that were in force, in words.
    isolation : str
        ``"bubblewrap"`` or ``"none"``.
    seed, convention, strict
        The settings of the grade; the seed repeats the same inputs.
    """

    submission: str
    status: str
    score: int = 0
    tests: list[dict] = field(default_factory=list)
    reason: str | None = None
    sandbox: str = ""
    isolation: str = "none"
    seed: int = 0
    convention: str = "exact"
    strict: bool = False

    @property
    def passed(self) -> int:
        return sum(bool(t["passed"]) for t in self.tests)

    @property
    def total(self) -> int:
        return len(self.tests)

    def lines(self) -> list[str]:
        """What ``barenet grade`` prints for this submission, free of control characters."""
        lines = [f"Grading {self.submission}", f"Status: {self.status}", f"Sandbox: {self.sandbox}"]
        if self.reason:
            lines.append(f"Reason: {self.reason}")
        for test in self.tests:
            lines.append(test["message"])
            lines += [ADVICE_PREFIX + advice for advice in test.get("advice", [])]
        if self.tests:
            lines.append(summary_lines(self.passed, self.total)[0])
        lines.append(f"Score: {self.score}/100")
        return [clean_text(line) for line in lines]

    def to_dict(self) -> dict:
        """The JSON record: settings, status, score, counts and the per-test details."""
        from barenet import __version__

        return {
            "submission": self.submission,
            "status": self.status,
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "reason": self.reason,
            "tests": self.tests,
            "sandbox": self.sandbox,
            "isolation": self.isolation,
            "seed": self.seed,
            "convention": self.convention,
            "strict": self.strict,
            "barenet_version": __version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }


def copy_submission_folder(source: Path, destination: Path) -> None:
    """Copy an unpacked submission, with the zip limits: regular files only, bounded size."""
    entries = list(source.rglob("*"))  # does not descend into symlinked folders
    if any(p.is_symlink() for p in entries):
        raise UnsafeArchiveError("the folder contains symbolic links")
    files = [p for p in entries if not p.is_dir()]
    if len(files) > MAX_FILES:
        raise UnsafeArchiveError(f"{len(files)} files, more than the limit of {MAX_FILES}")
    if not all(p.is_file() for p in files):
        raise UnsafeArchiveError("the folder contains special files (devices, pipes, sockets)")
    if sum(p.stat().st_size for p in files) > MAX_TOTAL_BYTES:
        raise UnsafeArchiveError(f"the folder holds more than {MAX_TOTAL_BYTES} bytes")
    shutil.copytree(source, destination, dirs_exist_ok=True, symlinks=True)


def install_child_code(folder: Path) -> Path:
    """Copy the child's own code (NumPy-only) into ``folder/barenet_sandboxed``; return ``folder``."""
    package = folder / CHILD_PACKAGE
    package.mkdir(parents=True)
    for source in Path(child_module.__file__).parent.glob("*.py"):
        shutil.copyfile(source, package / source.name)
    for path in (folder, package, *package.iterdir()):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return folder


def bootstrap_code(library: Path) -> str:
    """``python -I -c`` code that runs the child from its copied package."""
    return (
        f"import sys; sys.path.insert(0, {str(library)!r}); "
        f"from {CHILD_PACKAGE}.child import main; main()"
    )


SIGNAL_MEANINGS = {
    "SIGXCPU": "it used up its CPU time limit",
    "SIGSEGV": "the interpreter crashed (segmentation fault)",
    "SIGBUS": "the interpreter crashed (bus error)",
    "SIGABRT": "the interpreter aborted",
    "SIGKILL": "it was killed (e.g. out of memory)",
    "SIGXFSZ": "it wrote a file larger than the limit",
    "SIGPIPE": "it wrote on a closed pipe (e.g. a response over the size limit)",
}


def signal_of(returncode: int | None) -> int | None:
    """The signal that ended a child: ``-N`` from Popen, or ``128 + N`` as bwrap reports it."""
    if returncode is None or returncode == 0:
        return None
    number = -returncode if returncode < 0 else returncode - 128
    return number if number in signal.valid_signals() and number > 0 else None


def last_line(text: str, default: str) -> str:
    return (text.strip().splitlines()[-1:] or [default])[0][:300]


def failed_outcome(outcome: ChildOutcome, limits: Limits) -> tuple[str, str] | None:
    """``(status, reason)`` for a child that gave no usable response, else None."""
    if outcome.timed_out:
        return "timeout", f"timed out after {limits.timeout_s:g} s; the grading process was killed"
    if outcome.response_overflow:
        return "crashed", "the grading process sent more data than the limit; it was stopped"
    code = outcome.returncode
    if code == child_module.EXIT_NO_DROP:
        return "grader-error", "the grading process could not give up root; nothing was run"
    number = signal_of(code)
    if number is not None:
        name = signal.Signals(number).name
        return "crashed", (
            f"the grading process was killed by {name}: {SIGNAL_MEANINGS.get(name, 'a signal')}"
        )
    if code:
        return "crashed", (
            f"the grading process exited with status {code} without a result "
            f"({last_line(outcome.stderr, 'no message')})"
        )
    if not outcome.response:
        return "crashed", (
            f"the grading process ended without a result ({last_line(outcome.stderr, 'no output')})"
        )
    return None


def clean_record(record: object) -> dict:
    """A record from the child in the expected form; anything malformed is dropped."""
    if not isinstance(record, dict):
        return {"error": {"type": "MalformedRecord", "message": "the record is not a dict"}}
    error = record.get("error")
    if error is not None:
        if not isinstance(error, dict):
            error = {}
        error = {"type": str(error.get("type", "Error")), "message": str(error.get("message", ""))}
    warnings = record.get("warnings")
    warnings = [
        {"category": str(w.get("category", "")), "message": str(w.get("message", ""))}
        for w in (warnings if isinstance(warnings, list) else [])[:20]
        if isinstance(w, dict)
    ]
    refs = record.get("refs_before")
    steps = record.get("steps")
    return {
        "result": record.get("result"),
        "args_after": record.get("args_after")
        if isinstance(record.get("args_after"), list)
        else None,
        "refs_before": refs if isinstance(refs, dict) else {},
        "warnings": warnings,
        "error": error,
        "steps": steps if isinstance(steps, int) else 0,
    }


def plans_and_count(convention: str, seed: int) -> list:
    """Every test's calls, in suite order."""
    plans = []
    for _, specs in suite_groups(convention):
        plans += [probe.calls for probe in build_probes(specs, seed)]
    return plans


def records_of(response: dict, count: int) -> list[list[dict]]:
    """One list of clean records per test (missing plans become empty lists)."""
    raw = response.get("records")
    raw = raw if isinstance(raw, list) else []
    plans = [p if isinstance(p, list) else [] for p in raw[:count]]
    plans += [[]] * (count - len(plans))
    return [[clean_record(r) for r in plan[:8]] for plan in plans]


def load_failure(error: dict) -> str:
    """Why a submission could not be loaded; says so when it needs barenet."""
    module = str(error.get("module", ""))
    text = f"{error.get('type', 'Error')}: {error.get('message', '')}"
    if module == "barenet" or module.startswith("barenet.") or "'barenet" in text:
        return (
            "the submission uses barenet's reference code (it needs barenet to load), which "
            f"does not count as the learner's implementation ({text[:300]})"
        )
    return f"could not load the submission: {text[:600]}"


class Grading:
    """The settings of one grading run, shared by every submission of a batch."""

    def __init__(
        self,
        limits: Limits,
        isolation: Isolation,
        convention: str = "exact",
        strict: bool = False,
        seed: int | None = None,
    ):
        self.limits = limits
        self.isolation = isolation
        self.convention = check_convention(convention)
        self.strict = strict
        self.seed = fresh_seed() if seed is None else seed
        self.plans = plans_and_count(convention, self.seed)
        self.request = encode({"plans": self.plans})
        root = os.geteuid() == 0
        self.child_drops_root = root and not isolation.drops_root_itself()
        self.sandbox = clean_text(isolation.describe(limits, self.child_drops_root))

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
            **kwargs,
        )

    def run_child(self, workdir: Path, library: Path) -> ChildOutcome:
        drop_uid = NOBODY if self.child_drops_root else -1
        argv = [sys.executable, "-I", "-c", bootstrap_code(library), str(workdir)]
        argv += ["{response_fd}", str(drop_uid)]
        return run_sandboxed(
            argv,
            workdir,
            self.limits,
            self.isolation,
            request=self.request,
            extra_ro=(library,),
            child_drops_root=self.child_drops_root,
        )

    def judge(self, name: str, outcome: ChildOutcome) -> GradeReport:
        """Turn the child's outcome into a report; only a readable response is judged."""
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
        keys = response.get("keys") if isinstance(response.get("keys"), list) else []
        keys = [str(k) for k in keys]
        records = records_of(response, len(self.plans))
        result = judge_suite(records, self.convention, self.strict, self.seed, keys)
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
        if len(result.missing) == len(EXERCISE_KEYS):
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
        return self.report(name, "graded", reason, score=result.score, tests=tests)

    def grade(self, path: Path) -> GradeReport:
        """Grade one submission; never raises."""
        scratch = None
        try:
            scratch = Path(tempfile.mkdtemp(prefix="barenet-grade-"))
            os.chmod(scratch, 0o711)  # the sandbox's own user must reach its folders
            workdir = scratch / "work"
            workdir.mkdir()
            try:
                if path.is_dir():
                    copy_submission_folder(path, workdir)
                elif path.is_file():
                    safe_extract(path, workdir)
                else:
                    return self.report(path.name, "invalid-submission", f"{path} does not exist")
            except (UnsafeArchiveError, OSError) as exc:
                return self.report(
                    path.name, "invalid-submission", f"unsafe or unreadable submission: {exc}"
                )
            library = install_child_code(scratch / "lib")
            return self.judge(path.name, self.run_child(workdir, library))
        except Exception as exc:  # includes RecursionError and MemoryError
            return self.report(path.name, "grader-error", f"{type(exc).__name__}: {exc}")
        finally:
            if scratch is not None:
                try:
                    remove_tree(scratch)
                except Exception:
                    pass  # a leftover temporary folder must not cost the row


def grading(
    timeout: float = DEFAULT_TIMEOUT_S,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
) -> Grading:
    """The settings of a grading run, validated (``ValueError`` names a wrong one)."""
    limits = limits or Limits(timeout_s=timeout)
    return Grading(limits, isolation or detect_isolation(), convention, strict, seed)


def grade_submission(
    path: str | os.PathLike,
    timeout: float = DEFAULT_TIMEOUT_S,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
) -> GradeReport:
    """Grade one submission (a zip, or an unpacked folder holding ``models/``).

    Parameters
    ----------
    path : zip file or folder
    timeout : float
        Wall-clock seconds for the child, > 0 (ignored when ``limits`` is given).
    limits : Limits, optional
    isolation : Isolation, optional
        Default: bubblewrap when it works on this machine, else none.
    convention : {"exact", "batch-mean"}
        How affine_backward's dw and db are expected (see the README).
    strict : bool
        Advice (overflow warnings, in-place writes, Python loops) costs points too.
    seed : int, optional
        Seed of the test inputs; fresh by default, recorded in the report.

    Returns
    -------
    GradeReport
        Never raises for anything the submission contains or does.
    """
    run = grading(timeout, limits, isolation, convention, strict, seed)
    return run.grade(Path(path))


def submissions_in(folder: Path) -> list[Path]:
    """The submissions in a folder of submissions: its zips, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".zip" and p.is_file())


def grade_folder(
    folder: str | os.PathLike,
    timeout: float = DEFAULT_TIMEOUT_S,
    workers: int | None = None,
    isolation: Isolation | None = None,
    convention: str = "exact",
    strict: bool = False,
    seed: int | None = None,
) -> list[GradeReport]:
    """Grade every zip in ``folder``, up to ``workers`` at a time (default: the cores).

    Every submission gets a report, whatever happens while grading it. Threads
    suffice: each one waits on its own child process.
    """
    paths = submissions_in(Path(folder))
    run = grading(timeout, None, isolation, convention, strict, seed)
    workers = max(1, min(workers or os.cpu_count() or 1, len(paths) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run.grade, paths))
