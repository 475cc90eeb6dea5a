"""How a child that gave no usable response ended, as a status and a reason."""

from __future__ import annotations

import signal

from barenet.grading.sandbox.limits import Limits
from barenet.grading.sandbox.process import ChildOutcome
from barenet.grading.sandboxed.child import EXIT_NO_DROP

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
    if outcome.timed_out_by == "wall":
        return "timeout", (
            f"timed out after {limits.wall_clock_s:g} s of wall-clock time, having used "
            f"{outcome.cpu_s:.1f} s of its {limits.timeout_s:g} s of CPU time; "
            "the grading process was killed"
        )
    if outcome.timed_out:
        return "timeout", (
            f"timed out after {limits.timeout_s:g} s of CPU time (all its processes); "
            "the grading process was killed"
        )
    if outcome.out_of_memory and outcome.returncode != 0:
        return "crashed", (
            f"it used more than its {limits.memory_bytes // 2**20} MiB of memory in all "
            "(shared memory included); it was killed"
        )
    if outcome.response_overflow:
        return "crashed", "the grading process sent more data than the limit; it was stopped"
    code = outcome.returncode
    if code == EXIT_NO_DROP:
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
