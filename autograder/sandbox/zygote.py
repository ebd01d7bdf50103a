"""The fork server ("zygote"): a clean interpreter with numpy loaded that forks one worker per request.

Starting Python and importing numpy costs more than grading a submission, so a batch must not pay
it per submission. The zygote pays it once; each worker is a fork of it, isolated before any
student code runs: a new session, rlimits, the sandbox user (setgroups, setgid, setuid), a fresh
environment, then worker.py's main (which installs the seccomp filter and imports the submission).

A worker inherits the zygote's memory, so the zygote must hold nothing a student may not see: it
is its own exec'd interpreter (never a fork of the grader), started with a scrubbed environment
and no arguments but its control socket, and it never receives a case, a reference value or the
config. The grader talks to it over a SOCK_SEQPACKET socket: one JSON request per packet, the
worker's pipes attached as file descriptors (SCM_RIGHTS), one JSON reply.

Usage: python -I zygote.py CONTROL_FD [--private-tmp]
  --private-tmp: /tmp, /var/tmp and /dev/shm are this zygote's own (bubblewrap); "clean" empties them.
Imports only the standard library, numpy (on Linux) and worker.py (by file path).
"""

import contextlib
import ctypes
import fcntl
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")
REQUEST_FD, RESPONSE_FD = 3, 4  # where a worker finds its pipes


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_autograder_{name}", os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv):
    control = socket.socket(fileno=int(argv[1]))
    private_tmp = "--private-tmp" in argv[2:]
    worker = _load("worker")
    if sys.platform.startswith("linux"):
        # The point of the zygote. Elsewhere (macOS) numpy's BLAS is not safe to use after fork, so
        # each worker imports it itself, as a fresh process would.
        import numpy  # noqa: F401
        worker.preload()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 1 << 16, 8)
        except (OSError, ValueError):
            return 0
        if not message:  # the grader closed its end
            return 0
        request = json.loads(message)
        if request["op"] == "exit":
            return 0
        try:
            reply = _handle(request, fds, control, worker, private_tmp)
        except Exception as e:  # noqa: BLE001 - the grader hears of it; the zygote goes on
            reply = {"error": f"{type(e).__name__}: {e}"}
        finally:
            for fd in fds:
                os.close(fd)
        control.send(json.dumps(reply).encode())


def _handle(request, fds, control, worker, private_tmp):
    op = request["op"]
    if op == "spawn":
        request["zygote"] = os.getpid()
        pid = os.fork()
        if pid == 0:
            _become_worker(request, fds, control, worker)  # never returns
        return {"pid": pid}
    if op == "join":  # a memory cgroup (memcg.py): the workers forked from now on are born in it
        os.write(fds[0], b"0")
        return {}
    if op == "kill":
        try:
            os.killpg(request["pid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return {"returncode": _wait(request["pid"], 10.0)}
    if op == "wait":
        return {"returncode": _wait(request["pid"], float(request["timeout"]))}
    if op == "cpu":
        return {"seconds": _cpu_seconds(request["pid"])}
    if op == "clean":
        if private_tmp:
            mounts = _mount_points()
            for folder in PRIVATE_TMP:
                _empty(folder, mounts)
        return {}
    raise ValueError(f"unknown request {op!r}")


def _mount_points():
    """Where something is mounted in this namespace (the scratch folder and a venv under /tmp are)."""
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4].replace("\\040", " ") for line in f}


def _empty(folder, mounts):
    """Remove what student code left in `folder`, leaving mounts and the folders leading to them:
    the grader's scratch and the interpreter are bound there, and must neither be emptied nor walked."""
    for entry in os.scandir(folder):
        path = entry.path
        if path in mounts:
            continue
        if any(m.startswith(path + "/") for m in mounts):
            if entry.is_dir(follow_symlinks=False):
                _empty(path, mounts)
        elif entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):  # best effort, like rmtree's
                os.unlink(path)


def _cpu_seconds(pid):
    """The CPU time (user and system, all its threads and its reaped children) a worker has used, as
    seen from here (its pid may be this namespace's), or None if it is gone or this system has no /proc."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # after the command's closing parenthesis: state is field 3; utime, stime, cutime, cstime 14-17
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _wait(pid, timeout):
    """The worker's exit code (negative: killed by that signal), or None if still running at timeout."""
    deadline = time.monotonic() + timeout
    try:  # a pidfd becomes readable the moment the process exits (Linux 5.3+): no polling
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return None  # already reaped
            if done:
                return os.waitstatus_to_exitcode(status)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if pidfd is None:
                time.sleep(min(left, 0.001))
            else:
                select.select([pidfd], [], [], left)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _become_worker(request, fds, control, worker):
    """In the forked child: isolate this process, then serve as the worker. Never returns."""
    code = 125
    try:
        control.close()
        # the OOM killer takes a worker first: the zygote and the grader must survive whatever it holds
        with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
        request_fd, response_fd, log_fd = (fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in fds)
        devnull = os.open(os.devnull, os.O_RDONLY)
        for source, target in ((devnull, 0), (log_fd, 1), (log_fd, 2), (request_fd, REQUEST_FD),
                               (response_fd, RESPONSE_FD)):
            os.dup2(source, target)
        os.closerange(RESPONSE_FD + 1, 1 << 16)  # nothing of the zygote's stays open: only 0-4
        os.setsid()
        os.chdir(request["cwd"])
        for limit, value in request["rlimits"]:
            try:
                resource.setrlimit(limit, (value, value))
            except (ValueError, OSError):
                if sys.platform.startswith("linux"):  # where grading is meant to run, a limit must hold
                    raise
                # elsewhere (an instructor's Mac: RLIMIT_AS is not enforceable there) best effort
        if request.get("uid") is not None:
            os.setgroups([])
            os.setgid(request["gid"])
            os.setuid(request["uid"])
        try:  # die with the zygote (which dies with the grader); set after setuid, which clears it
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != request["zygote"]:  # the zygote died before that: so must we
            raise SystemExit(125)
        os.environ.clear()
        os.environ.update(request["env"])
        code = worker.main(["worker.py", str(REQUEST_FD), str(RESPONSE_FD), *request["argv"]])
    except BaseException:  # noqa: BLE001 - the grader sees the worker die; the log says why
        try:
            os.write(2, traceback.format_exc().encode("utf-8", "replace"))
        except OSError:
            pass
    os._exit(code or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
