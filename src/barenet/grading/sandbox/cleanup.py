"""Removing a folder a submission has had its hands on, whatever it left there.

``shutil.rmtree`` recurses once per level and works with full paths, so a
3,000-deep chain of folders breaks it (``RecursionError``, or paths longer than
the system allows). :func:`remove_tree` never recurses and never builds a long
path: it works relative to open folder descriptors and moves every sub-folder
up to the top before emptying it. Read-only folders are made writable first,
through a descriptor opened without following links (so a link raced in by a
lingering process cannot turn root's ``chmod`` onto a file outside); symbolic
links are removed, never followed.
"""

from __future__ import annotations

import itertools
import os
import stat
from pathlib import Path

_names = itertools.count()


def _open_folder(name: str, parent_fd: int | None = None) -> int:
    """A descriptor of the folder ``name``, never of what a link there points to; made ``0700``.

    Root opens any folder and changes the mode through the descriptor, so no link
    raced into the tree can redirect the ``chmod``. Another user may first need the
    mode changed to open its own folder; it checks the entry is a folder, not a link.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        fd = os.open(name, flags, dir_fd=parent_fd)
    except PermissionError:
        if not stat.S_ISDIR(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode):
            raise
        os.chmod(name, stat.S_IRWXU, dir_fd=parent_fd)  # our own folder: not another's file
        fd = os.open(name, flags, dir_fd=parent_fd)
    os.fchmod(fd, stat.S_IRWXU)
    return fd


def _empty(folder_fd: int, top_fd: int, pending: list[str]) -> None:
    """Unlink the files of one folder; move its sub-folders up to the top, into ``pending``."""
    with os.scandir(folder_fd) as entries:
        names = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    for name, is_folder in names:
        if is_folder:
            moved = f".barenet-rm-{next(_names)}"
            os.rename(name, moved, src_dir_fd=folder_fd, dst_dir_fd=top_fd)
            pending.append(moved)
        else:
            os.unlink(name, dir_fd=folder_fd)


def remove_tree(path: str | os.PathLike) -> None:
    """Remove ``path`` and everything under it, without recursion.

    Raises
    ------
    OSError
        When something cannot be removed (the caller decides what that means).
    """
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    top_fd = _open_folder(str(path))
    try:
        pending: list[str] = []
        _empty(top_fd, top_fd, pending)
        while pending:
            name = pending.pop()
            try:
                folder_fd = _open_folder(name, top_fd)
            except OSError:  # a link raced in where a folder was: remove the link itself
                os.unlink(name, dir_fd=top_fd)
                continue
            try:
                _empty(folder_fd, top_fd, pending)
            finally:
                os.close(folder_fd)
            os.rmdir(name, dir_fd=top_fd)
    finally:
        os.close(top_fd)
    os.rmdir(path)
