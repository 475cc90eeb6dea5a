"""Who a sandboxed child runs as, decided in one place.

Started by an ordinary user, the child runs as that user. Started by root, the
submission's code must run as an unprivileged uid (so that the process limit
applies and root's files stay out of reach); :func:`child_user` decides how it
gets there: ``setpriv`` inside bubblewrap switches before the child starts, or,
where the sandbox cannot (no ``setpriv``, or no sandbox at all), the child
switches itself as its first act, before it reads anything of the submission.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

NOBODY = 65534  # the unprivileged uid and gid a child started by root runs as


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
