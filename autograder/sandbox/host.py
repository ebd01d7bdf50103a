"""The machine's side of the sandbox: the layers this machine can enforce, set up once per grader.

A SandboxHost holds what every submission a grader grades runs inside: the leased sandbox user,
the seccomp filter, the memory cgroup, Landlock, bubblewrap around the fork server, and the
scratch folder below which each submission is staged. What it could not set up is said as data
(Isolation.missing), before any student code exists here; where student code would run with the
grader's own privileges and nothing else holds, it refuses (SandboxRefused) unless told.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import Limits
from . import bubblewrap
from .calls import Sandbox
from .forkserver import ForkServer
from .isolation import (
    SandboxUser,
    choose_user,
    give_to,
    kill_all,
    on_disk_temp,
    on_tmpfs,
    readable_by_others,
    remove_files_of,
    running_as_root,
)
from .landlock import abi as landlock_abi
from .memcg import MemoryCgroup, protect_from_oom
from .seccomp import available_filter


class SandboxRefused(Exception):
    """Student code would run with the grader's own privileges, and the instructor did not allow it."""


@dataclass(frozen=True)
class Isolation:
    """Which layers held student code (for instructors, in every report; words at the edge:
    grading/results.py's isolation_text)."""

    user: str | None  # the unprivileged sandbox user it ran as (None: the grader's own user)
    uid: int | None
    seccomp: bool  # no network sockets, no memory the rlimits miss
    processes_refused: bool  # seccomp refused it new processes (no cgroup counts a worker's children)
    bubblewrap: bool  # no network, a read-only allowlist of files, private /tmp
    memory_mb: int  # the memory limit ([limits] memory_mb)
    memory_cgroup: bool  # every page of the workers counted against memory_mb
    landlock: bool  # files written only in its own folders
    scratch_on_tmpfs: Path | None  # where Landlock lets it write is a tmpfs no cgroup counts (else None)
    missing: tuple[str, ...]  # the guarantees graded without, each a sentence for the operator


class SandboxHost:
    """The layers around every worker of one grader, and the folders submissions are staged in.

    hidden: files and folders student code must never see (bubblewrap covers them); secrets: the
    files whose readability by other users is a missing guarantee where only permissions keep
    them from student code; source_dir: where the grader's files lie (named in the chmod that
    closes them); unsafe_run_as_grader: grade even where student code would run as the grader;
    contract: the homework's worker-side calling convention (worker.py), if it has one.
    """

    def __init__(self, limits: Limits, sandbox_user: str, bubblewrap_mode: str, hidden: Sequence[Path],
                 secrets: Sequence[Path], source_dir: Path, unsafe_run_as_grader: bool = False,
                 scratch_parent: Path | None = None, contract: Path | None = None):
        self.limits = limits
        protect_from_oom()  # before the zygote starts: it inherits the low score, its workers raise theirs
        # every page of the workers (one at a time), files in tmpfs and memfd included; None where
        # this machine or user cannot make one
        self.memory = MemoryCgroup.create(limits.memory_mb << 20)
        # no network, no memory the rlimits miss; and where no cgroup counts a worker's children (each
        # could hold memory_mb again), no child processes
        self.seccomp_filter = available_filter(single_process=self.memory is None)
        # workers write files only in their submission's folders (Landlock), where the kernel has it
        self.landlock = landlock_abi() >= 1
        # Every submission is staged in a folder of its own below this one (the only place bubblewrap
        # leaves writable, and with Landlock the only place a worker writes), deleted once it is graded:
        # where no cgroup counts what a tmpfs holds, on a disk
        self.scratch = Path(tempfile.mkdtemp(prefix="autograder-", dir=scratch_parent or
                                             (on_disk_temp() if self.memory is None else None)))
        os.chmod(self.scratch, 0o711)  # traversable by the sandbox user, not listable
        self.lease, self.forkserver = None, None  # what close() releases, once made (and self.memory)
        self._staged = 0
        try:
            wrapper = bubblewrap.zygote_wrapper(self.scratch, list(hidden), running_as_root(), limits.memory_mb) \
                if bubblewrap_mode == "auto" else None
            self.bubblewrapped = wrapper is not None
            # as root, a sandbox user of this grader's own (graders side by side must not share one);
            # under bubblewrap it needs only what the allowlist exposes to be readable
            self.lease, missing = choose_user(sandbox_user, bubblewrap.exposed_trees() if wrapper else None,
                                              processes_refused=self.memory is None and
                                              self.seccomp_filter is not None)
            self.user: SandboxUser | None = self.lease.user if self.lease else None
            if self.user is None and wrapper is None and not unsafe_run_as_grader:
                raise SandboxRefused(_refusal(missing))  # before any student code exists here
            readable = readable_by_others(list(secrets)) if self.user and not wrapper else None
            if readable is not None:  # (under bubblewrap they are not there to read)
                missing.append(
                    f"the grader's files are readable by other users ({readable}), so by the student code: "
                    f"it could read the reference and the config's secret. Close them (chmod 700 {source_dir}, "
                    f"as setup.sh does on Gradescope), or use bubblewrap")
            if self.memory is None and not self.landlock and not self.bubblewrapped:
                missing.append("memory held in files of /tmp and /dev/shm is bounded by their size only, not by "
                               "memory_mb (no memory cgroup, no Landlock, no bubblewrap)")
            if self.seccomp_filter is None:
                missing.append("network access is not blocked (no seccomp filter on this machine)")
                if self.memory is None:
                    missing.append(f"memory is bounded per process only: student code may start up to "
                                   f"{limits.max_processes} processes of {limits.memory_mb} MB each (no memory "
                                   f"cgroup, no seccomp filter)")
            # Started now, before the grader has made a single case: the zygote is a fresh interpreter,
            # but nothing secret should exist anywhere while it starts.
            self.forkserver = ForkServer(self.scratch / "forkserver", wrapper, private_tmp=self.bubblewrapped,
                                         memory=self.memory, contract=contract)
            self.forkserver.start()
        except BaseException:
            self.close()
            raise
        self.isolation = Isolation(
            user=self.user.name if self.user else None, uid=self.user.uid if self.user else None,
            seccomp=self.seccomp_filter is not None,
            processes_refused=self.seccomp_filter is not None and self.memory is None,
            bubblewrap=self.bubblewrapped, memory_mb=limits.memory_mb, memory_cgroup=self.memory is not None,
            landlock=self.landlock,
            scratch_on_tmpfs=self.scratch.parent if self.landlock and self.memory is None and
            on_tmpfs(self.scratch) else None,
            missing=tuple(missing))

    @property
    def missing(self) -> tuple[str, ...]:
        return self.isolation.missing

    def new_scratch(self) -> Path:
        """A fresh folder for one submission (traversable by the sandbox user, not listable); the
        caller removes it, and calls tidy(), once the submission is graded."""
        self._staged += 1
        folder = self.scratch / str(self._staged)
        folder.mkdir(mode=0o711)
        os.chmod(folder, 0o711)  # (whatever the umask)
        return folder

    def hand_over(self, folder: Path) -> None:
        """The staged submission's folder to the sandbox user, its own worker's only (not a
        neighbour grader's user)."""
        give_to(self.user, folder)
        os.chmod(folder, 0o700)

    def sandbox(self, module: Path, workdir: Path, deadline: float, importable: Sequence[str] | None) -> Sandbox:
        """A Sandbox for one submission's module, its workers forked by this host's zygote."""
        return Sandbox(module, workdir, self.limits, deadline, self.user, self.seccomp_filter, self.forkserver,
                       self.tidy, importable, self.landlock)

    def tidy(self) -> None:
        """Remove what student code left in the temporary folders it shares (/tmp, /var/tmp, /dev/shm)."""
        if not self.bubblewrapped:  # (under bubblewrap those folders are the sandbox's own tmpfs)
            remove_files_of(self.user)
        self.forkserver.clean_tmp()

    def close(self) -> None:
        if self.forkserver:
            self.forkserver.close()
        if self.memory is not None:
            self.memory.remove()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self.lease:
            kill_all(self.lease.user)  # nothing of ours outlives the lease
            self.lease.close()


def _refusal(missing: list[str]) -> str:
    return (f"refusing to grade: {missing[0]}; student code could read the config's secret, the reference and "
            "classmates' files. To grade anyway, knowing the risk: --unsafe-run-as-grader, or [sandbox] "
            "unsafe_run_as_grader = true.")
