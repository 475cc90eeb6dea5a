"""The resource limits of one sandboxed child, and applying them between fork and exec."""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass, fields

DEFAULT_TIMEOUT_S = 60.0  # the one default of a grade's time limit
WALL_FACTOR = 3  # the wall clock allows this many times the CPU-time limit


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child process.

    Attributes
    ----------
    timeout_s : float
        CPU-time limit (> 0) of the whole submission, all its processes together
        (where a cgroup counts them; else of each process). A busy neighbour
        slows the submission but does not use up its time.
    wall_timeout_s : float, optional
        Wall-clock limit, for a submission that sleeps; default ``WALL_FACTOR``
        times ``timeout_s``.
    memory_bytes : int
        Address-space limit (RLIMIT_AS) of each process.
    file_size_bytes : int
        Largest file a process may write (RLIMIT_FSIZE), stdout and stderr included.
    extra_processes : int
        Processes/threads the child may add to those its user already runs (RLIMIT_NPROC).
    open_files : int
        RLIMIT_NOFILE.

    Raises
    ------
    ValueError
        When a value is not a positive, finite number; the message names it.
    """

    timeout_s: float = DEFAULT_TIMEOUT_S
    wall_timeout_s: float | None = None
    memory_bytes: int = 2 * 1024**3
    file_size_bytes: int = 64 * 1024**2
    extra_processes: int = 64
    open_files: int = 256

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name == "wall_timeout_s":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{field.name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{field.name} must be a positive number, got {value!r}")

    @property
    def wall_clock_s(self) -> float:
        return self.wall_timeout_s or WALL_FACTOR * self.timeout_s

    def describe(self, process_limit: bool = True) -> str:
        """The limits in words, for reports; the process limit only when it is in force."""
        text = (
            f"CPU time {self.timeout_s:g} s, wall clock {self.wall_clock_s:g} s; per process: "
            f"CPU {self.cpu_seconds} s, address space {self.memory_bytes // 2**20} MiB, "
            f"file size {self.file_size_bytes // 2**20} MiB, {self.open_files} open files"
        )
        if process_limit:
            return text + f", +{self.extra_processes} processes"
        return text + ", no process limit (it does not apply to root)"

    @property
    def cpu_seconds(self) -> int:
        return math.ceil(self.timeout_s) + 1


def tasks_of_user(uid: int) -> int:
    """Processes and threads of ``uid``: RLIMIT_NPROC counts them all, per user."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as status:
                info = dict(line.split(":", 1) for line in status if ":" in line)
            if int(info["Uid"].split()[0]) == uid:
                count += int(info.get("Threads", "1"))
        except (OSError, KeyError, ValueError):
            continue  # the process ended while we looked
    return count


def resource_limiter(limits: Limits, uid: int) -> Callable[[], None]:
    """A preexec function that applies ``limits``; all values are computed here, in the parent.

    Parameters
    ----------
    limits : Limits
    uid : int
        The user the child will run as; its processes count against the limit.

    The function runs between fork and exec, so it only calls ``setrlimit``: no
    imports, no locks.
    """
    wanted = {
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_AS: limits.memory_bytes,
        resource.RLIMIT_FSIZE: limits.file_size_bytes,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_NPROC: tasks_of_user(uid) + limits.extra_processes,
        resource.RLIMIT_CORE: 0,
    }
    settings = []
    for which, value in wanted.items():
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)  # raising above the hard limit would fail in the child
        settings.append((which, (value, value)))

    def apply_limits() -> None:
        for which, pair in settings:
            resource.setrlimit(which, pair)

    return apply_limits
