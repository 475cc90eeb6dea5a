"""A seccomp filter that refuses the memory no per-process limit counts.

``memfd_create`` and System V shared memory (``shmget``) hold memory outside a
process's address space, so RLIMIT_AS does not see it; where no cgroup totals a
submission's memory, they would let it exhaust the machine. The filter makes
both fail with ``EPERM`` (a submission has no use for them) and kills a process
that calls through another architecture's system-call table (x32 or a foreign
one), which could bypass the numbers checked. It is a classic BPF program built
here, without a library: bubblewrap loads it (``--seccomp FD``), or, without
bubblewrap, the child installs it between fork and exec.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import struct
import tempfile

# Architecture code (AUDIT_ARCH_*) and the system-call numbers refused, per machine.
ARCHITECTURES = {
    "x86_64": (0xC000003E, {"memfd_create": 319, "shmget": 29}),
    "aarch64": (0xC00000B7, {"memfd_create": 279, "shmget": 194}),
}
X32_SYSCALL_BIT = 0x40000000
LOAD_WORD, JUMP_IF_EQUAL, JUMP_IF_AT_LEAST, RETURN = 0x20, 0x15, 0x35, 0x06
ALLOW, KILL_PROCESS, ERRNO_EPERM = 0x7FFF0000, 0x80000000, 0x00050000 | 1
SECCOMP_DATA_NR, SECCOMP_DATA_ARCH = 0, 4
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
REFUSED = ("memfd_create", "shmget")


def instruction(code: int, jump_true: int, jump_false: int, value: int) -> bytes:
    return struct.pack("<HBBI", code, jump_true, jump_false, value)


@functools.lru_cache(maxsize=1)
def filter_program() -> bytes | None:
    """The BPF program for this machine, or None where its system calls are not known."""
    known = ARCHITECTURES.get(platform.machine())
    if known is None:
        return None
    arch, numbers = known
    checks = [numbers[name] for name in REFUSED]
    x32 = platform.machine() == "x86_64"
    # Layout: check arch; load nr; [x32 check]; one check per refused call; allow; refuse.
    program = [
        instruction(LOAD_WORD, 0, 0, SECCOMP_DATA_ARCH),
        instruction(JUMP_IF_EQUAL, 1, 0, arch),
        instruction(RETURN, 0, 0, KILL_PROCESS),
        instruction(LOAD_WORD, 0, 0, SECCOMP_DATA_NR),
    ]
    remaining = len(checks) + (1 if x32 else 0)  # comparisons before "allow"
    if x32:
        program.append(instruction(JUMP_IF_AT_LEAST, remaining, 0, X32_SYSCALL_BIT))
        remaining -= 1
    for number in checks:
        program.append(instruction(JUMP_IF_EQUAL, remaining, 0, number))
        remaining -= 1
    program += [instruction(RETURN, 0, 0, ALLOW), instruction(RETURN, 0, 0, ERRNO_EPERM)]
    return b"".join(program)


def program_file_descriptor() -> int | None:
    """A readable descriptor holding the program, for bubblewrap's ``--seccomp FD``."""
    program = filter_program()
    if program is None:
        return None
    with tempfile.TemporaryFile() as handle:
        handle.write(program)
        handle.flush()
        fd = os.dup(handle.fileno())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class _Program(ctypes.Structure):
    _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def installer():
    """A preexec step installing the filter in the new process, or None where unknown.

    Everything is prepared here, in the parent; between fork and exec it makes two
    ``prctl`` calls only. The process exits (status 72) if the kernel refuses.
    """
    program = filter_program()
    if program is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _Program(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    prctl = libc.prctl

    def install() -> None:
        keep = buffer  # noqa: F841  (the program must live until the kernel copied it)
        if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            os._exit(72)
        if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            os._exit(72)

    return install
