import mmap
import os
import socket

import pytest

from autograder.sandbox import seccomp


def in_filtered_child(check, single_process: bool = False) -> int:
    """Run check() in a forked child under the filter; its return value (a small int) comes back as exit code."""
    if seccomp.available_filter() is None:
        pytest.skip("seccomp filters cannot be installed on this machine")
    program = seccomp.build_filter(single_process=single_process)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            seccomp.install(program)
            os._exit(check())
        except BaseException:
            os._exit(99)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def socket_errno(family: int, kind: int = socket.SOCK_STREAM) -> int:
    try:
        socket.socket(family, kind).close()
        return 0
    except OSError as e:
        return e.errno


@pytest.mark.parametrize("family", [socket.AF_INET, socket.AF_INET6])
def test_internet_sockets_are_refused(family):
    assert in_filtered_child(lambda: socket_errno(family)) == 13  # EACCES


def test_unix_sockets_still_work():
    assert in_filtered_child(lambda: socket_errno(socket.AF_UNIX)) == 0


def test_children_inherit_the_filter():
    def child_tries():
        import subprocess
        import sys
        code = "import socket, sys\ntry:\n socket.socket()\nexcept PermissionError:\n sys.exit(7)"
        return subprocess.run([sys.executable, "-I", "-S", "-c", code]).returncode

    assert in_filtered_child(child_tries) == 7


def test_unknown_machines_get_no_filter():
    assert seccomp.build_filter("sparc64") is None
    for machine in ("x86_64", "aarch64"):
        for single_process in (False, True):
            assert len(seccomp.build_filter(machine, single_process)) % 8 == 0


def test_without_single_process_children_start():
    def fork_and_wait():
        pid = os.fork()
        if pid == 0:
            os._exit(5)
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    assert in_filtered_child(fork_and_wait) == 5


@pytest.mark.parametrize("how", ["fork", "subprocess", "multiprocessing", "clone3"])
def test_single_process_refuses_new_processes(how):
    """Where no memory cgroup counts them, each child could hold memory_mb again (RLIMIT_DATA is one
    process's): fork, vfork (subprocess's posix_spawn) and clone without CLONE_THREAD fail."""
    def attempt():
        import ctypes
        import multiprocessing
        import subprocess
        import sys

        def clone3():  # refused as "no such call", so that glibc falls back to clone (and its flags are seen)
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syscall(435, None, 0) == -1:
                raise OSError(ctypes.get_errno(), "clone3")

        calls = {"fork": os.fork,
                 "subprocess": lambda: subprocess.run([sys.executable, "-c", "pass"]),
                 "multiprocessing": lambda: multiprocessing.get_context("fork").Process(target=print).start(),
                 "clone3": clone3}
        return _errno_of(calls[how])

    assert in_filtered_child(attempt, single_process=True) == (38 if how == "clone3" else 13)  # ENOSYS, EACCES


def test_single_process_still_starts_threads():
    """Python's threads, and numpy's BLAS threads (started when numpy is imported under the filter)."""
    def attempt():
        import threading

        import numpy as np

        results = []
        thread = threading.Thread(target=lambda: results.append(int((np.ones((300, 300)) @ np.ones((300, 300)))[0, 0])))
        thread.start()
        thread.join()
        return 0 if results == [300] else 1

    assert in_filtered_child(attempt, single_process=True) == 0


def _errno_of(call) -> int:
    try:
        call()
        return 0
    except OSError as e:
        return e.errno


@pytest.mark.parametrize("call", ["memfd_create", "shmget", "semget", "msgget", "mq_open", "mmap shared",
                                  "mmap shared_validate"])
def test_memory_no_limit_counts_is_refused(call):
    """Pages that RLIMIT_DATA and RLIMIT_AS miss, or kernel objects that outlive the process."""
    def attempt():
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)

        def checked(result):
            if result == -1:
                raise OSError(ctypes.get_errno(), call)

        calls = {"memfd_create": lambda: os.memfd_create("hog"),
                 "shmget": lambda: checked(libc.shmget(0, 1 << 20, 0o1600)),  # IPC_PRIVATE, IPC_CREAT | 0600
                 "semget": lambda: checked(libc.semget(0, 1, 0o1600)),
                 "msgget": lambda: checked(libc.msgget(0, 0o1600)),
                 "mq_open": lambda: checked(ctypes.CDLL("librt.so.1", use_errno=True).mq_open(b"/hog", 0o100 | 2,
                                                                                              0o600, None))}
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]

        def mapped(flags):  # PROT_READ | PROT_WRITE, no file
            if libc.mmap(None, 1 << 20, 3, flags, -1, 0) == ctypes.c_void_p(-1).value:  # MAP_FAILED
                raise OSError(ctypes.get_errno(), "mmap")

        calls["mmap shared"] = lambda: mmap.mmap(-1, 1 << 20)  # (Python's is MAP_SHARED | MAP_ANONYMOUS)
        calls["mmap shared_validate"] = lambda: mapped(0x03 | 0x20)  # MAP_SHARED_VALIDATE | MAP_ANONYMOUS
        return _errno_of(calls[call])

    assert in_filtered_child(attempt) == 13  # EACCES


def test_private_and_file_backed_mappings_still_work(tmp_path):
    """What every allocator (and numpy's, and a memory-mapped .npy file) needs."""
    data = tmp_path / "data"
    data.write_bytes(b"x" * 4096)

    def attempt():
        with open(data, "r+b") as f:
            mmap.mmap(f.fileno(), 4096).close()  # shared, backed by a file: counted where the file is
        mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE).close()
        import numpy as np

        np.ones((1024, 1024)).sum()  # (an 8 MB array: glibc maps it, private and anonymous)
        return 0

    assert in_filtered_child(attempt) == 0


def test_posix_shared_memory_and_semaphores_still_work():
    """multiprocessing's: files in /dev/shm, which the grader empties after each submission."""
    def attempt():
        import multiprocessing.shared_memory

        block = multiprocessing.shared_memory.SharedMemory(create=True, size=4096)
        block.close()
        block.unlink()
        multiprocessing.Lock()
        return 0

    assert in_filtered_child(attempt) == 0
