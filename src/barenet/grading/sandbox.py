"""Running an untrusted command in a child process, with limits and (where possible) a sandbox.

Every child gets resource limits set between fork and exec (CPU seconds, address
space, file size, open files, process count), a wall-clock timeout after which its
whole process group is killed, a minimal environment and a working folder of its
own. Where bubblewrap (``bwrap``) can create namespaces, the child also runs with
no network, its own PID namespace, a read-only view of only the system and Python
folders it needs (barenet's own folder is not among them), an empty ``/tmp``, and
the working folder as the one writable place. Run as root, the child becomes the
unprivileged user ``nobody`` (uid 65534), so that the process limit applies.

The grader talks to its child over two pipes: a request on stdin, a response on
a dedicated file descriptor, read up to a size limit. stdout and stderr are only
kept (their tails) for the reasons of a crash. The README's threat model says
what this does and does not stop.
"""

from __future__ import annotations

import functools
import math
import os
import resource
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
OUTPUT_TAIL_BYTES = 256 * 1024  # how much of the child's stdout/stderr is read back
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
NOBODY = 65534  # the unprivileged uid and gid a child started by root runs as
# Installed packages shown in the sandbox; the rest of site-packages (barenet
# among them, when it is installed there) is hidden.
SANDBOX_PACKAGES = ("numpy", "numpy.libs", "cloudpickle")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one child process.

    Attributes
    ----------
    timeout_s : float
        Wall-clock limit (> 0); the process group is killed after it.
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

    timeout_s: float = 30.0
    memory_bytes: int = 2 * 1024**3
    file_size_bytes: int = 64 * 1024**2
    extra_processes: int = 64
    open_files: int = 256

    def __post_init__(self):
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"{field.name} must be a number, got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{field.name} must be a positive number, got {value!r}")

    def describe(self, process_limit: bool = True) -> str:
        """The limits in words, for reports; the process limit only when it is in force."""
        text = (
            f"wall clock {self.timeout_s:g} s, CPU {self.cpu_seconds} s, address space "
            f"{self.memory_bytes // 2**20} MiB, file size {self.file_size_bytes // 2**20} MiB, "
            f"{self.open_files} open files"
        )
        if process_limit:
            return text + f", +{self.extra_processes} processes"
        return text + ", no process limit (it does not apply to root)"

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
    setpriv : str or None
        Path of ``setpriv``, used to become ``nobody`` inside the sandbox when run as root.
    """

    kind: str
    detail: str
    setpriv: str | None = None

    @property
    def active(self) -> bool:
        return self.kind == "bubblewrap"

    def drops_root_itself(self) -> bool:
        """Run as root, the sandbox itself makes the child ``nobody`` (with ``setpriv``)."""
        return os.geteuid() == 0 and self.active and self.setpriv is not None

    def describe(self, limits: Limits, child_drops_root: bool = False) -> str:
        """One sentence for reports: what was isolated, who the child ran as, the limits."""
        if self.active:
            head = (
                "bubblewrap sandbox: no network, own PID namespace, no capabilities, "
                "read-only system and Python folders only (not barenet), small private /tmp, "
                "only the working folder writable"
            )
            if os.geteuid() != 0 and bwrap_supports(self.detail, "--disable-userns"):
                head += ", no further user namespaces"
        else:
            head = (
                f"NO file-system or network isolation ({self.detail}); the submission can "
                "read and write whatever this user can, and use the network"
            )
        unprivileged = os.geteuid() != 0 or self.drops_root_itself() or child_drops_root
        if os.geteuid() == 0:
            head += f"; runs as uid {NOBODY}" if unprivileged else "; runs as root"
        return f"{head}; limits: {limits.describe(process_limit=unprivileged)}"


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
    response : bytes
        What the child wrote on its response descriptor (at most the limit).
    response_overflow : bool
        The child wrote more than the limit; the response was cut.
    """

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    elapsed_s: float
    response: bytes = b""
    response_overflow: bool = False


def python_dirs() -> list[Path]:
    """Folders a Python child needs to read: the interpreter and its standard library.

    Their package folders are then hidden (see :func:`package_folders`) except for
    the few packages a submission may use; barenet's own folder is never shown.
    """
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates |= {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    candidates.add(str(Path(sys.executable).resolve().parent.parent))
    return sorted({Path(p).resolve() for p in candidates if p and Path(p).exists()})


def package_folders() -> list[Path]:
    """The folders of installed packages (site-packages, dist-packages) of this Python."""
    names = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    names |= set(site.getsitepackages()) if hasattr(site, "getsitepackages") else set()
    return sorted({Path(p).resolve() for p in names if p and Path(p).is_dir()})


def allowed_packages() -> list[Path]:
    """The installed packages a submission may use: NumPy and what unpickling needs."""
    found = []
    for folder in package_folders():
        found += [folder / name for name in SANDBOX_PACKAGES if (folder / name).exists()]
    return found


@functools.lru_cache(maxsize=16)
def bwrap_supports(bwrap: str, option: str) -> bool:
    """Whether this bubblewrap knows ``option`` (e.g. ``--size``, ``--perms``)."""
    try:
        help_text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return option in help_text.stdout + help_text.stderr


def bwrap_supports_size(bwrap: str) -> bool:
    """Whether this bubblewrap can limit the size of a tmpfs (``--size``, bubblewrap 0.7)."""
    return bwrap_supports(bwrap, "--size")


class _Binds:
    """Collects bubblewrap mount arguments, creating parent folders readable by anyone."""

    def __init__(self, bwrap: str):
        self.args: list[str] = []
        self.made: set[str] = {"/"}
        self.mounts: list[PurePosixPath] = []
        self.perms = bwrap_supports(bwrap, "--perms")

    def parents(self, path: str) -> None:
        for parent in reversed(PurePosixPath(path).parents):
            name = str(parent)
            if name not in self.made and not self.inside_a_mount(parent):
                self.args += (["--perms", "0755"] if self.perms else []) + ["--dir", name]
                self.made.add(name)

    def inside_a_mount(self, path: PurePosixPath) -> bool:
        return any(path.is_relative_to(m) for m in self.mounts)

    def bind(self, option: str, source: str, target: str) -> None:
        self.parents(target)
        self.args += [option, source, target]
        self.made.add(target)
        if option == "--ro-bind":  # its folders exist already, and cannot be made
            self.mounts.append(PurePosixPath(target))

    def tmpfs(self, target: str) -> None:
        """An empty folder, readable by anyone, over ``target``."""
        self.parents(target)
        self.args += (["--perms", "0755"] if self.perms else []) + ["--tmpfs", target]
        self.made.add(target)


def bwrap_command(
    bwrap: str,
    workdir: Path,
    tmp_bytes: int = 64 * 1024**2,
    extra_ro: tuple[Path, ...] = (),
    setpriv: str | None = None,
) -> list[str]:
    """The bubblewrap prefix: namespaces, read-only binds, small private /tmp, writable workdir.

    Parameters
    ----------
    bwrap : str
        Path of the ``bwrap`` executable.
    workdir : Path
        Bound read-write at the same path; the child's current folder.
    tmp_bytes : int
        Size of the private ``/tmp`` (a tmpfs lives in RAM, outside RLIMIT_AS).
    extra_ro : tuple of Path
        More folders to bind read-only (e.g. the child's own code).
    setpriv : str, optional
        Run as root: the command becomes ``nobody`` through this ``setpriv``.
    """
    root = os.geteuid() == 0
    args = [bwrap, "--die-with-parent", "--new-session"]
    if root:
        # No user namespace: the child must become a real unprivileged uid for the
        # process limit to apply. Every capability is dropped (bubblewrap run by
        # root would keep them), except those setpriv needs to give up root.
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
        if setpriv:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-all"]
        if bwrap_supports(bwrap, "--disable-userns"):
            args += ["--unshare-user", "--disable-userns"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    binds = _Binds(bwrap)
    if bwrap_supports_size(bwrap):  # --size arrived in bubblewrap 0.7
        args += ["--size", str(tmp_bytes)]
    args += (["--perms", "1777"] if binds.perms else []) + ["--tmpfs", "/tmp"]
    binds.made.add("/tmp")
    bound: list[Path] = []
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), name]
            binds.made.add(name)
        elif path.is_dir():
            binds.bind("--ro-bind", name, name)
            bound.append(path)
    for file in SYSTEM_FILES:
        if Path(file).exists():
            binds.bind("--ro-bind", file, file)
    for path in [*python_dirs(), *extra_ro]:
        if not any(path.is_relative_to(b) for b in bound):
            binds.bind("--ro-bind", str(path), str(path))
            bound.append(path)
    for folder in package_folders():
        binds.tmpfs(str(folder))  # hide the installed packages, then show the allowed ones
    for package in allowed_packages():
        binds.bind("--ro-bind", str(package), str(package))
    binds.bind("--bind", str(workdir), str(workdir))
    args += binds.args
    # The sandbox's own root and /dev are tmpfs in RAM: make them read-only, so that
    # the working folder and the size-limited /tmp are the only writable places.
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", str(workdir), "--"]
    if root and setpriv:
        args += [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        args += ["--inh-caps=-all", "--bounding-set=-all"]
    return args


@functools.lru_cache(maxsize=1)
def detect_isolation() -> Isolation:
    """Whether ``bwrap`` exists and can create its namespaces here (probed once)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation("none", "bubblewrap (bwrap) is not installed")
    setpriv = shutil.which("setpriv") if os.geteuid() == 0 else None
    with tempfile.TemporaryDirectory(prefix="barenet-probe-") as probe_dir:
        os.chmod(probe_dir, 0o755)
        command = bwrap_command(bwrap, Path(probe_dir), setpriv=setpriv)
        command += [sys.executable, "-I", "-c", "import numpy"]
        try:
            probe = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            return Isolation("none", f"bwrap could not be started: {exc}")
    if probe.returncode != 0:
        if setpriv is not None:  # e.g. Python unreadable by nobody: sandbox still, as root
            detect_without_setpriv = _probe_without_setpriv(bwrap)
            if detect_without_setpriv is not None:
                return detect_without_setpriv
        reason = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
        return Isolation("none", f"bwrap cannot create its namespaces here: {reason[0]}")
    return Isolation("bubblewrap", bwrap, setpriv)


def _probe_without_setpriv(bwrap: str) -> Isolation | None:
    with tempfile.TemporaryDirectory(prefix="barenet-probe-") as probe_dir:
        command = bwrap_command(bwrap, Path(probe_dir)) + [sys.executable, "-I", "-c", "pass"]
        try:
            probe = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
    return Isolation("bubblewrap", bwrap) if probe.returncode == 0 else None


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


class _ResponseReader(threading.Thread):
    """Reads the child's response pipe up to a limit, so that the child never blocks on it."""

    def __init__(self, fd: int, limit: int):
        super().__init__(daemon=True)
        self.fd, self.limit = fd, limit
        self.chunks: list[bytes] = []
        self.size, self.overflow = 0, False

    def run(self) -> None:
        try:
            while chunk := os.read(self.fd, 1 << 20):
                if self.size + len(chunk) > self.limit:
                    self.overflow = True
                    break
                self.chunks.append(chunk)
                self.size += len(chunk)
        except OSError:
            pass
        finally:
            os.close(self.fd)  # a child still writing gets EPIPE


def _write_request(stream, request: bytes) -> None:
    try:
        stream.write(request)
    except (BrokenPipeError, OSError):
        pass  # the child died before reading its request; its outcome says why
    finally:
        try:
            stream.close()
        except OSError:
            pass


def run_sandboxed(
    argv: list[str],
    workdir: Path,
    limits: Limits,
    isolation: Isolation | None = None,
    request: bytes = b"",
    extra_ro: tuple[Path, ...] = (),
    child_drops_root: bool = False,
    response_limit: int = MAX_RESPONSE_BYTES,
) -> ChildOutcome:
    """Run ``argv`` in ``workdir`` under ``limits`` (and bubblewrap when available).

    Parameters
    ----------
    argv : list of str
        The command, e.g. ``[sys.executable, "-I", "-c", ...]``. The string
        ``{response_fd}`` in it is replaced by the response descriptor's number.
    workdir : Path
        The child's working folder: the only place it may write under bubblewrap.
    limits : Limits
    isolation : Isolation, optional
        Default: :func:`detect_isolation`.
    request : bytes
        Written to the child's stdin, which is then closed.
    extra_ro : tuple of Path
        More folders the sandbox shows read-only.
    child_drops_root : bool
        Run as root without ``setpriv``, the command itself becomes ``nobody``.
    response_limit : int
        The most bytes read from the response descriptor.

    Returns
    -------
    ChildOutcome
        Never raises for anything the child does.
    """
    isolation = isolation or detect_isolation()
    workdir = Path(workdir).resolve()
    root = os.geteuid() == 0
    unprivileged = root and (isolation.drops_root_itself() or child_drops_root)
    if unprivileged:
        # The one place the child may write; root without capabilities (bubblewrap
        # before setpriv) must still be able to enter it.
        os.chown(workdir, NOBODY, NOBODY)
        os.chmod(workdir, 0o711)
    uid = NOBODY if unprivileged else os.getuid()
    prefix = []
    if isolation.active:
        setpriv = isolation.setpriv if isolation.drops_root_itself() else None
        prefix = bwrap_command(isolation.detail, workdir, extra_ro=extra_ro, setpriv=setpriv)
        if root and child_drops_root and setpriv is None:
            prefix[prefix.index("ALL") + 1 : prefix.index("ALL") + 1] = [
                "--cap-add",
                "CAP_SETUID",
                "--cap-add",
                "CAP_SETGID",
            ]
    read_fd, write_fd = os.pipe()
    command = prefix + [a.replace("{response_fd}", str(write_fd)) for a in argv]
    with tempfile.TemporaryDirectory(prefix="barenet-child-") as logs:
        out_path, err_path = Path(logs) / "stdout", Path(logs) / "stderr"
        start = time.monotonic()
        reader = _ResponseReader(read_fd, response_limit)
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=workdir,
                    env=minimal_environment(workdir),
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=err,
                    preexec_fn=resource_limiter(limits, uid),
                    start_new_session=True,  # one process group to kill, whatever it spawns
                    close_fds=True,
                    pass_fds=(write_fd,),
                )
            finally:
                os.close(write_fd)  # the child holds its own copy
            reader.start()
            writer = threading.Thread(
                target=_write_request, args=(process.stdin, request), daemon=True
            )
            writer.start()
            timed_out = False
            try:
                returncode: int | None = process.wait(timeout=limits.timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                process.wait()
                returncode, timed_out = None, True
            finally:
                _kill_group(process.pid)  # leftovers the child started in its group
            reader.join(timeout=5)
            writer.join(timeout=5)
        elapsed = time.monotonic() - start
        response = b"".join(reader.chunks)
        return ChildOutcome(
            returncode,
            _tail(out_path),
            _tail(err_path),
            timed_out,
            elapsed,
            response,
            reader.overflow,
        )
