"""A seccomp filter that refuses network sockets, and memory the limits miss, to student code,
with ctypes and no library.

Installed in the worker between fork and exec (after the switch to the sandbox user), so it binds
the worker and everything it starts, and cannot be removed. It makes socket(AF_INET / AF_INET6 /
AF_PACKET / AF_NETLINK, ...) fail with EACCES, refuses io_uring (which can open sockets without
the socket system call) and every system call of a foreign ABI (x32, i386 on x86_64). AF_UNIX
sockets still work. It also refuses memory RLIMIT_DATA does not count: memfd_create and
memfd_secret (anonymous files: posix_fallocate fills them with memory that neither RLIMIT_DATA nor
RLIMIT_AS sees), shared anonymous mmap (a private mapping is what every allocator makes), and the
objects that stay in the kernel after the student's process is gone: System V shared memory,
semaphores and message queues, and POSIX message queues. Python's multiprocessing and numpy
need none of them (POSIX shared memory and semaphores are files in /dev/shm, which the grader
empties; multiprocessing's heap maps a file). Needs no privilege and no
namespaces, so it also works in Gradescope's Docker.
"""

from __future__ import annotations

import collections
import ctypes
import errno
import platform
import struct

# BPF instruction classes and fields (linux/filter.h, linux/bpf_common.h)
_LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x05 | 0x10 | 0x00  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x05 | 0x30 | 0x00  # BPF_JMP | BPF_JGE | BPF_K
_JSET_K = 0x05 | 0x40 | 0x00  # BPF_JMP | BPF_JSET | BPF_K
_RET_K = 0x06 | 0x00  # BPF_RET | BPF_K
_AND_K = 0x04 | 0x50 | 0x00  # BPF_ALU | BPF_AND | BPF_K
_ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
_DENY = 0x00050000 | errno.EACCES  # SECCOMP_RET_ERRNO | EACCES
# clone3's flags lie in a struct the filter cannot read: "no such call" makes glibc fall back to clone
_NO_SUCH_CALL = 0x00050000 | errno.ENOSYS

# seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]  (args[i] low word at 16 + 8 i on LE)
_NR, _ARCH, _ARG0, _ARG3 = 0, 4, 16, 40
# mmap's flags (its fourth argument) for shared anonymous memory: pages RLIMIT_DATA does not count
# (MAP_SHARED_VALIDATE, 0x03, has the MAP_SHARED bit too; the same values on x86_64 and aarch64)
_MAP_SHARED_ANONYMOUS = 0x01 | 0x20
# clone's flags (its first argument, on both machines): a thread shares its process's memory
_CLONE_THREAD = 0x00010000


# A machine's system call numbers: audit_arch (its AUDIT_ARCH), socket, mmap, clone, clone3; x32_bit,
# the bit that marks the x32 ABI's calls where there is one (else None); refused: io_uring_setup,
# io_uring_enter, io_uring_register, memfd_create, memfd_secret, shmget, semget, msgget, mq_open;
# forks: fork and vfork, where the machine has them (clone does their job elsewhere).
# (A namedtuple: worker.py loads this file by path, outside sys.modules, where dataclasses fail.)
_Abi = collections.namedtuple("_Abi", "audit_arch socket mmap clone clone3 x32_bit refused forks")
_ABIS = {
    "x86_64": _Abi(0xC000003E, socket=41, mmap=9, clone=56, clone3=435, x32_bit=0x40000000,
                   refused=(425, 426, 427, 319, 447, 29, 64, 68, 240), forks=(57, 58)),
    "aarch64": _Abi(0xC00000B7, socket=198, mmap=222, clone=220, clone3=435, x32_bit=None,
                    refused=(425, 426, 427, 279, 447, 194, 190, 186, 180), forks=()),
}
_BLOCKED_FAMILIES = (2, 10, 16, 17)  # AF_INET, AF_INET6, AF_NETLINK, AF_PACKET

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def _assemble(lines: list) -> bytes:
    """Raw sock_filter instructions from (code, k, true, false) tuples and label strings: a jump's
    target is 0 (the next instruction) or a label further on (BPF jumps only forward)."""
    at, index = {}, 0
    for line in lines:
        if isinstance(line, str):
            at[line] = index
        else:
            index += 1
    program, index = [], 0
    for line in lines:
        if isinstance(line, str):
            continue
        code, k, true, false = line
        offsets = [0 if target == 0 else at[target] - index - 1 for target in (true, false)]
        program.append(struct.pack("=HBBI", code, offsets[0], offsets[1], k))
        index += 1
    return b"".join(program)


def build_filter(machine: str | None = None, single_process: bool = False) -> bytes | None:
    """The BPF program (raw sock_filter array) for this machine, or None if its ABI is not known.

    single_process: also refuse new processes (fork, vfork, clone without CLONE_THREAD): where no
    memory cgroup counts a worker's children, RLIMIT_DATA bounds one process, so each child could
    hold as much again. Threads still start (numpy's BLAS makes them)."""
    abi = _ABIS.get(machine or platform.machine())
    if abi is None:
        return None
    lines = [(_LD_W_ABS, _ARCH, 0, 0), (_JEQ_K, abi.audit_arch, 0, "deny"), (_LD_W_ABS, _NR, 0, 0)]
    if abi.x32_bit is not None:
        lines.append((_JGE_K, abi.x32_bit, "deny", 0))
    for nr in abi.refused + (abi.forks if single_process else ()):
        lines.append((_JEQ_K, nr, "deny", 0))
    if single_process:
        lines += [(_JEQ_K, abi.clone3, "no such call", 0),
                  (_JEQ_K, abi.clone, 0, "not clone"),
                  (_LD_W_ABS, _ARG0, 0, 0),
                  (_JSET_K, _CLONE_THREAD, "allow", "deny"),
                  "not clone"]
    lines += [(_JEQ_K, abi.mmap, 0, "not mmap"),  # mmap: look at its flags
              (_LD_W_ABS, _ARG3, 0, 0),
              (_AND_K, _MAP_SHARED_ANONYMOUS, 0, 0),
              (_JEQ_K, _MAP_SHARED_ANONYMOUS, "deny", "allow"),
              "not mmap",
              (_JEQ_K, abi.socket, 0, "allow"),  # socket: look at its family
              (_LD_W_ABS, _ARG0, 0, 0)]
    lines += [(_JEQ_K, family, "deny", 0) for family in _BLOCKED_FAMILIES]
    lines += ["allow", (_RET_K, _ALLOW, 0, 0),
              "deny", (_RET_K, _DENY, 0, 0),
              "no such call", (_RET_K, _NO_SUCH_CALL, 0, 0)]
    return _assemble(lines)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(program: bytes) -> None:
    """Install `program` for this process and its future children (call in the child, before exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def available_filter(single_process: bool = False) -> bytes | None:
    """The filter (see build_filter), if this machine can install it (tried once in a throwaway
    child), else None."""
    import os

    program = build_filter(single_process=single_process)
    if program is None:
        return None
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            install(program)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return program if os.waitstatus_to_exitcode(status) == 0 else None
