"""Files and processes: atomic writes, and whether a writer's process still runs.

Writing files so that a crash never leaves a half-written one behind.

A file is written under a temporary name in its own folder and renamed into
place (``os.replace`` is atomic on one file system). The temporary name holds the
writer's process id, so that a later writer can tell a temporary file whose
process died (killed, power cut) from one still being written, and remove it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMPORARY_SUFFIX = ".tmp"


def temporary_path(path: str | os.PathLike) -> Path:
    """A fresh hidden name next to ``path``: ``.<name>.<pid>.<random>.tmp``."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{TEMPORARY_SUFFIX}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; on success rename it to ``path``.

    Parameters
    ----------
    path : path-like
        The final file; its folder must exist.
    mode : {'wb', 'w'}
        Binary or text.
    **open_kwargs
        Passed to :func:`open` (e.g. ``encoding``).

    Yields
    ------
    file object
        Leaving the block with an exception deletes the temporary file and
        leaves ``path`` as it was. Permissions follow the umask, as for a plain
        ``open``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    remove_stale_temporaries(path)
    tmp = temporary_path(path)
    try:
        with open(tmp, mode.replace("w", "x"), **open_kwargs) as file:
            yield file
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_write`."""
    with atomic_write(path, "w", encoding="utf-8") as file:
        file.write(text)
    return Path(path)


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files of ``path`` left by processes that no longer run.

    Returns the removed paths. Files of live processes (a concurrent writer) and
    files that cannot be removed are left alone.
    """
    path = Path(path)
    removed = []
    if not path.parent.is_dir():
        return removed
    prefix = f".{path.name}."
    for candidate in path.parent.iterdir():
        name = candidate.name
        if not (name.startswith(prefix) and name.endswith(TEMPORARY_SUFFIX)):
            continue
        pid_text = name[len(prefix) :].split(".", 1)[0]
        if not pid_text.isdigit() or process_is_running(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
    return removed


def process_is_running(pid: int) -> bool:
    """Whether a process with this id exists on this machine (it may be another user's).

    An error other than "no such process" counts as running, so that a caller that
    cleans up after dead processes leaves alone what it cannot be sure about.
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but is someone else's, or unknown: keep its file
    return True
