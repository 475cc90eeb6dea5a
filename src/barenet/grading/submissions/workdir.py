"""A submission's working folder and the child's code beside it, before the child starts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from barenet.archives import MAX_FILES, MAX_TOTAL_BYTES, UnsafeArchiveError
from barenet.grading.sandboxed import child as child_module

CHILD_PACKAGE = "barenet_sandboxed"


def copy_submission_folder(source: Path, destination: Path) -> None:
    """Copy an unpacked submission, with the zip limits: regular files only, bounded size."""
    entries = list(source.rglob("*"))  # does not descend into symlinked folders
    if any(p.is_symlink() for p in entries):
        raise UnsafeArchiveError("the folder contains symbolic links")
    files = [p for p in entries if not p.is_dir()]
    if len(files) > MAX_FILES:
        raise UnsafeArchiveError(f"{len(files)} files, more than the limit of {MAX_FILES}")
    if not all(p.is_file() for p in files):
        raise UnsafeArchiveError("the folder contains special files (devices, pipes, sockets)")
    if sum(p.stat().st_size for p in files) > MAX_TOTAL_BYTES:
        raise UnsafeArchiveError(f"the folder holds more than {MAX_TOTAL_BYTES} bytes")
    shutil.copytree(source, destination, dirs_exist_ok=True, symlinks=True)


def install_child_code(folder: Path) -> Path:
    """Copy the child's own code (NumPy-only) into ``folder/barenet_sandboxed``; return ``folder``."""
    package = folder / CHILD_PACKAGE
    package.mkdir(parents=True)
    for source in Path(child_module.__file__).parent.glob("*.py"):
        shutil.copyfile(source, package / source.name)
    for path in (folder, package, *package.iterdir()):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return folder


def bootstrap_code(library: Path) -> str:
    """``python -I -c`` code that runs the child from its copied package."""
    return (
        f"import sys; sys.path.insert(0, {str(library)!r}); "
        f"from {CHILD_PACKAGE}.child import main; main()"
    )
