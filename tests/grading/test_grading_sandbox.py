"""The sandbox itself: limits, leftover processes, and what bubblewrap isolates."""

import os
import sys
import time
from pathlib import Path

import pytest

from barenet.grading.sandbox.isolation import detect_isolation
from barenet.grading.sandbox.limits import Limits
from barenet.grading.sandbox.process import run_sandboxed

SANDBOXED = detect_isolation().active
needs_bwrap = pytest.mark.skipif(
    not SANDBOXED, reason=f"bubblewrap is not usable here: {detect_isolation().detail}"
)


def run_python(code, workdir, **limits):
    return run_sandboxed(
        [sys.executable, "-I", "-c", code], Path(workdir), Limits(**{"timeout_s": 10, **limits})
    )


def processes_with(marker):
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry.name))
    return found


def test_resource_limits_are_applied(tmp_path):
    code = (
        "import resource as r\n"
        "print(r.getrlimit(r.RLIMIT_AS)[0], r.getrlimit(r.RLIMIT_FSIZE)[0], "
        "r.getrlimit(r.RLIMIT_CPU)[0])"
    )
    outcome = run_python(code, tmp_path, memory_bytes=1536 * 2**20, file_size_bytes=2**20)
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.split() == [str(1536 * 2**20), str(2**20), "11"]


def test_environment_is_minimal(tmp_path, monkeypatch):
    monkeypatch.setenv("BARENET_SECRET_TOKEN", "hunter2")
    outcome = run_python("import os; print(sorted(os.environ))", tmp_path)
    assert "BARENET_SECRET_TOKEN" not in outcome.stdout
    assert "'HOME'" in outcome.stdout


def test_processes_left_behind_are_killed_at_the_timeout(tmp_path):
    marker = "31.337"
    code = f"import subprocess, time\nsubprocess.Popen(['sleep', '{marker}'])\ntime.sleep(60)"
    start = time.monotonic()
    outcome = run_python(code, tmp_path, timeout_s=2)
    assert outcome.timed_out and time.monotonic() - start < 10
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []


@needs_bwrap
def test_sandbox_drops_capabilities_and_freezes_the_file_system(tmp_path):
    code = (
        "status = open('/proc/self/status').read()\n"
        "print(status.split('CapEff:')[1].split()[0])\n"
        "for path in ('/escape.txt', '/dev/shm/escape.txt', 'inside.txt', '/tmp/t.txt'):\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print(path, 'writable')\n"
        "    except OSError:\n"
        "        print(path, 'blocked')\n"
    )
    outcome = run_python(code, tmp_path)
    lines = outcome.stdout.splitlines()
    assert int(lines[0], 16) == 0, "capabilities inside the sandbox"
    assert lines[1:] == [
        "/escape.txt blocked",
        "/dev/shm/escape.txt blocked",
        "inside.txt writable",
        "/tmp/t.txt writable",
    ]
    assert (tmp_path / "inside.txt").exists()


@needs_bwrap
def test_sandbox_sees_neither_files_beside_its_folder_nor_the_network(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the answers")
    workdir = tmp_path / "work"
    workdir.mkdir()
    code = (
        "import os, socket\n"
        f"print(os.path.exists({str(secret)!r}), os.path.exists('/etc/passwd'))\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
        "    print('network')\n"
        "except OSError:\n"
        "    print('no-network')\n"
    )
    outcome = run_python(code, workdir)
    assert outcome.stdout.split() == ["False", "False", "no-network"]


@needs_bwrap
def test_sandbox_shows_only_numpy_and_cloudpickle_of_the_installed_packages(tmp_path):
    code = (
        "import importlib.util, numpy, cloudpickle\n"
        "for name in ('sklearn', 'matplotlib', 'PIL', 'barenet'):\n"
        "    print(name, importlib.util.find_spec(name) is not None)\n"
    )
    outcome = run_python(code, tmp_path)
    assert outcome.returncode == 0, outcome.stderr
    assert outcome.stdout.split() == [
        "sklearn",
        "False",
        "matplotlib",
        "False",
        "PIL",
        "False",
        "barenet",
        "False",
    ]


@needs_bwrap
def test_no_installed_package_but_numpy_and_cloudpickle_can_be_found(tmp_path):
    # Not those of the base interpreter or the system Python either (e.g. Debian's
    # /usr/lib/python3/dist-packages), even when a submission puts them on sys.path.
    code = (
        "import glob, os, sys, sysconfig, pkgutil\n"
        "stdlib = sysconfig.get_paths()['stdlib']\n"
        "roots = [sys.prefix, sys.base_prefix, *glob.glob('/usr/lib/python3*'), "
        "*glob.glob('/usr/local/lib/python3*')]\n"
        "for root in roots:\n"
        "    for dirpath, dirs, files in os.walk(root):\n"
        "        if os.path.basename(dirpath) in ('site-packages', 'dist-packages'):\n"
        "            sys.path.append(dirpath)\n"
        "            dirs.clear()\n"
        "found = {m.name for m in pkgutil.iter_modules() if not str(getattr(m.module_finder, 'path', '')).startswith(stdlib)}\n"
        "print(sorted(found))\n"
    )
    outcome = run_python(code, tmp_path)
    assert outcome.returncode == 0, outcome.stderr
    assert set(eval(outcome.stdout)) <= {"numpy", "cloudpickle"}, outcome.stdout
