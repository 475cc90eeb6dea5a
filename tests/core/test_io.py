"""atomic_write: all or nothing, permissions from the umask, stale temporaries removed."""

import os
import subprocess
import sys

import pytest

from barenet.io import (
    atomic_write,
    remove_stale_temporaries,
    temporary_path,
    write_text_atomically,
)


def dead_pid() -> int:
    """The id of a process that has already ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    write_text_atomically(target, "new")
    assert target.read_text() == "new"
    assert os.listdir(tmp_path) == ["a.json"]


def test_an_error_while_writing_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as file:
        file.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomically(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_stale_temporaries_of_dead_writers_are_removed_on_the_next_write(tmp_path):
    target = tmp_path / "model.npz"
    stale = tmp_path / f".model.npz.{dead_pid()}.abc.tmp"
    live = temporary_path(target)  # this process: a write in progress
    other = tmp_path / f".other.npz.{dead_pid()}.abc.tmp"  # another file's
    for path in (stale, live, other):
        path.write_bytes(b"partial")
    with atomic_write(target) as file:
        file.write(b"done")
    assert not stale.exists() and live.exists() and other.exists()
    assert remove_stale_temporaries(tmp_path / "other.npz") == [other]


def test_atomic_write_refuses_append_mode(tmp_path):
    with (
        pytest.raises(ValueError, match="mode must be 'wb' or 'w'"),
        atomic_write(tmp_path / "x", "a"),
    ):
        pass
