"""Unpacking archives safely: nothing lands outside the target, nothing fills the disk.

:func:`safe_extract` unpacks an untrusted zip (a submission) within limits;
:func:`copy_folder_safely` copies an unpacked one with the same limits;
:func:`unpack` unpacks a downloaded ``.zip`` or ``.tar(.gz)`` atomically, with
the same checks and larger limits.

For a zip, nothing is parsed per entry before the totals are known to be small:
the end record is read exactly as CPython's ``zipfile`` reads it (ZIP64 too, so
a locator pointing at a decoy record changes nothing), its entry count and
directory size are checked, then the central directory itself is walked with a
bounded loop that stops at ``max_files`` entries or an entry nested too deep,
and only then does ``zipfile`` open the archive. Every entry is checked before
anything is written (no absolute paths, no ``..``, no links or special files, at
most :data:`MAX_DEPTH` folders deep, at most ``max_total_bytes`` declared), and
the bytes actually decompressed are counted while extracting, so a header that
lies about sizes is caught too.
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
MAX_DEPTH = 32  # folders an entry may be nested in: no walk or mkdir can recurse deeper
# A downloaded data set (checked against its SHA-256) may be far larger than a submission.
DATASET_MAX_TOTAL_BYTES = 16 * 1024**3
DATASET_MAX_FILES = 2_000_000
CHUNK = 1024 * 1024
MAX_DIRECTORY_BYTES_PER_ENTRY = 4096  # a central-directory entry with a long name, and room
END_RECORD = b"PK\x05\x06"  # end of central directory: 22 bytes plus a comment
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_END_RECORD = b"PK\x06\x06"
CENTRAL_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # one central-directory header, 46 bytes
CENTRAL_SIGNATURE = b"PK\x01\x02"
# Positions in the end record as zipfile returns it: entries, size, offset, location.
ENTRIES, SIZE, OFFSET, LOCATION = 4, 5, 6, 9


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
    if len(parts) > MAX_DEPTH + 1:
        raise UnsafeArchiveError(f"an entry nested more than {MAX_DEPTH} folders deep")
    return PurePosixPath(*parts)


def zip64_fallback(handle, end_at: int, endrec: list) -> list:
    """Where ``zipfile`` has no ``_EndRecData``: its ZIP64 reading (the record right before the locator)."""
    handle.seek(end_at - 20)
    locator = handle.read(20)
    if end_at < 76 or locator[:4] != ZIP64_LOCATOR:
        return endrec
    handle.seek(end_at - 76)
    record = handle.read(56)
    if record[:4] != ZIP64_END_RECORD:
        return endrec
    entries, size, offset = struct.unpack("<QQQ", record[32:56])
    endrec[0], endrec[ENTRIES], endrec[SIZE], endrec[OFFSET] = (
        ZIP64_END_RECORD,
        entries,
        size,
        offset,
    )
    return endrec


def end_record(handle) -> list:
    """The end-of-central-directory record as CPython's ``zipfile`` reads it.

    Raises
    ------
    UnsafeArchiveError
        When there is none: not a zip file.
    """
    reader = getattr(zipfile, "_EndRecData", None)  # the very function ZipFile calls
    try:
        if reader is not None:
            endrec = reader(handle)
        else:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - (22 + 65535)))
            tail = handle.read()
            at = tail.rfind(END_RECORD)
            endrec = None
            if at >= 0 and len(tail) - at >= 22:
                fields = list(struct.unpack("<4s4H2LH", tail[at : at + 22]))
                end_at = size - len(tail) + at
                endrec = zip64_fallback(handle, end_at, [*fields, b"", end_at])
    except (OSError, struct.error, zipfile.BadZipFile) as exc:
        raise UnsafeArchiveError(f"not a valid zip file: {exc}") from None
    if not endrec:
        raise UnsafeArchiveError("not a valid zip file: no end-of-central-directory record")
    return endrec


def directory_span(endrec: list) -> tuple[int, int]:
    """``(start, size)`` of the central directory, computed as ``zipfile`` computes it."""
    size, offset, location = endrec[SIZE], endrec[OFFSET], endrec[LOCATION]
    concat = location - size - offset  # data prepended to the zip (e.g. a self-extractor)
    if endrec[0] == ZIP64_END_RECORD:
        concat -= 56 + 20
    return offset + concat, size


def count_directory_entries(directory: bytes, max_files: int) -> int:
    """Walk the central directory as ``zipfile`` will, stopping early at any limit.

    Raises
    ------
    UnsafeArchiveError
        At entry ``max_files + 1``, at an entry nested deeper than :data:`MAX_DEPTH`,
        or at a header ``zipfile`` would refuse.
    """
    position = count = 0
    while position < len(directory):
        if count == max_files:
            raise UnsafeArchiveError(f"more than {max_files} entries (the limit)")
        header = directory[position : position + CENTRAL_ENTRY.size]
        if len(header) < CENTRAL_ENTRY.size or header[:4] != CENTRAL_SIGNATURE:
            raise UnsafeArchiveError("not a valid zip file: a broken central directory")
        fields = CENTRAL_ENTRY.unpack(header)
        name_length, extra_length, comment_length = fields[12], fields[13], fields[14]
        start = position + CENTRAL_ENTRY.size
        name = directory[start : start + name_length]
        if name.count(b"/") + name.count(b"\\") > MAX_DEPTH:
            raise UnsafeArchiveError(f"an entry nested more than {MAX_DEPTH} folders deep")
        position = start + name_length + extra_length + comment_length
        count += 1
    return count


def check_directory(
    zip_path: str | os.PathLike, max_total_bytes: int = MAX_TOTAL_BYTES, max_files: int = MAX_FILES
) -> None:
    """Refuse a zip whose end record or central directory exceeds the limits, cheaply.

    At most ``max_files`` directory entries are looked at, whatever the zip claims.
    """
    with open(zip_path, "rb") as handle:
        endrec = end_record(handle)
        entries = endrec[ENTRIES]
        start, size = directory_span(endrec)
        if entries > max_files:
            raise UnsafeArchiveError(f"{entries} entries, more than the limit of {max_files}")
        if size > max_files * MAX_DIRECTORY_BYTES_PER_ENTRY:
            raise UnsafeArchiveError(f"a central directory of {size} bytes is too large")
        handle.seek(0, os.SEEK_END)
        if handle.tell() > max_total_bytes + max_files * MAX_DIRECTORY_BYTES_PER_ENTRY:
            raise UnsafeArchiveError(f"the zip file is larger than {max_total_bytes} bytes")
        if start < 0:
            raise UnsafeArchiveError("not a valid zip file: a bad central-directory offset")
        handle.seek(start)
        directory = handle.read(size)
    count_directory_entries(directory, max_files)


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
        check_directory(zip_path, max_total_bytes, max_files)
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


def folder_entries(source: Path, max_files: int) -> tuple[list[Path], list[Path]]:
    """``(folders, files)`` under ``source``, relative, walked without recursion.

    Raises
    ------
    UnsafeArchiveError
        For a link or special file, more than ``max_files`` files, or more than
        :data:`MAX_DEPTH` folders deep.
    """
    folders, files, pending = [], [], [Path()]
    while pending:
        relative = pending.pop()
        if len(relative.parts) > MAX_DEPTH:
            raise UnsafeArchiveError(f"the folder nests more than {MAX_DEPTH} folders deep")
        with os.scandir(source / relative) as entries:
            for entry in entries:
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    folders.append(relative / entry.name)
                    pending.append(relative / entry.name)
                elif stat.S_ISREG(mode):
                    files.append(relative / entry.name)
                elif stat.S_ISLNK(mode):
                    raise UnsafeArchiveError("the folder contains symbolic links")
                else:
                    raise UnsafeArchiveError(
                        "the folder contains special files (devices, pipes, sockets)"
                    )
                if len(files) > max_files:
                    raise UnsafeArchiveError(f"more than {max_files} files (the limit)")
    return folders, files


def copy_folder_safely(
    source: str | os.PathLike,
    destination: str | os.PathLike,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_files: int = MAX_FILES,
) -> list[Path]:
    """Copy an unpacked submission into ``destination`` with the zip limits.

    Regular files and folders only (a link anywhere refuses the folder), at most
    ``max_files`` files and ``max_total_bytes`` bytes (counted while copying), at
    most :data:`MAX_DEPTH` deep; no recursion. Returns the copied files.
    """
    source, root = Path(source), Path(destination)
    folders, files = folder_entries(source, max_files)
    root.mkdir(parents=True, exist_ok=True)
    for folder in sorted(folders, key=lambda f: len(f.parts)):
        (root / folder).mkdir(exist_ok=True)
    budget, copied = max_total_bytes, []
    for relative in files:
        flags = os.O_RDONLY | os.O_NOFOLLOW
        with os.fdopen(os.open(source / relative, flags), "rb") as src:
            with open(root / relative, "xb") as sink:
                budget -= copy_limited(src, sink, budget)
        copied.append(root / relative)
    return copied


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
