"""Running an untrusted command in a child process, with limits and (where possible) a sandbox.

Every child gets resource limits set between fork and exec (see
:mod:`~barenet.grading.sandbox.limits`), a wall-clock timeout after which its
whole process group is killed, a minimal environment and a working folder of its
own; where bubblewrap works, it also runs inside the sandbox that
:mod:`~barenet.grading.sandbox.bubblewrap` describes. Who the child runs as is
decided by :func:`~barenet.grading.sandbox.child_user.child_user`.

The grader talks to its child over two pipes: a request on stdin, a response on
a dedicated file descriptor, read up to a size limit. stdout and stderr are only
kept (their tails) for the reasons of a crash. The README's threat model says
what this does and does not stop.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from barenet.grading.sandbox.bubblewrap import bwrap_command
from barenet.grading.sandbox.cgroups import SubmissionCgroup, cgroup_support, joiner
from barenet.grading.sandbox.child_user import ChildUser
from barenet.grading.sandbox.isolation import Isolation, detect_isolation
from barenet.grading.sandbox.limits import Limits, resource_limiter
from barenet.grading.sandbox.seccomp import installer, program_file_descriptor
from barenet.grading.sandbox.watch import ChildWatch

OUTPUT_TAIL_BYTES = 256 * 1024  # how much of the child's stdout/stderr is read back
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


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
    timed_out_by : {"", "cpu", "wall"}
        Which limit stopped it: its CPU time, or the wall clock.
    cpu_s : float
        The CPU time it used (all its processes, where a cgroup counted them).
    out_of_memory : bool
        Its cgroup hit the memory limit.
    """

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    elapsed_s: float
    response: bytes = b""
    response_overflow: bool = False
    timed_out_by: str = ""
    cpu_s: float = 0.0
    out_of_memory: bool = False


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


def _tail(path: Path) -> str:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - OUTPUT_TAIL_BYTES))
        return handle.read().decode("utf-8", errors="replace")


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


def prepare_workdir(workdir: Path, user: ChildUser) -> None:
    """Give the working folder and all in it to the unprivileged child, and to no one else.

    Files become ``0600`` and folders ``0700``, owned by the child's uid, so that no
    other uid (another submission's) can read them; the folder itself stays
    ``0711`` so that bubblewrap, root without capabilities, can enter it. There
    are no links (the unpacking refuses them) and no process of that uid yet.
    """
    if os.geteuid() != 0 or not user.unprivileged:
        return
    for folder, folders, files in os.walk(workdir):
        for name, mode in [*((f, 0o600) for f in files), *((d, 0o700) for d in folders)]:
            path = os.path.join(folder, name)
            if os.path.islink(path):  # never chmod through a link
                os.unlink(path)
                continue
            os.lchown(path, user.uid, user.uid)
            os.chmod(path, mode)
    os.chown(workdir, user.uid, user.uid)
    os.chmod(workdir, 0o711)


def sandbox_prefix(
    isolation: Isolation,
    workdir: Path,
    user: ChildUser,
    extra_ro: tuple[Path, ...],
    seccomp_fd: int | None,
) -> list[str]:
    """The bubblewrap command line before the child's own, or nothing without isolation."""
    if not isolation.active:
        return []
    return bwrap_command(isolation.detail, workdir, user, extra_ro, seccomp_fd=seccomp_fd)


def preexec_steps(
    limits: Limits, user: ChildUser, cgroup: SubmissionCgroup | None, filter_here: bool
):
    """Between fork and exec: join the cgroup (before anything else), set the limits, and
    (without bubblewrap, which loads it itself) install the seccomp filter."""
    steps = [joiner(cgroup.procs_files())] if cgroup is not None else []
    steps.append(resource_limiter(limits, user.uid))
    install = installer() if filter_here else None
    steps += [install] if install is not None else []

    def run_steps() -> None:
        for step in steps:
            step()

    return run_steps


def start_child(
    command: list[str],
    workdir: Path,
    preexec,
    logs: Path,
    pass_fds: tuple[int, ...],
) -> subprocess.Popen:
    """Start the child in a session of its own, its output going to files in ``logs``."""
    with open(logs / "stdout", "wb") as out, open(logs / "stderr", "wb") as err:
        return subprocess.Popen(
            command,
            cwd=workdir,
            env=minimal_environment(workdir),
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            preexec_fn=preexec,
            start_new_session=True,  # one process group to kill, whatever it spawns
            close_fds=True,
            pass_fds=pass_fds,
        )


def make_cgroup(limits: Limits, use_cgroup: bool) -> SubmissionCgroup | None:
    """The submission's own cgroup, where this machine lets the grader make one."""
    support = cgroup_support() if use_cgroup else None
    return SubmissionCgroup(support, limits) if support is not None else None


def run_sandboxed(
    argv: list[str],
    workdir: Path,
    limits: Limits,
    isolation: Isolation | None = None,
    request: bytes = b"",
    extra_ro: tuple[Path, ...] = (),
    user: ChildUser | None = None,
    response_limit: int = MAX_RESPONSE_BYTES,
    use_cgroup: bool = True,
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
    user : ChildUser, optional
        Who the child runs as; default: ``isolation.child_user()``. With
        ``user.switch == "child"`` the command must switch to ``user.uid`` itself.
    response_limit : int
        The most bytes read from the response descriptor.
    use_cgroup : bool
        Give the child a cgroup of its own where the machine allows it (see
        :mod:`~barenet.grading.sandbox.cgroups`).

    Returns
    -------
    ChildOutcome
        Never raises for anything the child does.
    """
    isolation = isolation or detect_isolation()
    user = user or isolation.child_user()
    workdir = Path(workdir).resolve()
    prepare_workdir(workdir, user)
    cgroup = make_cgroup(limits, use_cgroup)
    try:
        return run_watched(
            argv, workdir, limits, isolation, request, extra_ro, user, cgroup, response_limit
        )
    finally:
        if cgroup is not None:
            cgroup.kill_all()
            cgroup.remove()


def run_watched(
    argv: list[str],
    workdir: Path,
    limits: Limits,
    isolation: Isolation,
    request: bytes,
    extra_ro: tuple[Path, ...],
    user: ChildUser,
    cgroup: SubmissionCgroup | None,
    response_limit: int,
) -> ChildOutcome:
    """:func:`run_sandboxed` once the cgroup (if any) exists: start, feed, watch, collect."""
    read_fd, write_fd = os.pipe()
    seccomp_fd = program_file_descriptor() if isolation.active else None
    command = sandbox_prefix(isolation, workdir, user, extra_ro, seccomp_fd)
    command += [a.replace("{response_fd}", str(write_fd)) for a in argv]
    passed = (write_fd,) + (() if seccomp_fd is None else (seccomp_fd,))
    watch = ChildWatch(limits, cgroup)
    with tempfile.TemporaryDirectory(prefix="barenet-child-") as logs:
        start = time.monotonic()
        reader = _ResponseReader(read_fd, response_limit)
        try:
            preexec = preexec_steps(limits, user, cgroup, filter_here=not isolation.active)
            process = start_child(command, workdir, preexec, Path(logs), passed)
        finally:
            for fd in passed:
                os.close(fd)  # the child holds its own copies
        reader.start()
        writer = threading.Thread(target=_write_request, args=(process.stdin, request), daemon=True)
        writer.start()
        returncode, timed_out_by = watch.wait(process)
        watch.kill_all(process.pid)  # whatever it left running, in its group or its cgroup
        reader.join(timeout=5)
        writer.join(timeout=5)
        return ChildOutcome(
            returncode,
            _tail(Path(logs) / "stdout"),
            _tail(Path(logs) / "stderr"),
            bool(timed_out_by),
            time.monotonic() - start,
            b"".join(reader.chunks),
            reader.overflow,
            timed_out_by,
            watch.cpu_s,
            cgroup is not None and cgroup.out_of_memory(),
        )
