"""Safe, atomic unpacking of ``.zip`` and ``.tar(.gz)`` archives."""

from __future__ import annotations

import os
import shutil
import tarfile
import uuid
import zipfile
from pathlib import Path, PurePosixPath


def unpack(archive: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Unpack ``archive`` into the new folder ``target``.

    Members are extracted into a temporary folder next to ``target``, which is
    renamed to ``target`` only when everything is out: an interrupted unpack
    leaves no ``target`` behind. A member whose path would land outside
    ``target`` (absolute, ``..``), or a tar link or device file, is refused.

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    ValueError
        If the archive is neither zip nor tar, or has an unsafe member.
    FileExistsError
        If ``target`` already exists.
    """
    archive, target = Path(archive), Path(target)
    if target.exists():
        raise FileExistsError(f"cannot unpack {archive}: {target} already exists")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.unpacking-{uuid.uuid4().hex[:8]}"
    try:
        if zipfile.is_zipfile(archive):
            _unzip(archive, temporary)
        elif tarfile.is_tarfile(archive):
            _untar(archive, temporary)
        else:
            raise ValueError(f"{archive} is neither a .zip nor a .tar(.gz) archive")
        os.rename(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return target


def _unzip(archive: Path, destination: Path) -> None:
    with zipfile.ZipFile(archive) as zipped:
        for name in zipped.namelist():
            _check_member_path(name, archive)
        zipped.extractall(destination)


def _untar(archive: Path, destination: Path) -> None:
    with tarfile.open(archive) as tarred:
        members = tarred.getmembers()
        for member in members:
            _check_member_path(member.name, archive)
            if not (member.isfile() or member.isdir()):
                raise ValueError(f"{archive} holds {member.name!r}, a link or special file")
        if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12 / 3.11.4
            tarred.extractall(destination, members=members, filter="data")
        else:  # pragma: no cover - older Pythons; members were checked above
            tarred.extractall(destination, members=members)


def _check_member_path(name: str, archive: Path) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise ValueError(f"{archive} holds {name!r}, a path that escapes the folder")
