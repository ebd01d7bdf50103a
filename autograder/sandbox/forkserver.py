"""The grader's side of the zygote (zygote.py): start it once, then fork a fresh worker per request.

One ForkServer serves one grading process for as long as it grades (one submission on Gradescope,
hundreds in a batch), so interpreter and numpy start-up are paid once. It is started before it
could learn anything secret and is only ever told how to isolate a worker, never what to grade.
Its files (zygote.py, worker.py and what they load) are copied into a folder every user can read,
since workers switch to the sandbox user; with bubblewrap, the zygote itself runs inside it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .memcg import MemoryCgroup

SERVER_FILES = ("zygote.py", "worker.py", "protocol.py", "seccomp.py", "runtime.py", "landlock.py",
                "toplevel.py")
# Message boundaries and a visible hang-up on Linux; macOS has no SOCK_SEQPACKET for AF_UNIX, and a
# datagram pair keeps boundaries too (untested on macOS itself; Linux runs it in the tests).
CONTROL_SOCKET = socket.SOCK_SEQPACKET if sys.platform.startswith("linux") else socket.SOCK_DGRAM
REPLY_TIMEOUT = 30.0  # seconds; the zygote answers in milliseconds unless the machine is stuck
# The environment of the zygote and (with a HOME and TMPDIR of their own) of its workers; numpy
# reads the thread settings when it is imported, in the zygote.
SCRUBBED_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
                "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


class ForkServerError(RuntimeError):
    """The zygote could not be started or stopped answering (its log says why)."""


@dataclass(frozen=True)
class WorkerSpec:
    """How to isolate one worker and what it runs.

    argv: worker.py's arguments after its two pipe descriptors (module path, caps, seccomp filter);
    rlimits: (resource.RLIMIT_*, value) pairs; uid/gid: the sandbox user, None to stay as we are.
    """

    argv: tuple[str, ...]
    cwd: str
    env: dict[str, str]
    rlimits: tuple[tuple[int, int], ...]
    uid: int | None = None
    gid: int | None = None


class ForkServer:
    def __init__(self, workdir: Path, wrapper: list[str] | None = None, private_tmp: bool = False,
                 control_socket: int = CONTROL_SOCKET, memory: MemoryCgroup | None = None,
                 contract: Path | None = None):
        """workdir: a fresh folder for the zygote's files and log; wrapper: a command prefix to run it
        under (bubblewrap.zygote_wrapper()), whose /tmp is then private to it (private_tmp); memory: a
        memory cgroup the zygote joins as it starts, so every worker it forks is born in it (moving
        each worker in would cost a cgroup migration, about 12 ms, per worker); contract: the
        homework's worker-side calling convention, shipped as contract.py (worker.py)."""
        self.memory = memory
        self.contract = contract
        self._own: set[int] = set()  # the cgroup's members that are the zygote's, not a student's
        self.control_socket = control_socket
        self.workdir = Path(workdir)
        self.wrapper = list(wrapper or [])
        self.private_tmp = private_tmp
        self.code_dir = self.workdir / "server"
        self._proc: subprocess.Popen | None = None
        self._socket: socket.socket | None = None

    def start(self) -> None:
        if self._proc is not None:
            return
        self.code_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o711)
        os.chmod(self.code_dir, 0o755)
        shipped = {name: Path(__file__).with_name(name) for name in SERVER_FILES}
        if self.contract is not None:
            shipped["contract.py"] = Path(self.contract)
        for name, source in shipped.items():
            shutil.copyfile(source, self.code_dir / name)
            os.chmod(self.code_dir / name, 0o644)
        ours, theirs = socket.socketpair(socket.AF_UNIX, self.control_socket)
        log = os.open(self.workdir / "zygote.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self._proc = subprocess.Popen(
                [*self.wrapper, sys.executable, "-I", str(self.code_dir / "zygote.py"), str(theirs.fileno()),
                 *(["--private-tmp"] if self.private_tmp else [])],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=self.code_dir, env=dict(SCRUBBED_ENV), start_new_session=True, preexec_fn=die_with_parent)
        finally:
            theirs.close()
            os.close(log)
        self._socket = ours
        if self.memory is not None:  # (its pages so far stay charged where they are: only new ones count)
            procs = self.memory.procs_fd()
            try:
                self._request({"op": "join"}, (procs,))
            finally:
                os.close(procs)
            self._own = set(self.memory.members() or [])

    def student_processes(self) -> list[int] | None:
        """The processes in the memory cgroup but the zygote's own: every process its workers started
        (children are born in their parent's cgroup, and cannot leave it); None without a cgroup."""
        members = self.memory.members() if self.memory is not None else None
        return None if members is None else [pid for pid in members if pid not in self._own]

    def spawn(self, spec: WorkerSpec, fds: tuple[int, ...]) -> WorkerProcess:
        """Fork a worker with the pipes `fds` (request read end, response write end, log) as its own;
        a fourth descriptor, if given, is a memory cgroup's cgroup.procs the worker joins (memcg.py)."""
        request = {"op": "spawn", "argv": list(spec.argv), "cwd": spec.cwd, "env": spec.env,
                   "rlimits": [list(r) for r in spec.rlimits], "uid": spec.uid, "gid": spec.gid}
        try:
            reply = self._request(request, fds)
        except ForkServerError:  # a zygote that died (killed from outside?) is replaced once
            self.close()
            reply = self._request(request, fds)
        return WorkerProcess(self, int(reply["pid"]))

    def clean_tmp(self) -> None:
        """Empty the zygote's private /tmp, /var/tmp and /dev/shm (between two submissions)."""
        if self.private_tmp and self._proc is not None:
            with contextlib.suppress(ForkServerError):  # a dead zygote's private /tmp died with it
                self._request({"op": "clean"})

    def _request(self, request: dict, fds: tuple[int, ...] = ()) -> dict:
        self.start()
        try:
            socket.send_fds(self._socket, [json.dumps(request).encode()], list(fds))
            if not select.select([self._socket], [], [], REPLY_TIMEOUT)[0]:
                raise OSError("no reply")
            message = self._socket.recv(1 << 16)
            if not message:
                raise OSError("it exited")
        except OSError as e:
            status = self._proc.poll() if self._proc else None
            died = f", it exited with status {status}" if status is not None else ""
            raise ForkServerError(f"the fork server failed to {request['op']} ({e}{died}); "
                                  f"its log: {self.log()[-2000:]}") from None
        reply = json.loads(message)
        if "error" in reply:
            raise ForkServerError(f"the fork server refused {request['op']}: {reply['error']}")
        return reply

    def log(self) -> str:
        try:
            return (self.workdir / "zygote.log").read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        """Stop the zygote (its workers die with it)."""
        proc, self._proc = self._proc, None
        if self._socket is not None:
            try:
                self._socket.send(b'{"op": "exit"}')  # not left to seeing the hang-up, which a datagram may not show
            except OSError:
                pass
            self._socket.close()
            self._socket = None
        if proc is not None:
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def __enter__(self) -> ForkServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class WorkerProcess:
    """A worker forked by the zygote; its pid is the zygote's view of it (which may be a namespace's)."""

    server: ForkServer
    pid: int

    def kill(self) -> int | None:
        """SIGKILL its whole process group and reap it; its exit code (None if it could not be reaped)."""
        try:
            return self.server._request({"op": "kill", "pid": self.pid}).get("returncode")
        except ForkServerError:
            return None  # the zygote is gone, and its workers with it

    def cpu_seconds(self) -> float | None:
        """The CPU time it has used (its threads and reaped children), None if unknown (gone, no /proc)."""
        try:
            seconds = self.server._request({"op": "cpu", "pid": self.pid}).get("seconds")
        except ForkServerError:
            return None
        return float(seconds) if isinstance(seconds, (int, float)) else None

    def wait(self, timeout: float) -> int | None:
        """Its exit code once it has exited (negative: the signal that killed it), None if it runs on."""
        try:
            return self.server._request({"op": "wait", "pid": self.pid, "timeout": timeout}).get("returncode")
        except ForkServerError:
            return None


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Have the kernel send `signum` to this process when its parent dies (Linux; elsewhere nothing).
    Used in the zygote between fork and exec, and by a batch's pool processes."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
