"""A memory cgroup around the workers: every page they hold counts against `memory_mb`.

The rlimits count a process's own mappings; pages a worker holds in files of a tmpfs (bubblewrap's
private /tmp, the machine's /dev/shm) or in memfd files are counted by none of them, and in a
memory-capped container the kernel would then kill the grader instead (those pages are in no
process's resident set). The kernel charges every page, file pages included, to the memory cgroup
of the process that first touched it, so a cgroup around the workers, with the limit
`memory_mb`, counts all of them; over it, the kernel kills the worker, which fails that call as
out of memory.

A grading process makes one, and its zygote joins it as it starts (forkserver.py): the grader
opens the cgroup's `cgroup.procs` and passes the descriptor (the zygote may live in namespaces
where /sys/fs/cgroup is not visible); writing "0" to it moves the writer. Every worker is then
born in it (a migration per worker would cost about 12 ms) and so is every process a worker
starts, which cannot leave it. The zygote's pages stay charged where they were; a grading process
runs one submission at a time, and what a submission left in files is deleted after it, so the
limit is one submission's. Where no cgroup can be made (no permission, as in most containers, or cgroup v2
without the memory controller delegated), `create` returns None and the other layers carry on:
seccomp refuses memfd and System V shared memory, bubblewrap's tmpfs mounts have a size.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
_names = itertools.count(1)


def _own_memory_cgroup() -> tuple[Path, int] | None:
    """(the folder of this process's memory cgroup, the cgroup version), or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):  # v1: a hierarchy of its own
            folder = CGROUP_ROOT / "memory" / path.lstrip("/")
            if (folder / "memory.limit_in_bytes").exists():
                return folder, 1
    for line in lines:
        if line.startswith("0::"):  # v2: the memory controller must be enabled for our children
            folder = CGROUP_ROOT / line[3:].lstrip("/")
            try:
                if "memory" in (folder / "cgroup.subtree_control").read_text().split():
                    return folder, 2
            except OSError:
                return None
    return None


class MemoryCgroup:
    """A memory cgroup below the grader's own, limited to `limit_bytes` (swap included)."""

    def __init__(self, folder: Path, version: int):
        self.folder, self.version = folder, version

    @classmethod
    def create(cls, limit_bytes: int) -> MemoryCgroup | None:
        """A new cgroup, or None where this machine or this user cannot have one."""
        own = _own_memory_cgroup()
        if own is None:
            return None
        parent, version = own
        folder = parent / f"autograder-{os.getpid()}-{next(_names)}"
        try:
            folder.mkdir()
        except OSError:
            return None
        cgroup = cls(folder, version)
        try:
            if version == 1:
                cgroup._write("memory.limit_in_bytes", limit_bytes)
                if (folder / "memory.memsw.limit_in_bytes").exists():  # with swap accounting: no swap either
                    cgroup._write("memory.memsw.limit_in_bytes", limit_bytes)
            else:
                cgroup._write("memory.max", limit_bytes)
                cgroup._write("memory.swap.max", 0)
        except OSError:
            cgroup.remove()
            return None
        return cgroup

    def _write(self, name: str, value: int) -> None:
        (self.folder / name).write_text(str(value))

    def procs_fd(self) -> int:
        """A descriptor open for writing on cgroup.procs: the process writing "0" to it joins."""
        return os.open(self.folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)

    def members(self) -> list[int] | None:
        """The processes in the cgroup (every process of its workers: children inherit it), or None if
        it cannot be read."""
        try:
            return [int(pid) for pid in (self.folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return None

    def remove(self, timeout: float = 5.0) -> None:
        """Remove the cgroup once its processes are gone (the caller killed them); its charges go to
        the parent. Best effort: a cgroup left behind holds nothing and is removed with its parent."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # busy: a killed process not yet reaped
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)


def protect_from_oom() -> None:
    """Ask the kernel's OOM killer to spare this process (the grader, a batch): it lowers its own
    score where it may (as root), and every worker raises its own to the maximum (zygote.py)."""
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("-500")
    except OSError:
        pass
