"""A submission's working folder and the child's code beside it, before the child starts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from barenet.archives import copy_folder_safely, safe_extract
from barenet.grading.sandboxed import child as child_module

CHILD_PACKAGE = "barenet_sandboxed"


def unpack_submission(path: Path, workdir: Path) -> None:
    """A zip unpacked, or a folder copied, into ``workdir``, within the archive limits.

    Raises
    ------
    UnsafeArchiveError, OSError
        For anything unsafe or unreadable (``FileNotFoundError`` when ``path`` is missing).
    """
    if path.is_dir():
        copy_folder_safely(path, workdir)
    elif path.is_file():
        safe_extract(path, workdir)
    else:
        raise FileNotFoundError(f"{path} does not exist")


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
