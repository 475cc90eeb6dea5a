"""Grading submissions: unpack safely, run the suite in a sandboxed child, report.

The grader never unpickles anything itself. It unpacks the zip (or copies the
folder) into a fresh working folder, runs :mod:`barenet.grading.sandbox_child`
there under :func:`barenet.grading.sandbox.run_sandboxed`, and reads back one
JSON line. A timeout, a crash, a non-zero exit or a missing result gives a score
of 0 with the reason; the grader itself keeps going.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from barenet.grading.harness import ADVICE_PREFIX, score_percent, summary_lines
from barenet.grading.safe_zip import MAX_FILES, MAX_TOTAL_BYTES, UnsafeArchiveError, safe_extract
from barenet.grading.sandbox import (
    ChildOutcome,
    Isolation,
    Limits,
    detect_isolation,
    package_root,
    run_sandboxed,
)
from barenet.grading.sandbox_child import RESULT_MARKER
from barenet.grading.spec import check_convention

DEFAULT_TIMEOUT_S = 60.0


@dataclass
class GradeReport:
    """The grade of one submission.

    Attributes
    ----------
    submission : str
        The zip's or folder's name.
    score : int
        0-100; 0 whenever ``reason`` says the grading could not run.
    tests : list of dict
        ``{"name", "passed", "message"}`` per test (empty when nothing ran).
    reason : str or None
        Why the score is 0 or partial (timeout, crash, unsafe zip, missing names).
    sandbox : str
        The isolation and limits that were active, in words.
    isolation : str
        ``"bubblewrap"`` or ``"none"``.
    """

    submission: str
    score: int
    tests: list[dict] = field(default_factory=list)
    reason: str | None = None
    sandbox: str = ""
    isolation: str = "none"

    def lines(self) -> list[str]:
        """What ``barenet grade`` prints for this submission."""
        lines = [f"Grading {self.submission}", f"Sandbox: {self.sandbox}"]
        if self.reason:
            lines.append(f"Reason: {self.reason}")
        for test in self.tests:
            lines.append(test["message"])
            lines += [ADVICE_PREFIX + advice for advice in test.get("advice", [])]
        if self.tests:
            passed = sum(test["passed"] for test in self.tests)
            lines.append(summary_lines(passed, len(self.tests))[0])
        lines.append(f"Score: {self.score}/100")
        return lines

    def to_dict(self) -> dict:
        """The JSON record: score, tests, sandbox, reason, submission, isolation."""
        return asdict(self)


def _bootstrap_code() -> str:
    """``python -I -c`` code that imports the grader's own barenet and runs the child.

    ``-I`` keeps the submission's folder and environment variables off ``sys.path``
    (a submitted ``barenet/`` folder must not shadow the real one), so barenet's
    location is put there explicitly.
    """
    import barenet

    root = str(package_root(barenet))
    return (
        f"import sys; sys.path.insert(0, {root!r}); "
        "from barenet.grading.sandbox_child import main; raise SystemExit(main(sys.argv[1:]))"
    )


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


SIGNAL_MEANINGS = {
    "SIGXCPU": "it used up its CPU time limit",
    "SIGSEGV": "the interpreter crashed (segmentation fault)",
    "SIGBUS": "the interpreter crashed (bus error)",
    "SIGABRT": "the interpreter aborted",
    "SIGKILL": "it was killed (e.g. out of memory)",
    "SIGXFSZ": "it wrote a file larger than the limit",
}


def signal_of(returncode: int | None) -> int | None:
    """The signal that ended a child: ``-N`` from Popen, or ``128 + N`` as bwrap reports it."""
    if returncode is None or returncode == 0:
        return None
    number = -returncode if returncode < 0 else returncode - 128
    return number if number in signal.valid_signals() and number > 0 else None


def outcome_reason(outcome: ChildOutcome, limits: Limits) -> str | None:
    """Why a child produced no usable result, or None when it exited normally."""
    if outcome.timed_out:
        return f"timed out after {limits.timeout_s:g} s; the grading process was killed"
    code = outcome.returncode
    signal_number = signal_of(code)
    if signal_number is not None:
        name = signal.Signals(signal_number).name
        return f"the grading process was killed by {name}: {SIGNAL_MEANINGS.get(name, 'a signal')}"
    if code:
        last = outcome.stderr.strip().splitlines()[-1:] or ["no message"]
        return f"the grading process exited with status {code} without a result ({last[0][:300]})"
    return None


def parse_child_result(stdout: str) -> dict | None:
    """The JSON object on the last ``BARENET_RESULT`` line of ``stdout``, if any."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            try:
                result = json.loads(line[len(RESULT_MARKER) :])
            except ValueError:
                return None
            return result if isinstance(result, dict) else None
    return None


def clean_tests(raw: object) -> list[dict]:
    """Keep only well-formed test records: name (str), passed (bool), message (str)."""
    tests = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            tests.append(
                {
                    "name": item["name"],
                    "passed": item.get("passed") is True,
                    "message": str(item.get("message", ""))[:2000],
                    "advice": [str(a)[:1000] for a in item.get("advice", [])][:10]
                    if isinstance(item.get("advice"), list)
                    else [],
                }
            )
    return tests


def report_from_outcome(
    name: str, outcome: ChildOutcome, limits: Limits, sandbox: str, kind: str
) -> GradeReport:
    """Turn the child's outcome into a report; anything unexpected scores 0."""
    reason = outcome_reason(outcome, limits)
    result = parse_child_result(outcome.stdout) if reason is None else None
    if reason is None and result is None:
        last = outcome.stderr.strip().splitlines()[-1:] or ["no output"]
        reason = f"the grading process produced no result ({last[0][:300]})"
    if reason is not None:
        return GradeReport(name, 0, [], reason, sandbox, kind)
    if result.get("error"):
        return GradeReport(name, 0, [], str(result["error"])[:1000], sandbox, kind)
    tests = clean_tests(result.get("tests"))
    score = score_percent(sum(t["passed"] for t in tests), len(tests))  # recomputed, not trusted
    missing = (
        [str(m) for m in result.get("missing", [])]
        if isinstance(result.get("missing"), list)
        else []
    )
    found = result.get("found") if isinstance(result.get("found"), list) else []
    reason = (
        f"missing from the submission: {', '.join(missing)}; "
        f"its pickle holds: {', '.join(map(str, found)) or 'nothing'}"
        if missing
        else None
    )
    return GradeReport(name, score, tests, reason, sandbox, kind)


def grade_submission(
    path: str | os.PathLike,
    timeout: float = DEFAULT_TIMEOUT_S,
    limits: Limits | None = None,
    isolation: Isolation | None = None,
    convention: str = "exact",
    strict: bool = False,
) -> GradeReport:
    """Grade one submission (a zip, or an unpacked folder holding ``models/``).

    Parameters
    ----------
    path : zip file or folder
    timeout : float
        Wall-clock seconds for the child (ignored when ``limits`` is given).
    limits : Limits, optional
    isolation : Isolation, optional
        Default: bubblewrap when it works on this machine, else none.
    convention : {"exact", "batch-mean"}
        How affine_backward's dw and db are expected (see the README).
    strict : bool
        Advice (overflow warnings, in-place writes, Python loops) costs points too.

    Returns
    -------
    GradeReport
        Never raises for anything the submission contains or does.
    """
    check_convention(convention)
    path = Path(path)
    limits = limits or Limits(timeout_s=timeout)
    isolation = isolation or detect_isolation()
    sandbox = isolation.describe(limits)
    with tempfile.TemporaryDirectory(prefix="barenet-grade-") as scratch:
        workdir = Path(scratch) / "work"
        workdir.mkdir()
        try:
            if path.is_dir():
                copy_submission_folder(path, workdir)
            elif path.is_file():
                safe_extract(path, workdir)
            else:
                return GradeReport(
                    path.name, 0, [], f"{path} does not exist", sandbox, isolation.kind
                )
        except (UnsafeArchiveError, OSError) as exc:
            return GradeReport(
                path.name, 0, [], f"unsafe or unreadable submission: {exc}", sandbox, isolation.kind
            )
        mode = "strict" if strict else "lenient"
        argv = [
            sys.executable,
            "-I",
            "-c",
            _bootstrap_code(),
            str(workdir.resolve()),
            convention,
            mode,
        ]
        outcome = run_sandboxed(argv, workdir, limits, isolation)
    return report_from_outcome(path.name, outcome, limits, sandbox, isolation.kind)


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
) -> list[GradeReport]:
    """Grade every zip in ``folder``, up to ``workers`` at a time (default: the cores).

    Threads suffice: each one waits on its own child process.
    """
    paths = submissions_in(Path(folder))
    isolation = isolation or detect_isolation()
    workers = max(1, min(workers or os.cpu_count() or 1, len(paths) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(
            pool.map(
                lambda p: grade_submission(
                    p, timeout, isolation=isolation, convention=convention, strict=strict
                ),
                paths,
            )
        )


def write_json_report(reports: GradeReport | list[GradeReport], path: str | os.PathLike) -> None:
    """Write one report as an object, several as ``{"submissions": [...]}``."""
    data = (
        reports.to_dict()
        if isinstance(reports, GradeReport)
        else {"submissions": [r.to_dict() for r in reports]}
    )
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


def write_csv(reports: list[GradeReport], path: str | os.PathLike) -> None:
    """One line per submission: submission, score, reason, isolation."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "score", "reason", "isolation"])
        for report in reports:
            writer.writerow(
                [report.submission, report.score, report.reason or "", report.isolation]
            )
