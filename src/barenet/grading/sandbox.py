"""Running an untrusted command in a child process, with limits and (where possible) a sandbox.

Every child gets resource limits set between fork and exec (CPU seconds, address
space, file size, open files, process count), a wall-clock timeout after which its
whole process group is killed, a minimal environment and a working folder of its
own. Where bubblewrap (``bwrap``) can create namespaces, the child also runs with
no network, its own PID namespace, a read-only view of only the system and Python
folders it needs, an empty ``/tmp``, and the working folder as the one writable
place. The README's threat model says what this does and does not stop.
"""

from __future__ import annotations

import functools
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
OUTPUT_TAIL_BYTES = 256 * 1024  # how much of the child's stdout/stderr is read back


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child process.

    Attributes
    ----------
    timeout_s : float
        Wall-clock limit; the process group is killed after it.
    memory_bytes : int
        Address-space limit (RLIMIT_AS) of each process.
    file_size_bytes : int
        Largest file a process may write (RLIMIT_FSIZE), stdout and stderr included.
    extra_processes : int
        Processes/threads the child may add to those its user already runs (RLIMIT_NPROC).
    open_files : int
        RLIMIT_NOFILE.
    """

    timeout_s: float = 30.0
    memory_bytes: int = 2 * 1024**3
    file_size_bytes: int = 64 * 1024**2
    extra_processes: int = 64
    open_files: int = 256

    def describe(self) -> str:
        """The limits in words, for reports."""
        return (
            f"wall clock {self.timeout_s:g} s, CPU {self.cpu_seconds} s, address space "
            f"{self.memory_bytes // 2**20} MiB, file size {self.file_size_bytes // 2**20} MiB, "
            f"{self.open_files} open files, +{self.extra_processes} processes"
        )

    @property
    def cpu_seconds(self) -> int:
        return math.ceil(self.timeout_s) + 1


@dataclass(frozen=True)
class Isolation:
    """What isolation the machine offers.

    Attributes
    ----------
    kind : {"bubblewrap", "none"}
    detail : str
        The ``bwrap`` path, or why it is not in use.
    """

    kind: str
    detail: str

    @property
    def active(self) -> bool:
        return self.kind == "bubblewrap"

    def describe(self, limits: Limits) -> str:
        """One sentence for reports: what was isolated, and the limits."""
        if self.active:
            head = (
                "bubblewrap sandbox: no network, own PID namespace, no capabilities, "
                "read-only system and Python folders only, small private /tmp, only the "
                "working folder writable"
            )
        else:
            head = (
                f"NO file-system or network isolation ({self.detail}); the submission can "
                "read and write whatever this user can, and use the network"
            )
        return f"{head}; limits: {limits.describe()}"


@dataclass(frozen=True)
class ChildOutcome:
    """How a child process ended.

    Attributes
    ----------
    returncode : int or None
        Negative for a signal; None when it was killed for exceeding the timeout.
    stdout, stderr : str
        The last ``OUTPUT_TAIL_BYTES`` of each.
    timed_out : bool
    elapsed_s : float
    """

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    elapsed_s: float


def python_dirs() -> list[Path]:
    """Folders a Python child needs to read: the interpreter, stdlib, site-packages, barenet."""
    import barenet

    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates |= {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    candidates.add(str(Path(sys.executable).resolve().parent.parent))
    candidates.add(str(package_root(barenet)))
    return sorted({Path(p).resolve() for p in candidates if p and Path(p).exists()})


def package_root(package) -> Path:
    """The folder that holds a package (``src/`` for barenet in a source checkout)."""
    return Path(package.__file__).resolve().parent.parent


@functools.lru_cache(maxsize=4)
def bwrap_supports_size(bwrap: str) -> bool:
    """Whether this bubblewrap can limit the size of a tmpfs (``--size``)."""
    try:
        help_text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--size" in help_text.stdout + help_text.stderr


def bwrap_command(bwrap: str, workdir: Path, tmp_bytes: int = 64 * 1024**2) -> list[str]:
    """The bubblewrap prefix: namespaces, read-only binds, small private /tmp, writable workdir.

    Parameters
    ----------
    bwrap : str
        Path of the ``bwrap`` executable.
    workdir : Path
        Bound read-write at the same path; the child's current folder.
    tmp_bytes : int
        Size of the private ``/tmp`` (a tmpfs lives in RAM, outside RLIMIT_AS).
    """
    args = [bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:
        # Run by root, bwrap keeps every capability inside the sandbox unless told
        # otherwise, and CAP_SYS_ADMIN or CAP_MKNOD would undo all the isolation.
        args += ["--cap-drop", "ALL"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    if bwrap_supports_size(bwrap):  # --size arrived in bubblewrap 0.7
        args += ["--size", str(tmp_bytes)]
    args += ["--tmpfs", "/tmp"]
    bound: list[Path] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
            bound.append(path)
    args += [a for f in SYSTEM_FILES if Path(f).exists() for a in ("--ro-bind", f, f)]
    for path in python_dirs():
        if not any(path.is_relative_to(b) for b in bound):
            args += ["--ro-bind", str(path), str(path)]
            bound.append(path)
    args += ["--bind", str(workdir), str(workdir)]
    # The sandbox's own root and /dev are tmpfs in RAM: make them read-only, so that
    # the working folder and the size-limited /tmp are the only writable places.
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", str(workdir), "--"]
    return args


@functools.lru_cache(maxsize=1)
def detect_isolation() -> Isolation:
    """Whether ``bwrap`` exists and can create its namespaces here (probed once)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation("none", "bubblewrap (bwrap) is not installed")
    with tempfile.TemporaryDirectory(prefix="barenet-probe-") as probe_dir:
        command = bwrap_command(bwrap, Path(probe_dir)) + [sys.executable, "-I", "-c", "pass"]
        try:
            probe = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            return Isolation("none", f"bwrap could not be started: {exc}")
    if probe.returncode != 0:
        reason = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
        return Isolation("none", f"bwrap cannot create its namespaces here: {reason[0]}")
    return Isolation("bubblewrap", bwrap)


def minimal_environment(workdir: Path) -> dict[str, str]:
    """A small, fixed environment: no secrets, no proxies, one BLAS thread, home = workdir."""
    home = str(workdir)
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",  # BLAS threads count against the process limit
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": home,
        "XDG_CACHE_HOME": home,
    }


def tasks_of_current_user() -> int:
    """Processes and threads of this user: RLIMIT_NPROC counts them all, per user."""
    uid, count = os.getuid(), 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields.get("Threads", "1"))
        except (OSError, KeyError, ValueError):
            continue  # the process ended while we looked
    return count


def resource_limiter(limits: Limits) -> Callable[[], None]:
    """A preexec function that applies ``limits``; all values are computed here, in the parent.

    The function runs between fork and exec, so it only calls ``setrlimit``: no
    imports, no locks.
    """
    wanted = {
        resource.RLIMIT_CPU: limits.cpu_seconds,
        resource.RLIMIT_AS: limits.memory_bytes,
        resource.RLIMIT_FSIZE: limits.file_size_bytes,
        resource.RLIMIT_NOFILE: limits.open_files,
        resource.RLIMIT_NPROC: tasks_of_current_user() + limits.extra_processes,
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


def _tail(path: Path) -> str:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - OUTPUT_TAIL_BYTES))
        return handle.read().decode("utf-8", errors="replace")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_sandboxed(
    argv: list[str], workdir: Path, limits: Limits, isolation: Isolation | None = None
) -> ChildOutcome:
    """Run ``argv`` in ``workdir`` under ``limits`` (and bubblewrap when available).

    Parameters
    ----------
    argv : list of str
        The command, e.g. ``[sys.executable, "-I", "-c", ...]``.
    workdir : Path
        The child's working folder: the only place it may write under bubblewrap.
    limits : Limits
    isolation : Isolation, optional
        Default: :func:`detect_isolation`.

    Returns
    -------
    ChildOutcome
        Never raises for anything the child does.
    """
    isolation = isolation or detect_isolation()
    workdir = Path(workdir).resolve()
    command = (bwrap_command(isolation.detail, workdir) if isolation.active else []) + argv
    with tempfile.TemporaryDirectory(prefix="barenet-child-") as logs:
        out_path, err_path = Path(logs) / "stdout", Path(logs) / "stderr"
        start = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            process = subprocess.Popen(
                command,
                cwd=workdir,
                env=minimal_environment(workdir),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                preexec_fn=resource_limiter(limits),
                start_new_session=True,  # one process group to kill, whatever it spawns
                close_fds=True,
            )
            timed_out = False
            try:
                returncode: int | None = process.wait(timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                process.wait()
                returncode, timed_out = None, True
            finally:
                _kill_group(process.pid)  # leftovers the child started in its group
        elapsed = time.monotonic() - start
        return ChildOutcome(returncode, _tail(out_path), _tail(err_path), timed_out, elapsed)
