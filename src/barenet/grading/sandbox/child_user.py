"""Who a sandboxed child runs as, decided in one place.

Started by an ordinary user, the child runs as that user. Started by root, the
submission's code must run as an unprivileged uid (so that the process limit
applies and root's files stay out of reach); :func:`child_user` decides how it
gets there: ``setpriv`` inside bubblewrap switches before the child starts, or,
where the sandbox cannot (no ``setpriv``, or no sandbox at all), the child
switches itself as its first act, before it reads anything of the submission.
"""

from __future__ import annotations

import itertools
import os
import pwd
import threading
from dataclasses import dataclass

NOBODY = 65534  # the unprivileged uid and gid of a child when no uid of its own is asked for
# Each submission graded by root runs as a uid (and gid) of its own, taken from this
# range (no account has one), so that no process of one submission can signal,
# trace or open the files of another, even one still running.
SUBMISSION_UIDS = range(1_900_000_000, 2_000_000_000)
_next_uids = itertools.count(SUBMISSION_UIDS.start + os.getpid() % 1000 * 10_000)
_uid_lock = threading.Lock()


def uid_in_use(uid: int) -> bool:
    """Whether an account or a running process has this uid."""
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        pass
    for entry in os.scandir("/proc"):
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                return True
        except OSError:
            continue
    return False


def fresh_uid() -> int:
    """A uid no account and no running process has, for one submission."""
    with _uid_lock:
        for uid in _next_uids:
            if uid not in SUBMISSION_UIDS:
                raise RuntimeError("no free uid left for submissions")
            if not uid_in_use(uid):
                return uid
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class ChildUser:
    """The uid a child's code runs as, and what switches to it.

    Attributes
    ----------
    uid : int
        The uid (and gid) of the submission's code.
    switch : {"none", "setpriv", "child"}
        ``"none"``: not started by root, nothing to switch; ``"setpriv"``: the
        sandbox runs the child through ``setpriv``; ``"child"``: the child calls
        ``setuid`` itself (bubblewrap then keeps CAP_SETUID and CAP_SETGID for it).
    setpriv : str or None
        Path of ``setpriv`` when ``switch == "setpriv"``.
    """

    uid: int
    switch: str = "none"
    setpriv: str | None = None

    @property
    def unprivileged(self) -> bool:
        return self.uid != 0

    @property
    def child_switches(self) -> bool:
        return self.switch == "child"

    def uid_for_child(self) -> int:
        """The uid the child must switch to itself, or -1 when it must not switch."""
        return self.uid if self.child_switches else -1


def child_user(sandboxed: bool, setpriv: str | None, uid: int = NOBODY) -> ChildUser:
    """Who the child runs as: this user, or (started by root) ``uid`` by the surest route.

    Parameters
    ----------
    sandboxed : bool
        Whether bubblewrap wraps the child.
    setpriv : str or None
        Path of ``setpriv``, if installed.
    uid : int
        The unprivileged uid for a child started by root.
    """
    if os.geteuid() != 0:
        return ChildUser(os.getuid())
    if sandboxed and setpriv is not None:
        return ChildUser(uid, "setpriv", setpriv)
    return ChildUser(uid, "child")
