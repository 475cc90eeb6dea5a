"""Unpacking archives safely: nothing lands outside the target, nothing fills the disk.

:func:`safe_extract` unpacks an untrusted zip (a submission) within limits;
:func:`unpack` unpacks a downloaded ``.zip`` or ``.tar(.gz)`` atomically, with
the same checks and larger limits. For a zip, before the central directory is even read, the end-of-central-directory record
gives the number of entries and the directory's size, and both are checked, so
a zip claiming a million entries costs nothing. Then every entry is checked
before anything is written (no absolute paths, no ``..``,
no symbolic links or other special files, at most ``max_files`` entries and
``max_total_bytes`` declared bytes), and the bytes actually decompressed are
counted while extracting, so a header that lies about sizes is caught too.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import tarfile
import uuid
import zipfile
from pathlib import Path, PurePosixPath

MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 1000
# A downloaded data set (checked against its SHA-256) may be far larger than a submission.
DATASET_MAX_TOTAL_BYTES = 16 * 1024**3
DATASET_MAX_FILES = 2_000_000
CHUNK = 1024 * 1024
MAX_DIRECTORY_BYTES_PER_ENTRY = 4096  # a central-directory entry with a long name, and room
END_RECORD = b"PK\x05\x06"  # end of central directory: 22 bytes plus a comment
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_END_RECORD = b"PK\x06\x06"


class UnsafeArchiveError(ValueError):
    """The archive is malformed, too large, or has an entry that would land outside."""


def checked_member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The entry's relative path, or ``UnsafeArchiveError`` when it is not a plain file or folder."""
    name = info.filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafeArchiveError(f"entry {name!r} is a symbolic link")
    file_type = stat.S_IFMT(mode)  # 0 when the zip records permissions only
    if file_type and file_type not in (stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchiveError(f"entry {name!r} is not a regular file or folder")
    unix_name = name.replace("\\", "/")
    if unix_name.startswith("/") or (len(unix_name) > 1 and unix_name[1] == ":"):
        raise UnsafeArchiveError(f"entry {name!r} has an absolute path")
    parts = PurePosixPath(unix_name).parts
    if ".." in parts:
        raise UnsafeArchiveError(f"entry {name!r} leaves the target folder ('..')")
    if "\x00" in unix_name or not parts:
        raise UnsafeArchiveError(f"entry {name!r} has an invalid name")
    return PurePosixPath(*parts)


def end_record_counts(handle) -> tuple[int, int]:
    """``(entries, central directory bytes)`` from the end record (ZIP64 too), reading only the end.

    Raises
    ------
    UnsafeArchiveError
        When there is no end record: not a zip file.
    """
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    tail_start = max(0, size - (22 + 65535 + 20))
    handle.seek(tail_start)
    tail = handle.read()
    at = tail.rfind(END_RECORD)
    if at < 0 or len(tail) - at < 22:
        raise UnsafeArchiveError("not a valid zip file: no end-of-central-directory record")
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    locator = at - 20
    if locator >= 0 and tail[locator : locator + 4] == ZIP64_LOCATOR:
        (record_offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        handle.seek(record_offset)
        record = handle.read(56)
        if len(record) < 56 or record[:4] != ZIP64_END_RECORD:
            raise UnsafeArchiveError("not a valid zip file: broken ZIP64 end record")
        entries, directory_bytes = struct.unpack("<QQ", record[32:48])
    return entries, directory_bytes


def check_end_record(
    zip_path: str | os.PathLike, max_total_bytes: int = MAX_TOTAL_BYTES, max_files: int = MAX_FILES
) -> None:
    """Refuse a zip whose end record announces too many entries or too large a directory."""
    with open(zip_path, "rb") as handle:
        entries, directory_bytes = end_record_counts(handle)
        if entries > max_files:
            raise UnsafeArchiveError(f"{entries} entries, more than the limit of {max_files}")
        if directory_bytes > max_files * MAX_DIRECTORY_BYTES_PER_ENTRY:
            raise UnsafeArchiveError(f"a central directory of {directory_bytes} bytes is too large")
        handle.seek(0, os.SEEK_END)
        if handle.tell() > max_total_bytes + max_files * MAX_DIRECTORY_BYTES_PER_ENTRY:
            raise UnsafeArchiveError(f"the zip file is larger than {max_total_bytes} bytes")


def check_header(
    archive: zipfile.ZipFile, max_total_bytes: int = MAX_TOTAL_BYTES, max_files: int = MAX_FILES
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    """Validate every entry and the declared totals; return the entries with their paths."""
    infos = archive.infolist()
    if len(infos) > max_files:
        raise UnsafeArchiveError(f"{len(infos)} entries, more than the limit of {max_files}")
    declared = sum(info.file_size for info in infos)
    if declared > max_total_bytes:
        raise UnsafeArchiveError(
            f"{declared} bytes uncompressed, more than the limit of {max_total_bytes}"
        )
    return [(info, checked_member_path(info)) for info in infos]


def copy_limited(source, target, budget: int) -> int:
    """Copy a stream chunk by chunk; return the bytes copied, never more than ``budget``.

    Raises
    ------
    UnsafeArchiveError
        As soon as the stream yields more than ``budget`` bytes.
    """
    copied = 0
    while chunk := source.read(CHUNK):
        copied += len(chunk)
        if copied > budget:
            raise UnsafeArchiveError("the archive decompresses to more bytes than its limit")
        target.write(chunk)
    return copied


def safe_extract(
    zip_path: str | os.PathLike,
    destination: str | os.PathLike,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> list[Path]:
    """Extract ``zip_path`` into ``destination`` (created), within the limits.

    Parameters
    ----------
    zip_path : path of the zip
    destination : folder to extract into; nothing is written outside it
    max_total_bytes : int
        Limit on the uncompressed size, declared and actual.
    max_files : int
        Limit on the number of entries.

    Returns
    -------
    list of Path
        The extracted files.

    Raises
    ------
    UnsafeArchiveError
        On any violation; files extracted so far are removed.
    """
    root = Path(destination).resolve()
    root.mkdir(parents=True, exist_ok=True)
    try:
        check_end_record(zip_path, max_total_bytes, max_files)
        with zipfile.ZipFile(zip_path) as archive:
            entries = check_header(archive, max_total_bytes, max_files)
            return _extract_entries(archive, entries, root, max_total_bytes)
    except zipfile.BadZipFile as exc:
        _empty_folder(root)
        raise UnsafeArchiveError(f"not a valid zip file: {exc}") from None
    except (UnsafeArchiveError, OSError):
        _empty_folder(root)
        raise


def _extract_entries(
    archive: zipfile.ZipFile,
    entries: list[tuple[zipfile.ZipInfo, PurePosixPath]],
    root: Path,
    budget: int,
) -> list[Path]:
    written = []
    for info, relative in entries:
        target = root.joinpath(*relative.parts)
        if not target.resolve().is_relative_to(root):  # belt and braces after the name check
            raise UnsafeArchiveError(f"entry {info.filename!r} leaves the target folder")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            raise UnsafeArchiveError(f"entry {info.filename!r} appears twice")
        with archive.open(info) as source, open(target, "xb") as sink:
            budget -= copy_limited(source, sink, budget)
        written.append(target)
    return written


def _empty_folder(root: Path) -> None:
    """Remove what was extracted into ``root`` before the failure."""
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


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
        If the archive is neither zip nor tar, or has an unsafe member
        (:class:`UnsafeArchiveError` for a zip).
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
    try:
        safe_extract(archive, destination, DATASET_MAX_TOTAL_BYTES, DATASET_MAX_FILES)
    except UnsafeArchiveError as exc:
        raise ValueError(f"{archive}: {exc}") from None


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
