"""Attacks through processes: memory no limit counts, starving a neighbour, outliving a
grade, signalling another submission, racing the cleanup.

Each runs with the sandbox and, where isolation is not what stops it, without
(``no_isolation``): the cgroup, the uid of its own and the kill hold either way.
"""

import os
import stat
import time
from pathlib import Path

import pytest
from test_grading_attacks import BUGGY_SCORE, CORRECT, TIMEOUT, hostile, submission

from barenet.grading.sandbox import cleanup
from barenet.grading.sandbox.cgroups import cgroup_support
from barenet.grading.sandbox.isolation import detect_isolation, no_isolation
from barenet.grading.sandbox.limits import Limits
from barenet.grading.submissions.grader import grade_folder, grade_submission

ROOT = os.geteuid() == 0
needs_cgroup = pytest.mark.skipif(
    cgroup_support() is None, reason="no cgroup can be made here (needs root or delegation)"
)
needs_root = pytest.mark.skipif(not ROOT, reason="a uid per submission needs root")
ISOLATIONS = [
    pytest.param(
        None,
        id="sandbox",
        marks=pytest.mark.skipif(
            not detect_isolation().active, reason=f"no sandbox: {detect_isolation().detail}"
        ),
    ),
    pytest.param("none", id="no-sandbox", marks=needs_cgroup),
]


def isolation_of(kind):
    return no_isolation("a test") if kind == "none" else None


def processes_with(marker):
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry.name}/cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("kind", ISOLATIONS)
def test_memfd_memory_that_no_address_space_counts_is_refused(tmp_path, kind):
    # 2 GiB in memfds (each under the file size limit) would escape RLIMIT_AS.
    code = (
        "import os\n"
        "fds = [os.memfd_create('hoard') for _ in range(34)]\n"
        "for fd in fds:\n"
        "    os.posix_fallocate(fd, 0, 60 * 1024**2)\n"
        "raise RuntimeError('held 2 GiB')\n"
    )
    report = grade_submission(hostile(tmp_path / "memfd.zip", code), isolation=isolation_of(kind))
    assert "held 2 GiB" not in report.reason and "Operation not permitted" in report.reason
    assert "memfd_create and System V shared memory refused (seccomp)" in report.sandbox


@needs_cgroup
@pytest.mark.parametrize("kind", ISOLATIONS)
def test_memory_is_bounded_over_all_of_a_submission_s_processes(tmp_path, kind):
    # Four processes of 200 MiB each, every one under its own address-space limit,
    # 800 MiB together: the cgroup's 512 MiB total stops them.
    code = (
        "import os, time\n"
        "for _ in range(4):\n"
        "    if os.fork() == 0:\n"
        "        block = bytearray(200 * 1024**2)\n"
        "        time.sleep(3)\n"
        "        os._exit(0)\n"
        "codes = [os.waitstatus_to_exitcode(os.wait()[1]) for _ in range(4)]\n"
        "raise RuntimeError(f'exit codes {codes}')\n"
    )
    limits = Limits(timeout_s=TIMEOUT, memory_bytes=512 * 2**20)
    path = hostile(tmp_path / "fork-memory.zip", code)
    report = grade_submission(path, limits=limits, isolation=isolation_of(kind))
    assert "-9" in report.reason, report.reason  # killed for the memory they held together
    assert "512 MiB in all (shared memory and memfd included)" in report.sandbox


@needs_cgroup
def test_a_busy_neighbour_does_not_make_a_correct_submission_time_out(tmp_path):
    # 62 busy processes, each in a session of its own, graded beside a correct submission:
    # the neighbour has one CPU in all, and the timeout counts each one's own CPU time.
    code = (
        "import os\n"
        "for _ in range(62):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        while True:\n"
        "            pass\n"
        "while True:\n"
        "    pass\n"
    )
    folder = tmp_path / "class"
    folder.mkdir()
    hostile(folder / "a-busy.zip", code)
    submission(folder / "b-correct.zip", CORRECT)
    reports = grade_folder(folder, timeout=5, workers=2)
    assert [r.status for r in reports] == ["timeout", "graded"], reports[1].reason
    assert reports[1].score == BUGGY_SCORE


@pytest.mark.parametrize("kind", ISOLATIONS)
def test_no_process_outlives_its_grade(tmp_path, kind):
    marker = "27.1828"
    code = (
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"  # its own session: out of the process group
        "    if os.fork() == 0:\n"
        f"        os.execvp('sleep', ['sleep', '{marker}'])\n"
        "    os._exit(0)\n"
    )
    report = grade_submission(hostile(tmp_path / "linger.zip", code), isolation=isolation_of(kind))
    assert report.status == "graded"
    deadline = time.monotonic() + 3
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


@needs_root
@pytest.mark.parametrize("kind", ISOLATIONS)
def test_each_submission_runs_as_a_uid_of_its_own_and_owns_its_files(tmp_path, kind):
    code = (
        "import os\n"
        "info = os.stat('models/NN.p')\n"
        "raise RuntimeError(f'uid={os.getuid()} owner={info.st_uid} mode={oct(info.st_mode)}')\n"
    )
    reasons = [
        grade_submission(hostile(tmp_path / f"{i}.zip", code), isolation=isolation_of(kind)).reason
        for i in range(2)
    ]
    uids = []
    for reason in reasons:
        uid, owner, mode = (part.split("=")[1].strip(")") for part in reason.split()[-3:])
        assert uid == owner and int(uid) >= 1_000_000 and mode.endswith("600"), reason
        uids.append(uid)
    assert uids[0] != uids[1]


@pytest.mark.parametrize("kind", ISOLATIONS)
def test_one_submission_cannot_kill_another(tmp_path, kind):
    # kill(-1) signals every process the sender may signal: none of another submission's.
    code = (
        "import os, signal, time\n"
        "if os.getuid() != 0:\n"  # (a guard for the test machine's sake)
        "    for _ in range(30):\n"
        "        os.kill(-1, signal.SIGKILL)\n"
        "        time.sleep(0.1)\n"
    )
    folder = tmp_path / "class"
    folder.mkdir()
    hostile(folder / "a-killer.zip", code)
    for name in "bcd":
        submission(folder / f"{name}-correct.zip", CORRECT)
    reports = grade_folder(folder, timeout=TIMEOUT, workers=2, isolation=isolation_of(kind))
    assert [r.status for r in reports[1:]] == ["graded"] * 3
    assert all(r.score == BUGGY_SCORE for r in reports[1:])


def test_the_cleanup_never_follows_a_link_raced_in(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.chmod(outside, 0o500)
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f").write_text("x")
    empty = cleanup._empty

    def racing_empty(folder_fd, top_fd, pending):
        empty(folder_fd, top_fd, pending)
        for name in pending:  # a lingering process swaps each queued folder for a link
            os.rename(name, name + ".gone", src_dir_fd=top_fd, dst_dir_fd=top_fd)
            os.symlink(outside, name, dir_fd=top_fd)

    monkeypatch.setattr(cleanup, "_empty", racing_empty)
    try:
        cleanup.remove_tree(tree)
    except OSError:
        pass  # what was raced away may stay; what matters is outside
    assert stat.S_IMODE(outside.stat().st_mode) == 0o500
    os.chmod(outside, 0o700)
