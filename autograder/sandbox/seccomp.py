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

import ctypes
import errno
import platform
import struct

# BPF instruction classes and fields (linux/filter.h, linux/bpf_common.h)
_LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ_K = 0x05 | 0x10 | 0x00  # BPF_JMP | BPF_JEQ | BPF_K
_JGE_K = 0x05 | 0x30 | 0x00  # BPF_JMP | BPF_JGE | BPF_K
_RET_K = 0x06 | 0x00  # BPF_RET | BPF_K
_AND_K = 0x04 | 0x50 | 0x00  # BPF_ALU | BPF_AND | BPF_K
_ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
_DENY = 0x00050000 | errno.EACCES  # SECCOMP_RET_ERRNO | EACCES

# seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]  (args[i] low word at 16 + 8 i on LE)
_NR, _ARCH, _ARG0, _ARG3 = 0, 4, 16, 40
# mmap's flags (its fourth argument) for shared anonymous memory: pages RLIMIT_DATA does not count
# (MAP_SHARED_VALIDATE, 0x03, has the MAP_SHARED bit too; the same values on x86_64 and aarch64)
_MAP_SHARED_ANONYMOUS = 0x01 | 0x20

# machine -> (AUDIT_ARCH, socket, mmap, x32 bit or None, the refused calls: io_uring_setup,
# io_uring_enter, io_uring_register; memfd_create, memfd_secret; shmget, semget, msgget, mq_open)
_ARCHES = {
    "x86_64": (0xC000003E, 41, 9, 0x40000000, (425, 426, 427, 319, 447, 29, 64, 68, 240)),
    "aarch64": (0xC00000B7, 198, 222, None, (425, 426, 427, 279, 447, 194, 190, 186, 180)),
}
_BLOCKED_FAMILIES = (2, 10, 16, 17)  # AF_INET, AF_INET6, AF_NETLINK, AF_PACKET

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def build_filter(machine: str | None = None) -> bytes | None:
    """The BPF program (raw sock_filter array) for this machine, or None if its ABI is not known."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, nr_socket, nr_mmap, x32_bit, refused = arch
    deny = []
    prog = [_ins(_LD_W_ABS, _ARCH)]
    prog.append(None)  # if arch != audit_arch: deny (patched below)
    prog.append(_ins(_LD_W_ABS, _NR))
    if x32_bit is not None:
        prog.append(None)  # if nr >= x32 bit: deny
    for nr in refused:
        prog.append(None)  # if nr == one of them: deny
        deny.append((len(prog) - 1, _JEQ_K, nr))
    prog.append(_ins(_JEQ_K, nr_mmap, 0, 4))  # mmap: look at its flags (else on to socket)
    prog.append(_ins(_LD_W_ABS, _ARG3))
    prog.append(_ins(_AND_K, _MAP_SHARED_ANONYMOUS))
    prog.append(None)  # if shared and anonymous: deny
    deny.append((len(prog) - 1, _JEQ_K, _MAP_SHARED_ANONYMOUS))
    prog.append(_ins(_RET_K, _ALLOW))
    prog.append(_ins(_JEQ_K, nr_socket, 1, 0))  # socket: look at its family
    prog.append(_ins(_RET_K, _ALLOW))
    prog.append(_ins(_LD_W_ABS, _ARG0))
    for family in _BLOCKED_FAMILIES:
        prog.append(None)
        deny.append((len(prog) - 1, _JEQ_K, family))
    prog.append(_ins(_RET_K, _ALLOW))
    deny_at = len(prog)
    prog.append(_ins(_RET_K, _DENY))

    def jump_to_deny(index: int, code: int, k: int, when_true: bool = True) -> bytes:
        offset = deny_at - index - 1
        return _ins(code, k, offset, 0) if when_true else _ins(code, k, 0, offset)

    prog[1] = jump_to_deny(1, _JEQ_K, audit_arch, when_true=False)
    if x32_bit is not None:
        prog[3] = jump_to_deny(3, _JGE_K, x32_bit)
    for index, code, k in deny:
        prog[index] = jump_to_deny(index, code, k)
    return b"".join(prog)


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


def available_filter() -> bytes | None:
    """The filter, if this machine can install it (tried once in a throwaway child), else None."""
    import os

    program = build_filter()
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
