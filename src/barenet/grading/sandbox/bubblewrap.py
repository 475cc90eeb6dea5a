"""The bubblewrap command line that wraps a sandboxed child.

No network, its own PID, IPC and UTS namespaces, no capabilities, a read-only
view of only the system and Python folders it needs (of the installed packages
only NumPy and cloudpickle; barenet's own folder is never shown), a small
private ``/tmp``, and the working folder as the one writable place.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path, PurePosixPath

from barenet.grading.sandbox.child_user import ChildUser

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
TMP_BYTES = 64 * 1024**2  # the private /tmp is a tmpfs in RAM, outside RLIMIT_AS


def python_dirs() -> list[Path]:
    """Folders a Python child needs to read: the interpreter and its standard library.

    Their package folders are then hidden (see :func:`package_folders`) except for
    the few packages a submission may use; barenet's own folder is never shown.
    """
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates |= {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
    candidates.add(str(Path(sys.executable).resolve().parent.parent))
    return sorted({Path(p).resolve() for p in candidates if p and Path(p).exists()})


PACKAGE_FOLDER_NAMES = ("site-packages", "dist-packages")


def package_folders() -> list[Path]:
    """Every folder of installed packages the sandbox would otherwise show.

    Those of this Python and of its base interpreter (a virtual environment's
    ``sys.base_prefix``), and every ``site-packages`` or ``dist-packages`` folder
    under the Python and system folders that the sandbox binds (Debian keeps the
    system Python's packages in ``/usr/lib/python3/dist-packages``), since a
    submission can put any folder it sees on ``sys.path``.
    """
    names = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    names |= {sysconfig.get_paths(vars=base)[k] for k in ("purelib", "platlib")}
    names |= set(site.getsitepackages([sys.prefix, sys.base_prefix, sys.base_exec_prefix]))
    for root in [*python_dirs(), *map(Path, SYSTEM_DIRS)]:
        for pattern in ("lib/python3*/", "lib/python3/", "python3*/", ""):
            for kind in PACKAGE_FOLDER_NAMES:
                names |= {str(p) for p in root.glob(pattern + kind)}
    return sorted({Path(p).resolve() for p in names if p and Path(p).is_dir()})


def allowed_packages() -> list[Path]:
    """The installed packages a submission may use: NumPy and what unpickling needs."""
    found = []
    for name in ("numpy", "cloudpickle"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(next(iter(spec.submodule_search_locations))).resolve()
        found += [folder] + [p for p in [folder.with_name(name + ".libs")] if p.is_dir()]
    return found


@functools.lru_cache(maxsize=16)
def bwrap_supports(bwrap: str, option: str) -> bool:
    """Whether this bubblewrap knows ``option`` (e.g. ``--size``, ``--perms``)."""
    try:
        help_text = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return option in help_text.stdout + help_text.stderr


class MountArguments:
    """Collects bubblewrap mount arguments, creating parent folders readable by anyone."""

    def __init__(self, bwrap: str):
        self.args: list[str] = []
        self.made: set[str] = {"/"}
        self.mounts: list[PurePosixPath] = []
        self.bound: list[Path] = []
        self.perms = bwrap_supports(bwrap, "--perms")

    def with_mode(self, mode: str) -> list[str]:
        return ["--perms", mode] if self.perms else []

    def parents(self, path: str) -> None:
        for parent in reversed(PurePosixPath(path).parents):
            name = str(parent)
            if name not in self.made and not self.inside_a_mount(parent):
                self.args += self.with_mode("0755") + ["--dir", name]
                self.made.add(name)

    def inside_a_mount(self, path: PurePosixPath) -> bool:
        return any(path.is_relative_to(m) for m in self.mounts)

    def bind(self, option: str, source: str, target: str) -> None:
        self.parents(target)
        self.args += [option, source, target]
        self.made.add(target)
        if option == "--ro-bind":  # its folders exist already, and cannot be made
            self.mounts.append(PurePosixPath(target))

    def read_only(self, path: Path) -> None:
        """Show ``path`` read-only, unless a folder already shown holds it."""
        if not any(path.is_relative_to(b) for b in self.bound):
            self.bind("--ro-bind", str(path), str(path))
            self.bound.append(path)

    def tmpfs(self, target: str, mode: str = "0755") -> None:
        """An empty folder in RAM over ``target``."""
        self.parents(target)
        self.args += self.with_mode(mode) + ["--tmpfs", target]
        self.made.add(target)

    def symlink(self, link_target: str, name: str) -> None:
        self.args += ["--symlink", link_target, name]
        self.made.add(name)


def namespace_options(bwrap: str, user: ChildUser) -> list[str]:
    """New namespaces for everything but the user; every capability dropped."""
    args = [bwrap, "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        args += ["--unshare-all"]
        if bwrap_supports(bwrap, "--disable-userns"):
            args += ["--unshare-user", "--disable-userns"]
        return args
    # Run by root: no user namespace, since the child must become a real
    # unprivileged uid for the process limit to apply. bubblewrap run by root
    # would keep every capability: drop them all, but those the switch needs.
    args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--cap-drop", "ALL"]
    if user.switch in ("setpriv", "child"):
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    return args


def show_system(mounts: MountArguments) -> None:
    """The system folders (a merged /usr's links as links) and the few files Python needs."""
    for name in SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            mounts.symlink(os.readlink(path), name)
        elif path.is_dir():
            mounts.read_only(path)
    for file in SYSTEM_FILES:
        if Path(file).exists():
            mounts.bind("--ro-bind", file, file)


def show_python(mounts: MountArguments, extra_ro: tuple[Path, ...]) -> None:
    """The interpreter and standard library, with only the allowed installed packages."""
    for path in [*python_dirs(), *extra_ro]:
        mounts.read_only(path)
    for folder in package_folders():
        mounts.tmpfs(str(folder))  # hide the installed packages, then show the allowed ones
    for package in allowed_packages():
        mounts.bind("--ro-bind", str(package), str(package))


def setpriv_prefix(user: ChildUser) -> list[str]:
    """The ``setpriv`` command that makes the child ``user`` with no capabilities left."""
    if user.switch != "setpriv":
        return []
    return [
        user.setpriv,
        f"--reuid={user.uid}",
        f"--regid={user.uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
    ]


def bwrap_command(
    bwrap: str,
    workdir: Path,
    user: ChildUser,
    extra_ro: tuple[Path, ...] = (),
    tmp_bytes: int = TMP_BYTES,
    seccomp_fd: int | None = None,
) -> list[str]:
    """The bubblewrap prefix: namespaces, read-only binds, small private /tmp, writable workdir.

    Parameters
    ----------
    bwrap : str
        Path of the ``bwrap`` executable.
    workdir : Path
        Bound read-write at the same path; the child's current folder.
    user : ChildUser
        Who the child runs as (see :func:`~barenet.grading.sandbox.child_user.child_user`).
    extra_ro : tuple of Path
        More folders to bind read-only (e.g. the child's own code).
    tmp_bytes : int
        Size of the private ``/tmp``.
    seccomp_fd : int, optional
        A descriptor holding a seccomp program, applied to the child (``--seccomp``).
    """
    args = namespace_options(bwrap, user) + ["--proc", "/proc", "--dev", "/dev"]
    mounts = MountArguments(bwrap)
    if bwrap_supports(bwrap, "--size"):  # --size arrived in bubblewrap 0.7
        args += ["--size", str(tmp_bytes)]
    mounts.tmpfs("/tmp", mode="1777")
    show_system(mounts)
    show_python(mounts, extra_ro)
    mounts.bind("--bind", str(workdir), str(workdir))
    # The sandbox's own root and /dev are tmpfs in RAM: make them read-only, so that
    # the working folder and the size-limited /tmp are the only writable places.
    args += mounts.args + ["--remount-ro", "/dev", "--remount-ro", "/"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args + ["--chdir", str(workdir), "--", *setpriv_prefix(user)]
