"""What isolation this machine offers a child, probed once, and how reports say it.

Grading fails closed: :func:`required_isolation` raises :class:`NoIsolationError`
(naming what is missing and how to install it) where no sandbox works, and only
an explicit :func:`no_isolation` (``barenet grade --no-sandbox``) runs
submissions without one, which every report then states.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from barenet.grading.sandbox.bubblewrap import bwrap_command, bwrap_supports
from barenet.grading.sandbox.cgroups import cgroup_support
from barenet.grading.sandbox.child_user import NOBODY, ChildUser, child_user
from barenet.grading.sandbox.limits import Limits
from barenet.grading.sandbox.seccomp import filter_program

INSTALL_HINT = (
    "install bubblewrap (Debian and Ubuntu: apt-get install bubblewrap; it needs root or "
    "unprivileged user namespaces), or pass --no-sandbox to grade without isolation"
)


NO_CGROUP = (
    "no cgroup here (it needs root or a delegated cgroup): per-process limits only, "
    "no total over a submission's processes"
)


class NoIsolationError(RuntimeError):
    """No sandbox works here and none was waived explicitly: nothing of a submission runs."""


@dataclass(frozen=True)
class Isolation:
    """What isolation the machine offers.

    Attributes
    ----------
    kind : {"bubblewrap", "none"}
    detail : str
        The ``bwrap`` path, or why it is not in use.
    setpriv : str or None
        Path of ``setpriv``, used to become unprivileged inside the sandbox when run as root.
    """

    kind: str
    detail: str
    setpriv: str | None = None

    @property
    def active(self) -> bool:
        return self.kind == "bubblewrap"

    def child_user(self, uid: int = NOBODY) -> ChildUser:
        """Who a child runs as under this isolation (the one place this is decided)."""
        return child_user(self.active, self.setpriv, uid)

    def describe(self, limits: Limits, user: ChildUser | None = None) -> str:
        """One sentence for reports: what was isolated, who the child ran as, the limits."""
        user = user or self.child_user()
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
        if os.geteuid() == 0:
            head += (
                "; runs as an unprivileged uid of its own"
                if user.unprivileged
                else "; runs as root"
            )
        support = cgroup_support()
        totals = support.describe(limits) if support else NO_CGROUP
        if filter_program() is not None:
            totals += "; memfd_create and System V shared memory refused (seccomp)"
        return f"{head}; {totals}; limits: {limits.describe(process_limit=user.unprivileged)}"


def probe_bwrap(bwrap: str, setpriv: str | None) -> subprocess.CompletedProcess | None:
    """Run ``import numpy`` in a sandbox as :func:`bwrap_command` builds it; None if bwrap fails."""
    user = child_user(True, setpriv)
    with tempfile.TemporaryDirectory(prefix="barenet-probe-") as probe_dir:
        os.chmod(probe_dir, 0o755)
        command = bwrap_command(bwrap, Path(probe_dir), user)
        command += [sys.executable, "-I", "-c", "import numpy"]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None


@functools.lru_cache(maxsize=1)
def detect_isolation() -> Isolation:
    """Whether ``bwrap`` exists and can create its namespaces here (probed once)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Isolation("none", "bubblewrap (bwrap) is not installed")
    setpriv = shutil.which("setpriv") if os.geteuid() == 0 else None
    probe = probe_bwrap(bwrap, setpriv)
    if probe is None:
        return Isolation("none", "bwrap could not be started")
    if probe.returncode == 0:
        return Isolation("bubblewrap", bwrap, setpriv)
    if setpriv is not None:  # e.g. Python unreadable by nobody: the child switches itself
        retry = probe_bwrap(bwrap, None)
        if retry is not None and retry.returncode == 0:
            return Isolation("bubblewrap", bwrap)
    reason = probe.stderr.strip().splitlines()[-1:] or [f"exit status {probe.returncode}"]
    return Isolation("none", f"bwrap cannot create its namespaces here: {reason[0]}")


def no_isolation(why: str = "--no-sandbox") -> Isolation:
    """Isolation waived explicitly (``why`` says by what); every report states it."""
    found = detect_isolation()
    here = "although bubblewrap works here" if found.active else found.detail
    return Isolation("none", f"waived explicitly with {why}; {here}")


def required_isolation() -> Isolation:
    """The sandbox this machine offers.

    Raises
    ------
    NoIsolationError
        When none works here: says what is missing and how to install it.
    """
    found = detect_isolation()
    if not found.active:
        raise NoIsolationError(
            f"no file-system and network isolation here ({found.detail}): {INSTALL_HINT}"
        )
    return found
