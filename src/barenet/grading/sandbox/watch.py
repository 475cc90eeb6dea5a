"""Watching a running child: its CPU time and wall clock against the limits, and the kill.

The CPU time is the submission's own: its cgroup's count over all its processes
where there is one, else the sum over the child's process tree (which a process
that leaves the tree escapes; each process's RLIMIT_CPU still holds). A
neighbour that keeps the CPUs busy slows a submission but does not use up its
time; only the wall clock, a multiple of it, bounds a submission that waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from barenet.grading.sandbox.cgroups import SubmissionCgroup
from barenet.grading.sandbox.limits import Limits

POLL_S = 0.05
TREE_SCAN_EVERY = 10  # polls between two scans of /proc (without a cgroup)
TICKS = os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(root: int) -> float:
    """CPU time of ``root`` and its descendants (with their waited-for children), from /proc."""
    parents, times = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = sum(int(f) for f in fields[11:15]) / TICKS  # utime stime cutime cstime
    tree, frontier = {root}, [root]
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    while frontier:
        for child in children.get(frontier.pop(), []):
            if child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(pid, 0.0) for pid in tree)


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class ChildWatch:
    """The limits of one running child, checked while it runs; every process killed after."""

    def __init__(self, limits: Limits, cgroup: SubmissionCgroup | None):
        self.limits, self.cgroup = limits, cgroup
        self.cpu_s = 0.0

    def cpu_seconds(self, pid: int, poll: int) -> float:
        if self.cgroup is not None:
            self.cpu_s = max(self.cpu_s, self.cgroup.cpu_seconds())
        elif poll % TREE_SCAN_EVERY == 0:
            self.cpu_s = max(self.cpu_s, process_tree_cpu_seconds(pid))
        return self.cpu_s

    def reaped(self, process: subprocess.Popen, block: bool) -> bool:
        """Reap the child with ``wait4``, which also gives its CPU time (and its children's)."""
        pid, status, usage = os.wait4(process.pid, 0 if block else os.WNOHANG)
        if pid != process.pid:
            return False
        process.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_s = max(self.cpu_s, usage.ru_utime + usage.ru_stime)
        return True

    def wait(self, process: subprocess.Popen) -> tuple[int | None, str]:
        """``(returncode, "")`` when the child ended, ``(None, "cpu" or "wall")`` when killed."""
        start = time.monotonic()
        for poll in range(1 << 62):
            if self.reaped(process, block=False):
                return process.returncode, ""
            time.sleep(POLL_S)
            if self.cpu_seconds(process.pid, poll) > self.limits.timeout_s:
                return self.stop(process), "cpu"
            if time.monotonic() - start > self.limits.wall_clock_s:
                return self.stop(process), "wall"
        raise AssertionError("unreachable")

    def stop(self, process: subprocess.Popen) -> None:
        self.kill_all(process.pid)
        self.reaped(process, block=True)
        process.returncode = None
        return None

    def kill_all(self, pid: int) -> None:
        """Every process the child left: its cgroup's, and its process group."""
        if self.cgroup is not None:
            self.cgroup.kill_all()
            self.cpu_s = max(self.cpu_s, self.cgroup.cpu_seconds())
        kill_group(pid)
