"""Who the worker runs as, and making sure nothing it started outlives it.

When the grader runs as root (always, on Gradescope), student code runs as a dedicated
unprivileged user, leased to this grader alone (lease_user): it cannot read files only root can
read (the grader, the reference, the tests, the config), cannot write the results, cannot signal
or trace the grader, and RLIMIT_NPROC bounds how many processes it can start. After each worker,
every process of that user is killed, which also catches double forks and setsid children that
escape the worker's process group, and reaches no other grader's workers, and what it left in the
kernel (System V objects, POSIX message queues) is removed.

When the grader does not run as root, none of that is possible; `limitations()` says what is lost.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SandboxUser:
    name: str
    uid: int
    gid: int


class IsolationError(RuntimeError):
    """The unprivileged user could not be found or created."""


def running_as_root() -> bool:
    return os.geteuid() == 0


def sandbox_user(name: str) -> SandboxUser | None:
    """The user student code runs as: `name`, created if missing. None when we are not root."""
    if not running_as_root():
        return None
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        created = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", "--user-group", name],
            capture_output=True, text=True)
        if created.returncode != 0:
            raise IsolationError(f"cannot create the sandbox user {name!r}: {created.stderr.strip()}") from None
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise IsolationError(f"the sandbox user {name!r} is root")
    return SandboxUser(name, entry.pw_uid, entry.pw_gid)


def give_to(user: SandboxUser | None, path: Path) -> None:
    """Make `path` (recursively) the sandbox user's own, so student code can work in it."""
    if user is None:
        return
    for root, dirs, files in os.walk(path):
        os.lchown(root, user.uid, user.gid)
        for name in dirs + files:
            os.lchown(os.path.join(root, name), user.uid, user.gid)


def processes_of(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is `uid`."""
    pids = []
    # "Uid:" is followed by the real uid and a tab; "State:" by the state's letter (Z: a zombie).
    # Raw reads, bytes compared: a scan meets every process of the machine, after every worker.
    real, zombie = f"\nUid:\t{uid}\t".encode(), b"\nState:\tZ"
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{entry}/status", os.O_RDONLY)
        except OSError:
            continue
        try:
            status = os.read(fd, 8192)
        except OSError:
            continue
        finally:
            os.close(fd)
        if real in status and zombie not in status:
            pids.append(int(entry))
    return pids


def kill_all(user: SandboxUser | None, attempts: int = 50, any_left=None) -> bool:
    """SIGKILL every process of the sandbox user until none is left; False if some survived.

    kill(-1, SIGKILL) sent *as that user* reaches all of its processes at once, so a fork storm
    cannot outrun a scan-then-kill loop; the /proc scan only checks the result. any_left: a
    cheaper check where one exists (the submission's memory cgroup, which every process of its
    workers is in), else the scan.
    """
    if user is None:
        return True
    left = any_left or (lambda: bool(processes_of(user.uid)))
    for _ in range(attempts):
        if not left():
            return True
        _kill_everything_as(user)
        time.sleep(0.002)
    return not left()


def _kill_everything_as(user: SandboxUser) -> None:
    """kill(-1, SIGKILL) from a fork that has become `user` (it spares only itself and init). A fork,
    not a program: the sandbox user may have no interpreter it can run outside bubblewrap."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(user.gid)
            os.setuid(user.uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


# The System V objects a process can leave in the kernel: (the /proc/sysvipc table, the libc call that
# removes one, whether that call takes a semaphore number before the command)
_SYSV_TABLES = (("shm", "shmctl", False), ("sem", "semctl", True), ("msg", "msgctl", False))
_IPC_RMID = 0
MQUEUE = "/dev/mqueue"


def sysv_objects_of(uid: int) -> list[tuple[str, int]]:
    """(table, id) of every System V shared memory segment, semaphore set and message queue that
    `uid` created or owns (an owner can hand an object to another uid, never its creator)."""
    found = []
    for table, _, _ in _SYSV_TABLES:
        try:
            lines = Path(f"/proc/sysvipc/{table}").read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        columns = lines[0].split()
        id_at, uid_at, cuid_at = columns.index(f"{table}id" if table != "msg" else "msqid"), \
            columns.index("uid"), columns.index("cuid")
        for line in lines[1:]:
            fields = line.split()
            if uid in (int(fields[uid_at]), int(fields[cuid_at])):
                found.append((table, int(fields[id_at])))
    return found


def remove_ipc_of(user: SandboxUser | None) -> None:
    """Remove the System V objects and POSIX message queues the sandbox user left in the kernel.

    They outlive every process (a segment holds its memory, counted by no rlimit, and the next
    classmate graded could attach it). seccomp refuses their creation where it works; this is the
    layer beneath, for machines without it, and costs three small reads. Under bubblewrap the worker
    has an IPC namespace of its own, which dies with it, and nothing of it shows here."""
    if user is None or not running_as_root():
        return
    libc = ctypes.CDLL(None, use_errno=True)
    calls = {table: (getattr(libc, name), takes_number) for table, name, takes_number in _SYSV_TABLES}
    for table, ident in sysv_objects_of(user.uid):
        remove, takes_number = calls[table]
        if takes_number:
            remove(ident, 0, _IPC_RMID, None)
        else:
            remove(ident, _IPC_RMID, None)
    _remove_owned(MQUEUE, user.uid)  # (mq_unlink is an unlink there, where that file system is mounted)


SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm")


def remove_files_of(user: SandboxUser | None, folders: tuple[str, ...] = SHARED_WRITABLE) -> None:
    """Delete what the sandbox user left in world-writable folders (its scratch folder goes anyway).

    Files planted in /tmp could otherwise wait there for the next program that runs from it. The
    user can only have written where others may write, or inside its own folders, so only those are
    searched (a big /tmp costs nothing) and only entries it owns are removed.
    """
    if user is None:
        return
    for top in folders:
        _remove_owned(top, user.uid)


def _remove_owned(folder: str, uid: int) -> None:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            info = entry.stat(follow_symlinks=False)
            if info.st_uid == uid:
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            elif stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH:
                _remove_owned(entry.path, uid)
        except OSError:
            pass


def on_tmpfs(path: Path) -> bool:
    """Whether `path` lies on a tmpfs, whose files are memory (Linux; elsewhere False)."""
    try:
        with open("/proc/self/mounts") as f:
            mounts = [line.split()[1:3] for line in f]
    except OSError:
        return False
    path = os.path.realpath(path)
    # the mount it lies on is the longest mount point above it
    within = [(point.replace("\\040", " "), kind) for point, kind in mounts]
    within = [(point, kind) for point, kind in within if path == point or path.startswith(point.rstrip("/") + "/")]
    return max(within, key=lambda found: len(found[0]), default=("", ""))[1] == "tmpfs"


def on_disk_temp() -> str | None:
    """Where to make the scratch folder when no cgroup counts a tmpfs: the system's temporary folder,
    or /var/tmp where that one is a tmpfs and /var/tmp is not (None: the system's)."""
    if on_tmpfs(Path(tempfile.gettempdir())) and os.path.isdir("/var/tmp") and not on_tmpfs(Path("/var/tmp")):
        return "/var/tmp"
    return None


def unreadable_runtime_path(exposed: list[str] | None = None) -> str | None:
    """The first part of this Python (interpreter, standard library, numpy) that other users cannot use.

    The worker runs this same interpreter as the sandbox user, so all of it must be readable by
    "others": true of a system Python or of the venv setup.sh makes, not of a Python under /root.
    exposed: under bubblewrap, the trees its allowlist shows; the folders above them are bwrap's own,
    open to everyone, so a Python under /root serves there.
    """
    import numpy

    needed = [(Path(os.path.abspath(sys.executable)), stat.S_IXOTH),  # the path the worker is started by
              (Path(os.path.realpath(sys.executable)), stat.S_IXOTH),
              (Path(os.path.realpath(os.__file__)), stat.S_IROTH),
              (Path(os.path.realpath(numpy.__file__)), stat.S_IROTH)]
    for path, bit in needed:
        for folder in path.parents:
            shown = exposed is None or any(folder == Path(t) or Path(t) in folder.parents for t in exposed)
            if shown and not os.stat(folder).st_mode & stat.S_IXOTH:
                return str(folder)
        if not os.stat(path).st_mode & bit:
            return str(path)
    return None


def readable_by_others(paths: list[Path]) -> str | None:
    """The first of `paths` (files) that any other user can read: every folder above it open to
    "others" and the file readable by them (the sandbox user is in no group of the grader's), or
    None. Without bubblewrap the permissions alone keep the grader's files from student code."""
    for path in paths:
        path = Path(os.path.abspath(path))
        try:
            if all(os.stat(folder).st_mode & stat.S_IXOTH for folder in path.parents) and \
                    os.stat(path).st_mode & stat.S_IROTH:
                return str(path)
        except OSError:
            continue
    return None


# Which sandbox users running graders hold: a lock file each, in a folder only root can open.
LEASES = Path("/run/autograder-sandbox-users") if Path("/run").is_dir() else \
    Path(tempfile.gettempdir()) / "autograder-sandbox-users"
MAX_SANDBOX_USERS = 32


@dataclass
class Lease:
    """A sandbox user this grader alone uses, for as long as the lease is open.

    Every grader kills all of its user's processes after each submission and counts them against
    RLIMIT_NPROC, so two graders on one machine (two terminals, a batch's pool processes, a test
    suite beside a batch, two courses) must never share one. The lease is an flock on a file: the
    kernel drops it when the grader's process dies, however it dies.
    """

    user: SandboxUser
    fd: int

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def lease_user(base: str) -> Lease:
    """The first of `base`, `base`2, ... `base`32 that no other grader holds, created if missing. What a
    grader that died holding it left (processes, files in /tmp) is cleared first."""
    LEASES.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(LEASES)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
        raise IsolationError(f"{LEASES} must be a folder only root can open")
    for index in range(1, MAX_SANDBOX_USERS + 1):
        name = base if index == 1 else f"{base}{index}"
        fd = os.open(LEASES / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            user = sandbox_user(name)
            kill_all(user)
            remove_files_of(user)
            remove_ipc_of(user)
        except BaseException:
            os.close(fd)
            raise
        return Lease(user, fd)
    raise IsolationError(f"all {MAX_SANDBOX_USERS} sandbox users ({base}, {base}2, ...) are held by other "
                         "graders running on this machine")


def choose_user(name: str, exposed: list[str] | None = None,
                processes_refused: bool = False) -> tuple[Lease | None, list[str]]:
    """Who the worker runs as (a leased sandbox user, or None for the grader's own user), and the
    guarantees this run cannot give (in words for its operator). exposed: see unreadable_runtime_path
    (given: bubblewrap runs the workers, hiding the grader's and your files, its process tree dying
    with the grader); processes_refused: seccomp refuses student code new processes (a worker is one
    process: none to storm with or to detach)."""
    if not running_as_root() and exposed is not None:
        return None, [] if processes_refused else [
            "not running as root, so RLIMIT_NPROC cannot stop a fork storm (bubblewrap holds the rest)"]
    if not running_as_root():
        return None, [
            "not running as root and without bubblewrap, so student code runs as your own user and can read "
            "and change your files (install bubblewrap, or run as root, or in a container, for the full sandbox)",
            "the grader's files (reference, tests, config) are readable by the student code",
            *([] if processes_refused else [
                "processes the student code detaches (setsid, double fork) are not hunted down after grading",
                "RLIMIT_NPROC cannot stop a fork storm"]),
        ]
    blocked = unreadable_runtime_path(exposed)
    if blocked is not None:
        return None, [
            f"student code runs as ROOT: the sandbox user cannot use this Python ({blocked} is closed to "
            "other users); build the grader's venv from a Python other users can run, in a folder they can "
            "reach (setup.sh with AUTOGRADER_SETUP_PYTHON=/usr/bin/python3, say; `rm -r .venv && ./dev` builds "
            "it from /usr/bin/python3 where there is one), or use bubblewrap"]
    return lease_user(name), []
