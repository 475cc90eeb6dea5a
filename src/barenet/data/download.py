"""Downloading data files: pooch fetches, shows a tqdm bar and checks the SHA-256.

pooch downloads into a temporary file in the target folder and renames it only
once the transfer is complete and the hash matches, so a failed download never
leaves a file that a later run could take for a good one. A file placed by hand
at the target path (with the right hash) is used without any download.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from barenet.archives import unpack
from barenet.progress import interactive

from .cache import CACHE_DIR_ENV, user_cache_dir


class DownloadError(RuntimeError):
    """A file could not be downloaded, or what arrived is not the expected file."""


def download(
    url: str,
    folder: str | os.PathLike | None = None,
    filename: str | None = None,
    sha256: str | None = None,
    progress: bool = True,
    hint: str = "",
) -> Path:
    """Download ``url`` into ``folder`` (unless a good copy is already there).

    Parameters
    ----------
    url : str
        http(s) or ftp address of the file.
    folder : path, optional
        Where to put it; default ``downloads/<hash of the URL>/`` in
        ``$BARENET_CACHE_DIR``, else in the platformdirs user cache of barenet.
    filename : str, optional
        Name of the local file; default the last part of the URL.
    sha256 : str, optional
        Expected SHA-256 (64 hex digits). Strongly advised: without it, any
        complete transfer is accepted (pooch logs the hash it got).
    progress : bool
        Show a tqdm progress bar on stderr (on a terminal or in a notebook only).
    hint : str
        Extra advice appended to error messages (e.g. an environment variable
        that points barenet at a mirror).

    Returns
    -------
    Path
        The downloaded (or already present) file.

    Raises
    ------
    DownloadError
        Unreachable host, HTTP error, truncated transfer or wrong SHA-256. The
        message names the URL and says where to place the file by hand; no
        partial file is left at the target path.
    """
    sha256 = validate_sha256(sha256)
    if folder is None:  # one folder per URL: two "data.zip" from different places never mix
        folder = user_cache_dir() / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:10]
    folder = Path(folder)
    filename = filename or filename_from_url(url)
    target = folder / filename
    known_hash = f"sha256:{sha256}" if sha256 else None
    import pooch  # on use: importing it pulls in tqdm.auto (a warning in Jupyter)

    try:
        fetched = pooch.retrieve(
            url,
            known_hash=known_hash,
            fname=filename,
            path=folder,
            progressbar=progress and interactive(),  # the rule of every barenet bar
        )
    except ValueError as error:  # pooch: the hash of the transfer does not match
        raise DownloadError(_failure(url, target, sha256, hint, error)) from error
    except OSError as error:  # requests' errors are OSErrors: DNS, refused, cut short, HTTP
        raise DownloadError(_failure(url, target, sha256, hint, error)) from error
    return Path(fetched)


def download_and_unpack(
    url: str,
    target: str | os.PathLike,
    sha256: str | None = None,
    folder: str | os.PathLike | None = None,
    progress: bool = True,
    hint: str = "",
) -> Path:
    """Download a ``.zip`` or ``.tar(.gz)`` archive and unpack it into ``target``.

    The archive is kept in ``folder`` (see ``download``), so a second unpack
    needs no network. Unpacking is safe (no member may escape ``target``) and
    atomic (into a temporary folder renamed to ``target`` at the end).

    Returns
    -------
    Path
        ``target``.
    """
    archive = download(url, folder=folder, sha256=sha256, progress=progress, hint=hint)
    return unpack(archive, target)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def filename_from_url(url: str) -> str:
    """The last path component of ``url``, e.g. ``cifar-10-python.tar.gz``."""
    name = unquote(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1])
    if not name or name in {".", ".."}:
        raise ValueError(f"url must end in a file name (or pass filename=), got {url!r}")
    return name


def validate_sha256(sha256: str | None) -> str | None:
    """Lower-case ``sha256``, or raise ``ValueError`` if it is not 64 hex digits."""
    if sha256 is None or sha256 == "":
        return None
    text = str(sha256).strip().lower().removeprefix("sha256:")
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    return text


def _failure(url: str, target: Path, sha256: str | None, hint: str, error: Exception) -> str:
    checksum = f"; its SHA-256 must be {sha256}" if sha256 else ""
    lines = [
        f"Could not download {url}: {_reason(error)}",
        "To place the file by hand, download it (with a browser, or from a mirror) and save it as",
        f"    {target}",
        f"(barenet then uses it without downloading{checksum}).",
        f"Set {CACHE_DIR_ENV} to move barenet's cache folder.",
    ]
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def _reason(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) < 400 else text[:400] + " ..."
