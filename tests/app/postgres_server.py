"""A throw-away PostgreSQL server for tests: a temporary cluster on a free loopback port.

PostgreSQL refuses to run as root, so as root the cluster belongs to, and runs as, the
unprivileged user ``nobody``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path


def find_binaries() -> tuple[Path, Path] | None:
    """``(initdb, pg_ctl)`` from the PATH, or from Debian's ``/usr/lib/postgresql/N/bin``."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb), Path(pg_ctl)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for folder in reversed(versions):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder) / "initdb", Path(folder) / "pg_ctl"
    return None


def why_unavailable() -> str | None:
    """None when a server can be started here, else the reason it cannot."""
    if find_binaries() is None:
        return (
            "PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)"
        )
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        return "running as root, and setpriv (util-linux) is missing to drop to the user nobody"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    nobody = pwd.getpwnam("nobody")
    return [
        "setpriv",
        f"--reuid={nobody.pw_uid}",
        f"--regid={nobody.pw_gid}",
        "--clear-groups",
        *command,
    ]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server, yield its URL ``postgresql://postgres@127.0.0.1:PORT/postgres``,
    then stop it and delete its files."""
    initdb, pg_ctl = find_binaries()
    folder = Path(tempfile.mkdtemp(prefix="barenet-pg-"))
    data, port = folder / "data", _free_port()
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)

    def run(*args: str) -> None:
        done = subprocess.run(
            _as_server_user(list(args)), capture_output=True, text=True, cwd=folder
        )
        if done.returncode != 0:
            log = folder / "log"
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()}\n"
                + (log.read_text() if log.exists() else "")
            )

    try:
        run(str(initdb), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync")
        options = f"-h 127.0.0.1 -p {port} -k {folder} -F"  # -F: no fsync, it is a test
        run(str(pg_ctl), "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options, "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
