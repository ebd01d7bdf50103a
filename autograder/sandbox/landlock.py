"""Landlock: the worker may write files only in its own folders (its submission's and its temporary one).

Without a memory cgroup nothing counts the pages of a file in a tmpfs (the machine's /dev/shm, a
/tmp that is a tmpfs, bubblewrap's private /tmp): a worker could hold gigabytes there beside its
memory limit. Landlock (Linux 5.13+, unprivileged) takes away every right to create, write, truncate,
rename into or remove files anywhere but beneath the folders given, for the worker and every process
it starts; the grader puts those folders on a disk where no cgroup counts them (grade.py). Reading
is left to the sandbox user's permissions and bubblewrap's allowlist. /dev/null stays writable.

The grader asks `abi()` once (ruleset_abi) to say in the results whether the layer holds; the worker
calls `restrict(folders)` before the submission is imported. Standard library only: the worker
loads it by file path.
"""

import ctypes
import os
import struct
import sys

# x86_64 and aarch64 share these numbers (system calls added since 5.x are numbered alike everywhere)
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# the file-system rights Landlock knows, by the ABI version that added them
WRITE_FILE, REMOVE_DIR, REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
MAKE_CHAR, MAKE_DIR, MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = (1 << b for b in range(6, 13))
REFER, TRUNCATE = 1 << 13, 1 << 14  # ABI 2, ABI 3
WRITES = WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG | MAKE_SOCK | MAKE_FIFO | \
    MAKE_BLOCK | MAKE_SYM
FILE_RIGHTS = WRITE_FILE | TRUNCATE  # the rights a rule on a file (not a folder) may carry


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi():
    """The Landlock ABI version this kernel offers, 0 where it has none (or this is not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def handled_rights(version):
    """The write rights a ruleset handles under ABI `version`: everything that creates, changes or
    removes a file, as far as this kernel knows how to refuse it."""
    return WRITES | (REFER if version >= 2 else 0) | (TRUNCATE if version >= 3 else 0)


def restrict(folders, files=("/dev/null",)):
    """From now on this process and its children may write only beneath `folders` (and to `files`).
    Raises OSError where Landlock is unavailable or refuses."""
    version = abi()
    if version < 1:
        raise OSError("Landlock is not available")
    libc = _libc()
    handled = handled_rights(version)
    attr = struct.pack("=Q", handled)  # struct landlock_ruleset_attr { u64 handled_access_fs; }
    ruleset = libc.syscall(_CREATE_RULESET, attr, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path, rights in [(p, handled) for p in folders] + [(p, handled & FILE_RIGHTS) for p in files]:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                # struct landlock_path_beneath_attr { u64 allowed_access; s32 parent_fd; } (packed)
                rule = struct.pack("=Qi", rights, fd)
                if libc.syscall(_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), rule,
                                ctypes.c_uint32(0)) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)
