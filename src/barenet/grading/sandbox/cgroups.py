"""A control group per submission: totals for memory, processes and CPU, and a sure kill.

Per-process limits (RLIMIT_AS and the like) do not add up: a submission can
fork, or hold memory that no address space counts (``memfd_create`` plus
``fallocate``, shared memory). A cgroup counts everything its processes hold,
shared memory and tmpfs pages included, so one submission cannot drive the
machine out of memory; it caps the processes it may have at once and the CPUs
it may use, counts the CPU time of all its processes (the timeout is measured
on it, so a busy neighbour cannot make a correct submission time out), and lists
every process left, so that none survives its grade.

The cgroup is made below the grader's own, in cgroup v2 (``memory.max``,
``pids.max``, ``cpu.max``) where its controllers are enabled, else in cgroup v1's
separate ``memory``, ``pids``, ``cpu,cpuacct`` and ``freezer`` hierarchies. That
needs root (or a delegated cgroup); :func:`cgroup_support` probes it once.
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from barenet.grading.sandbox.limits import Limits

V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "freezer")
CPU_PERIOD_US = 100_000
CPUS_PER_SUBMISSION = 1
SANDBOX_TASKS = 4  # bubblewrap's own processes and setpriv, beside the submission's
_names = itertools.count()


def _write(path: Path, value: object) -> None:
    with open(path, "w") as handle:
        handle.write(str(value))


def v1_folders() -> dict[str, Path]:
    """This process's cgroup folder in each v1 hierarchy we use, by controller."""
    mounts: dict[str, Path] = {}
    with open("/proc/self/mounts") as lines:
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[2] == "cgroup":
                for option in fields[3].split(","):
                    if option in V1_CONTROLLERS:
                        mounts.setdefault(option, Path(fields[1]))
    folders = {}
    with open("/proc/self/cgroup") as lines:
        for line in lines:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(","):
                if controller in mounts:
                    folders[controller] = mounts[controller] / path.lstrip("/")
    return folders


def v2_folder() -> Path | None:
    """This process's cgroup v2 folder, when memory, pids and cpu can be given to a child."""
    with open("/proc/self/mounts") as lines:
        mount = next((Path(f.split()[1]) for f in lines if f.split()[2:3] == ["cgroup2"]), None)
    if mount is None:
        return None
    with open("/proc/self/cgroup") as lines:
        path = next(
            (line.split(":", 2)[2].strip() for line in lines if line.startswith("0::")), None
        )
    folder = mount / (path or "/").lstrip("/")
    try:
        enabled = (folder / "cgroup.subtree_control").read_text().split()
    except OSError:
        return None
    return folder if {"memory", "pids", "cpu"} <= set(enabled) else None


@dataclass(frozen=True)
class CgroupSupport:
    """Where submissions' cgroups are made: ``version`` 2 (one folder) or 1 (one per controller)."""

    version: int
    parents: dict[str, Path]

    def describe(self, limits: Limits) -> str:
        return (
            f"a cgroup (v{self.version}) per submission: memory "
            f"{limits.memory_bytes // 2**20} MiB in all (shared memory and memfd included), "
            f"{limits.extra_processes} processes, {CPUS_PER_SUBMISSION} CPU, "
            "CPU time counted over all its processes, none left running after its grade"
        )


def _probe(parents: dict[str, Path]) -> bool:
    made = []
    try:
        for parent in dict.fromkeys(parents.values()):
            child = parent / f"barenet-probe-{os.getpid()}"
            child.mkdir()
            made.append(child)
        return True
    except OSError:
        return False
    finally:
        for child in made:
            try:
                child.rmdir()
            except OSError:
                pass


@functools.lru_cache(maxsize=1)
def cgroup_support() -> CgroupSupport | None:
    """Whether this process can make cgroups for its submissions (probed once), and where."""
    try:
        v2 = v2_folder()
        if v2 is not None and _probe({"all": v2}):
            return CgroupSupport(2, {"all": v2})
        v1 = v1_folders()
    except (OSError, ValueError, IndexError):
        return None
    if set(V1_CONTROLLERS) <= set(v1) and _probe(v1):
        return CgroupSupport(1, v1)
    return None


class SubmissionCgroup:
    """One submission's cgroup: made with its limits, joined by the child, then emptied."""

    def __init__(self, support: CgroupSupport, limits: Limits):
        self.version = support.version
        name = f"barenet-{os.getpid()}-{next(_names)}"
        self.folders = {key: parent / name for key, parent in support.parents.items()}
        for folder in dict.fromkeys(self.folders.values()):
            folder.mkdir()
        try:
            self.set_limits(limits)
        except OSError:
            self.remove()
            raise

    def folder(self, controller: str) -> Path:
        return self.folders["all" if self.version == 2 else controller]

    def set_limits(self, limits: Limits) -> None:
        tasks = limits.extra_processes + SANDBOX_TASKS
        quota = CPU_PERIOD_US * CPUS_PER_SUBMISSION
        if self.version == 2:
            _write(self.folder("memory") / "memory.max", limits.memory_bytes)
            if (self.folder("memory") / "memory.swap.max").exists():
                _write(self.folder("memory") / "memory.swap.max", 0)
            _write(self.folder("pids") / "pids.max", tasks)
            _write(self.folder("cpu") / "cpu.max", f"{quota} {CPU_PERIOD_US}")
            return
        _write(self.folder("memory") / "memory.limit_in_bytes", limits.memory_bytes)
        memsw = self.folder("memory") / "memory.memsw.limit_in_bytes"
        if memsw.exists():  # memory and swap together: no escape into swap
            _write(memsw, limits.memory_bytes)
        _write(self.folder("pids") / "pids.max", tasks)
        _write(self.folder("cpu") / "cpu.cfs_period_us", CPU_PERIOD_US)
        _write(self.folder("cpu") / "cpu.cfs_quota_us", quota)

    def procs_files(self) -> list[bytes]:
        """The ``cgroup.procs`` files a new process writes its pid into (see :meth:`joiner`)."""
        return [
            os.fsencode(folder / "cgroup.procs") for folder in dict.fromkeys(self.folders.values())
        ]

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process the cgroup has held."""
        try:
            if self.version == 2:
                stat = (self.folder("cpu") / "cpu.stat").read_text().split()
                return int(stat[stat.index("usage_usec") + 1]) / 1e6
            return int((self.folder("cpuacct") / "cpuacct.usage").read_text()) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def out_of_memory(self) -> bool:
        """Whether the memory limit was hit (the kernel then kills inside the cgroup)."""
        try:
            if self.version == 2:
                events = (self.folder("memory") / "memory.events").read_text().split()
                return int(events[events.index("oom_kill") + 1]) > 0
            control = (self.folder("memory") / "memory.oom_control").read_text().split()
            if "oom_kill" in control:
                return int(control[control.index("oom_kill") + 1]) > 0
            return int((self.folder("memory") / "memory.failcnt").read_text()) > 0
        except (OSError, ValueError, IndexError):
            return False

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in dict.fromkeys(self.folders.values()):
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return sorted(found)

    def kill_all(self, wait_s: float = 5.0) -> bool:
        """Kill every process in the cgroup (frozen first, so none can fork away); True when empty."""
        if self.version == 2 and (self.folder("pids") / "cgroup.kill").exists():
            _write(self.folder("pids") / "cgroup.kill", 1)
        deadline = time.monotonic() + wait_s
        while (pids := self.pids()) and time.monotonic() < deadline:
            self.freeze(True)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self.freeze(False)  # a frozen process does not die until thawed
            time.sleep(0.01)
        return not self.pids()

    def freeze(self, frozen: bool) -> None:
        try:
            if self.version == 2:
                _write(self.folder("pids") / "cgroup.freeze", int(frozen))
            else:
                _write(self.folder("freezer") / "freezer.state", "FROZEN" if frozen else "THAWED")
        except OSError:
            pass

    def remove(self) -> None:
        """Remove the (empty) cgroup folders; a folder still busy is left to the system."""
        for folder in dict.fromkeys(self.folders.values()):
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def joiner(procs_files: list[bytes]):
    """A preexec step that moves the new process into the cgroup before it runs anything.

    Only ``os`` calls, no allocation-heavy work: it runs between fork and exec.
    """

    def join() -> None:
        pid = str(os.getpid()).encode()
        for path in procs_files:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, pid)
            finally:
                os.close(fd)

    return join
