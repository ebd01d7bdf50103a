"""The grading process's side of the worker: start it, call student functions, survive anything.

A `Sandbox` owns one worker process (worker.py, forked by the zygote) at a time. Each call, and the
import, has a limit on the worker's CPU time (so a loaded machine gives the verdicts an idle one
does) and a wider one on wall-clock time (for code that waits instead), enforced by SIGKILL to the
worker's whole process group (the zygote sends it).
A call that hangs, crashes, segfaults, exits or runs out of memory fails with a named reason and
the next call starts a fresh worker (which imports the submission again). Results arrive as plain arrays (protocol.py)
and leave here as fresh float64 arrays; what they mean is for compare.py to decide.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import resource
import select
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..config import Limits
from ..core.call import (  # noqa: F401
    CRASH,
    ERROR,
    IMPORT_ERROR,
    MISSING,
    NOT_RUN,
    OK,
    OOM,
    TIMEOUT,
    Call,
    CallOutcome,
    CallStatus,
    ImportReport,
    TopLevelEvent,
    TopLevelOutcome,
)
from . import protocol
from .forkserver import SCRUBBED_ENV, ForkServer, WorkerProcess, WorkerSpec
from .isolation import SandboxUser, give_to, kill_all, processes_of, remove_ipc_of

MAX_HEADER_BYTES = 1 << 20
# of the import's CPU time, what the submission's top-level statements share (toplevel.py); the rest
# is the worker's own start
TOPLEVEL_SHARE = 0.8

class _WorkerDied(Exception):
    def __init__(self, status: CallStatus, message: str, retry: bool = False, limit: str = ""):
        """retry: the call at hand may not be to blame (another process wrote into the reply pipe);
        limit: for a timeout, the limit it ran into (a _Clock's CPU, WALL or BUDGET)."""
        super().__init__(message)
        self.status, self.message, self.retry, self.limit = status, message, retry, limit


CPU, WALL, BUDGET = "cpu", "wall", "budget"  # the limits a wait for the worker can run into


class _Clock:
    """When the grader stops waiting for one answer of the worker: once the worker has used `cpu_limit`
    seconds of CPU time after `cpu_start` (its count when it sent its last answer), or `wall_limit`
    seconds have passed, or at the grading's `deadline`, whichever comes first.

    The CPU time is read (from the zygote: `cpu`) only once as much wall-clock time has passed as
    could have used the rest of the limit, since one thread cannot use CPU faster than the clock:
    an answer that comes within its limit costs no reading. Where the CPU time cannot be read
    (no /proc), the clock counts wall-clock time instead."""

    def __init__(self, cpu: Callable[[], float | None], cpu_start: float, cpu_limit: float,
                 wall_limit: float, deadline: float):
        now = time.monotonic()
        self._cpu, self._cpu_start, self.cpu_limit = cpu, cpu_start, cpu_limit
        self.wall_limit = wall_limit
        self._wall_end = min(now + wall_limit, deadline)
        self._budget_ends_first = deadline < now + wall_limit
        self._next_reading = now + cpu_limit

    def wait(self) -> float:
        """Seconds to wait for the answer before asking again (> 0); raises _WorkerDied (TIMEOUT) once
        a limit is reached."""
        now = time.monotonic()
        if now >= self._next_reading:
            used = self._cpu()
            if used is None:  # nothing to read: the wall clock it is
                raise self._expired(CPU)
            self._cpu_start = min(self._cpu_start, used)  # (a worker's own count, never trusted above ours)
            left = self.cpu_limit - (used - self._cpu_start)
            if left <= 0:
                raise self._expired(CPU)
            self._next_reading = now + max(left, 0.01)
        if now >= self._wall_end:  # (the CPU time read last was under its limit)
            raise self._expired(BUDGET if self._budget_ends_first else WALL)
        return max(min(self._next_reading, self._wall_end) - now, 0.001)

    def _expired(self, limit: str) -> _WorkerDied:
        message = {CPU: f"timed out: it used more than {self.cpu_limit:g} s of CPU time (an infinite loop?)",
                   WALL: f"timed out: no answer within {self.wall_limit:g} s of wall-clock time, though it used "
                         f"less than {self.cpu_limit:g} s of CPU time (waiting on sleep, input or a lock?)",
                   BUDGET: "timed out: the grading time budget ran out before it answered"}[limit]
        return _WorkerDied(TIMEOUT, message, limit=limit)


class Sandbox:
    """Runs the student's module in a worker process; one call at a time."""

    def __init__(self, module_path: Path, workdir: Path, limits: Limits, deadline: float | None = None,
                 user: SandboxUser | None = None, seccomp_filter: bytes | None = None,
                 forkserver: ForkServer | None = None, tidy: Callable[[], None] | None = None,
                 importable: Sequence[str] | None = None, landlock: bool = False):
        """workdir: a fresh folder for the worker's files; user: who the worker runs as (None: as we do);
        seccomp_filter: a seccomp program (seccomp.available_filter()) the worker installs, or None;
        forkserver: the zygote that forks the workers (shared between submissions), or None for one
        of this sandbox's own (its memory cgroup, if any, holds every worker: memcg.py);
        tidy: removes what student code left in the temporary folders, called when a worker is
        killed for its memory (the files it held would count against the next one's);
        importable: the top-level modules besides the standard library and its own files student code
        may import (runtime.importable_modules), None for all the machine has; landlock: the worker may
        write files only in the submission's folder and its temporary folder (landlock.py)."""
        self.module_path = Path(module_path)
        self.workdir = Path(workdir)
        self.limits = limits
        self.user = user
        self.seccomp_filter = seccomp_filter
        self.importable = None if importable is None else tuple(importable)
        self.landlock = landlock
        self._tidy = tidy
        self.deadline = deadline if deadline is not None else time.monotonic() + limits.total_timeout
        self._max_result_bytes = int(limits.max_result_mb * 1024 * 1024)
        self._proc: WorkerProcess | None = None
        self._request_fd = self._response_fd = -1
        self._received = bytearray()  # read from the worker, not yet consumed
        self._import: ImportReport | None = None
        self._timeouts: dict[str, int] = {}  # timeouts and out-of-memory failures, by function (_struck)
        self._request_id = 0
        self._cpu_mark = 0.0  # the worker's CPU time when it sent its last answer (by its own count)
        self._output_mark: int | None = None  # see mark_output
        # workdir (root's, traversable) holds the log (root's only: the worker writes it through an
        # inherited descriptor) and tmp/ (the student's).
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o711)
        self._own_server = forkserver is None
        self.forkserver = forkserver or ForkServer(self.workdir / "forkserver")
        self._log_path = self.workdir / "worker.log"
        self._tmp = self.workdir / "tmp"
        self._tmp.mkdir(mode=0o700, exist_ok=True)
        give_to(user, self._tmp)

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Fork a worker without waiting for it: it imports the submission meanwhile."""
        if self._proc is not None:
            return
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        log = os.open(self._log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        spec = WorkerSpec(
            argv=(str(self.module_path), str(self.limits.max_output_chars), str(self._max_result_bytes),
                  "-" if self.importable is None else ",".join(self.importable),
                  json.dumps([str(self.module_path.parent), str(self._tmp)]) if self.landlock else "-",
                  str(TOPLEVEL_SHARE * self.limits.import_timeout), str(self.limits.wall_clock_factor),
                  *([self.seccomp_filter.hex()] if self.seccomp_filter else [])),
            cwd=str(self.module_path.parent),
            env={**SCRUBBED_ENV, "HOME": str(self._tmp), "TMPDIR": str(self._tmp)},
            rlimits=worker_rlimits(self.limits, self.user),
            uid=self.user.uid if self.user else None, gid=self.user.gid if self.user else None)
        try:
            self._proc = self.forkserver.spawn(spec, (request_r, response_w, log))
        except BaseException:
            for fd in (request_w, response_r):
                os.close(fd)
            raise
        finally:
            for fd in (request_r, response_w, log):
                os.close(fd)
        self._request_fd, self._response_fd = request_w, response_r
        self._cpu_mark = 0.0  # (a forked process's count starts at zero)

    def close(self) -> None:
        """Kill the worker's whole process group, reap it, then every other process of the sandbox user,
        and remove what they left in the kernel."""
        proc, self._proc = self._proc, None
        # Kill before closing the pipes: a worker still answering a batch would otherwise write into
        # a closed pipe and print a BrokenPipeError into the output the student is shown.
        if proc is not None:
            proc.kill()
        kill_all(self.user, any_left=self._any_left)
        remove_ipc_of(self.user)  # (once none of its processes is left to make more)
        for fd in (self._request_fd, self._response_fd):
            if fd >= 0:
                os.close(fd)
        self._request_fd = self._response_fd = -1
        self._received.clear()  # whatever the old worker sent is not the next worker's
        if self._own_server:
            self.forkserver.close()

    def _any_left(self) -> bool:
        """Whether a process of the student's is alive: every one is in the grading process's memory
        cgroup (one read: ForkServer.student_processes), since the lease gives this grader the sandbox
        user alone; without a cgroup, a /proc scan."""
        students = self.forkserver.student_processes()
        return bool(processes_of(self.user.uid)) if students is None else bool(students)

    # -- the submission's import -------------------------------------------------------------
    def import_report(self) -> ImportReport:
        """Wait for the first worker to import the submission and say how it went."""
        if self._import is None:
            self.start()
            self._import = self._await_hello()
            if not self._import.ok:
                self.close()
        return self._import

    def _await_hello(self) -> ImportReport:
        """Read the worker's first frame: the outcome of importing the submission."""
        try:
            header, _ = self._read_frame(self._clock(self.limits.import_timeout))
        except _WorkerDied as died:
            if died.status == TIMEOUT:
                return ImportReport(False, _IMPORT_TIMEOUT[died.limit].format(
                    cpu=self.limits.import_timeout, wall=self.limits.import_timeout * self.limits.wall_clock_factor))
            return ImportReport(False, f"importing the file killed the process: {died.message}")
        stdout = _text(header.get("stdout"))
        if header.get("status") == "ready":
            names = header.get("functions") if isinstance(header.get("functions"), list) else []
            return ImportReport(True, stdout=stdout, functions=tuple(_text(n, 100) for n in names[:200]),
                                toplevel=_toplevel_events(header.get("toplevel")))
        error = header.get("error") if isinstance(header.get("error"), dict) else {}
        if error.get("type") == "NotebookError":
            return ImportReport(False, _text(error.get("message"), 500), unreadable_notebook=True)
        message = f"{_text(error.get('type'))}: {_text(error.get('message'))}"
        if error.get("type") == "MemoryError" or "failed to map segment" in message:
            # what a library too big for the address-space limit looks like (torch needs ~700 MB)
            message += f" [out of memory: the limit is {self.limits.memory_mb} MB]"
        return ImportReport(False, message, _text(error.get("traceback")), stdout,
                            missing_module=_text(error.get("module"), 200))

    @contextmanager
    def unscored(self, budget: float) -> Iterator[None]:
        """Calls made inside score nothing (the diagnostic cases): together they may take `budget`
        seconds at most, and neither the time they take nor their timeouts count against the calls
        after them, so a submission's score is what it would be without them."""
        started, deadline, strikes = time.monotonic(), self.deadline, dict(self._timeouts)
        self.deadline = min(deadline, started + budget)
        try:
            yield
        finally:
            self.deadline = deadline + (time.monotonic() - started)
            self._timeouts = strikes

    # -- calls ---------------------------------------------------------------------------------
    def call(self, function: str, args: list[np.ndarray], keys: tuple[str, ...] | None = None) -> CallOutcome:
        """Call the student's `function(*args)`; for a dict result, `keys` are the entries wanted."""
        return self.call_many([Call(function, tuple(args), keys)])[0]

    def call_many(self, calls: list[Call]) -> list[CallOutcome]:
        """Make the calls in order, one outcome each (see stream)."""
        return list(self.stream(calls))

    def stream(self, calls: list[Call]) -> Iterator[CallOutcome]:
        """Make the calls in order and yield their outcomes as they are read: sent in one batch, so
        the worker computes the next answers while the caller judges the last; each call is timed
        on its own, from when its answer is awaited.

        A call that times out, crashes or runs out of memory fails alone: the worker is restarted
        and the calls after it go on in a new batch. Arguments are sent as float64 copies, so the
        student can neither see nor change the grader's arrays. Nothing else may use the sandbox
        until the stream is exhausted.
        """
        outcomes: list[CallOutcome | None] = [None] * len(calls)
        done = 0  # outcomes yielded so far

        def finished():  # the outcomes now known, in call order
            nonlocal done
            while done < len(calls) and outcomes[done] is not None:
                yield replace(outcomes[done], arguments=calls[done].args)
                done += 1

        pending = list(range(len(calls)))
        retried: set[int] = set()
        while pending:
            report = self.import_report()
            ready = []
            for i in pending:
                refusal = self._refusal(calls[i].function, report)
                if refusal is None:
                    ready.append(i)
                else:
                    outcomes[i] = refusal
            pending = []
            if not ready:
                break
            answered = 0
            try:
                if self._proc is None:  # restart after a failure: the new worker imports the submission again
                    self.start()
                    if not self._await_hello().ok:
                        raise _WorkerDied(CRASH, "the submission failed to import again after a restart")
                for i, outcome in zip(ready, self._call_batch([calls[i] for i in ready])):
                    outcomes[i] = outcome
                    answered += 1
                    yield from finished()
            except _WorkerDied as died:
                self.close()
                if died.status == OOM and self._tidy is not None:
                    self._tidy()
                failed = ready[answered]
                if died.retry and failed not in retried:
                    retried.add(failed)
                    pending = ready[answered:]
                    continue
                if died.status in (TIMEOUT, OOM):  # each costs seconds: stop trying after a few
                    function = _struck(calls[failed].function)
                    self._timeouts[function] = self._timeouts.get(function, 0) + 1
                outcomes[failed] = CallOutcome(died.status, message=died.message)
                pending = ready[answered + 1:]
            yield from finished()
        yield from finished()

    def _refusal(self, function: str, report: ImportReport) -> CallOutcome | None:
        """Why a call cannot be made now (as its outcome), or None if it can."""
        if not report.ok:
            return CallOutcome(IMPORT_ERROR, message=f"the submission could not be imported ({report.message})")
        function = _struck(function)
        strikes = self._timeouts.get(function, 0)
        if strikes >= self.limits.timeouts_before_skip:
            return CallOutcome(NOT_RUN, message=f"not run: {function} already timed out or ran out of memory "
                                                f"{strikes} times")
        if self.deadline - time.monotonic() <= 0:
            return CallOutcome(NOT_RUN, message="not run: the grading time budget was used up by earlier calls")
        return None

    def _call_batch(self, calls: list[Call]):
        """Send the calls in one frame, then yield each answer's outcome (raises _WorkerDied)."""
        specs, chunks, entries = [], [], []
        for call in calls:
            self._request_id += 1
            arg_specs, payload = protocol.encode_arrays([np.array(a, dtype=np.float64) for a in call.args])
            specs += arg_specs
            chunks.append(payload)
            entries.append({"id": self._request_id, "function": call.function,
                            "keys": list(call.keys) if call.keys else None, "nargs": len(call.args)})
        try:
            protocol.write_all(self._request_fd, protocol.pack_frame({"calls": entries, "arrays": specs},
                                                                     b"".join(chunks)))
        except OSError:  # the worker is gone (it exited between calls)
            raise self._died() from None
        for entry in entries:
            header, payload = self._read_frame(self._clock(self.limits.call_timeout))
            if header.get("status") == "oom":  # the worker survived, but its memory may be half spent
                raise _WorkerDied(OOM, "ran out of memory (MemoryError)")
            if header.get("id") != entry["id"]:
                # Student code wrote into the reply pipe: the stream can no longer be trusted. Often a
                # process forked during an earlier call (its copy of the worker answered too), so
                # the call at hand gets one more chance in a fresh worker.
                raise _WorkerDied(CRASH, "the submission wrote its own data into the grader's pipe", retry=True)
            try:
                yield _outcome(header, payload, self._max_result_bytes)
            except protocol.ProtocolError as e:
                raise _WorkerDied(CRASH, f"the worker sent malformed data ({e})") from None

    # -- reading the worker's answers --------------------------------------------------------
    def _clock(self, cpu_limit: float) -> _Clock:
        """The limits on the next answer, counted from the worker's last one."""
        worker = self._proc
        return _Clock(lambda: worker.cpu_seconds() if worker else None, self._cpu_mark, cpu_limit,
                      cpu_limit * self.limits.wall_clock_factor, self.deadline)

    def _read_frame(self, clock: _Clock) -> tuple[dict, bytes]:
        prefix = self._read_exact(protocol.PREFIX.size, clock)
        head_len, payload_len = protocol.PREFIX.unpack(prefix)
        if head_len > MAX_HEADER_BYTES or payload_len > 4 * self._max_result_bytes + 4096:
            raise _WorkerDied(CRASH, f"the result is too large (over {self.limits.max_result_mb:g} MB)")
        try:
            header = json.loads(self._read_exact(head_len, clock).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise _WorkerDied(CRASH, "the worker sent malformed data") from None
        if not isinstance(header, dict):
            raise _WorkerDied(CRASH, "the worker sent malformed data")
        payload = self._read_exact(payload_len, clock)
        cpu = header.get("cpu")
        if isinstance(cpu, (int, float)) and 0 <= cpu < float("inf"):  # the worker's count: see _Clock
            self._cpu_mark = float(cpu)
        return header, payload

    def _read_exact(self, n: int, clock: _Clock) -> bytes:
        """n bytes of the reply stream. Reads take whatever the pipe holds (replies to a batch arrive
        back to back), so most frames cost one read, not three."""
        while len(self._received) < n:
            if not select.select([self._response_fd], [], [], clock.wait())[0]:
                continue  # (the clock says when a limit is reached)
            chunk = os.read(self._response_fd, max(n - len(self._received), 1 << 16))
            if not chunk:
                raise self._died()
            self._received += chunk
        data = bytes(self._received[:n])
        del self._received[:n]
        return data

    def _died(self) -> _WorkerDied:
        """The worker closed its end: wait briefly for its exit status and name the cause."""
        returncode = self._proc.wait(1.0) if self._proc else None
        return _WorkerDied(*_death_reason(returncode))

    def mark_output(self) -> None:
        """Remember how much the worker has written straight to stdout/stderr so far (worker_output)."""
        try:
            self._output_mark = os.stat(self._log_path).st_size
        except OSError:
            self._output_mark = 0

    def worker_output(self, after_mark: bool = False) -> str:
        """What student code wrote straight to the process's stdout/stderr (fd level), capped: up to
        the mark (everything if none was set), or from it on."""
        mark, limit = self._output_mark, self.limits.max_output_chars
        if after_mark and mark is None:
            return ""
        start = mark if after_mark else 0
        size = limit + 1 if after_mark or mark is None else min(limit + 1, mark)
        try:
            with open(self._log_path, "rb") as f:
                f.seek(start)
                data = f.read(size)
        except OSError:
            return ""
        text = data[:limit].decode("utf-8", "replace")
        return text + ("\n... [output cut]" if len(data) > limit else "")


# What a timed-out import is told, by the limit it ran into (_Clock)
_IMPORT_TIMEOUT = {
    CPU: "importing the file used more than {cpu:g} s of CPU time (a long computation at the top level?)",
    WALL: "importing the file took longer than {wall:g} s of wall-clock time, though it used less than "
          "{cpu:g} s of CPU time (an input() call or a sleep at the top level?)",
    BUDGET: "importing the file did not finish before the grading time budget ran out"}

# Address space beyond the memory limit: what a library maps without using it (torch's shared
# libraries take 640 MB of address space, 220 MB of it memory), and a bound on what RLIMIT_DATA
# does not count (shared mappings).
ADDRESS_SPACE_HEADROOM_MB = 1024


def worker_rlimits(limits: Limits, user: SandboxUser | None) -> tuple[tuple[int, int], ...]:
    """The rlimits of a worker: memory, CPU time (a backstop: each call's is counted by _Clock),
    file size, no core files, open files; and processes, which root would ignore, for the sandbox user.

    Memory is limited by RLIMIT_DATA (the private writable memory the process maps: every numpy
    array, heap and thread stack, counted when mapped, so the real use stays under it), not by
    address space, which counts the code of every library loaded: importing torch reserves 640 MB
    of it and uses 220 MB. RLIMIT_AS stays as a wider backstop."""
    rlimits = [(resource.RLIMIT_DATA, limits.memory_mb * 1024 * 1024),
               (resource.RLIMIT_AS, (limits.memory_mb + ADDRESS_SPACE_HEADROOM_MB) * 1024 * 1024),
               (resource.RLIMIT_CPU, int(limits.total_timeout) + 5),
               (resource.RLIMIT_FSIZE, 64 << 20), (resource.RLIMIT_CORE, 0), (resource.RLIMIT_NOFILE, 256)]
    if user is not None:
        rlimits.append((resource.RLIMIT_NPROC, limits.max_processes))
    return tuple(rlimits)


def _death_reason(returncode: int | None) -> tuple[CallStatus, str]:
    if returncode is None:
        return CRASH, "the process stopped answering and closed its connection"
    if returncode < 0:
        sig = -returncode
        if sig == signal.SIGKILL:
            return OOM, "the process was killed (SIGKILL), most likely for using too much memory"
        if sig == signal.SIGXCPU:
            return TIMEOUT, "the process used up its CPU time limit"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        detail = {signal.SIGSEGV: " (segmentation fault)", signal.SIGABRT: " (abort)",
                  signal.SIGBUS: " (bus error)", signal.SIGFPE: " (arithmetic error)"}.get(sig, "")
        return CRASH, f"the process crashed with {name}{detail}"
    return CRASH, (f"the process exited with status {returncode} during the call "
                   "(os._exit() or a crash in native code)")


# The words for what made a returned value unusable, by the kind the worker names (worker._to_array).
PROBLEMS = {"unconvertible": "could not be turned into a numeric array", "not numeric": "is not numeric",
            "too large": "is too large"}
# Python's own exception types: a name among these may be shown where student text may not (a
# hidden test), since student code cannot choose its wording.
BUILTIN_ERRORS = frozenset(name for name, value in vars(builtins).items()
                           if isinstance(value, type) and issubclass(value, BaseException))


def _outcome(header: dict, payload: bytes, max_result_bytes: int) -> CallOutcome:
    """Turn a worker's answer into a CallOutcome, trusting none of it (ProtocolError if malformed)."""
    status = header.get("status")
    stdout = _text(header.get("stdout"))
    if status == "missing":
        return CallOutcome(MISSING, message="the function is not defined in the submission", stdout=stdout)
    if status != "ok":
        error = header.get("error") if isinstance(header.get("error"), dict) else {}
        kind, said = _text(error.get("type"), 200), _text(error.get("message"), 2000)
        builtin = kind if kind in BUILTIN_ERRORS else ""
        return CallOutcome(ERROR, message=f"raised {builtin or 'an exception'}", stdout=stdout,
                           traceback=_text(error.get("traceback")),
                           said=said if builtin else ": ".join(x for x in (kind, said) if x))
    names = header.get("names")
    problems = header.get("problems")
    if not isinstance(names, list) or not isinstance(problems, dict):
        raise protocol.ProtocolError("malformed reply")
    arrays = protocol.decode_arrays(header.get("arrays"), payload, max_result_bytes)  # ProtocolError: caller
    if len(arrays) != len(names):
        raise protocol.ProtocolError("names and arrays do not match")
    values = {_text(k, 100): np.array(a, dtype=np.float64) for k, a in zip(names, arrays)}
    words, said = {}, {}
    for key, problem in problems.items():
        kind, detail = (problem + ["", ""])[:2] if isinstance(problem, list) else ("", "")
        words[_text(key, 100)] = PROBLEMS.get(kind, "could not be used") if isinstance(kind, str) else \
            "could not be used"
        said[_text(key, 100)] = _text(detail, 2000)
    return CallOutcome(OK, values, words, stdout=stdout, problem_said=said)


def _text(value, limit: int = 20000) -> str:
    """A worker-supplied string, coerced and bounded."""
    return value[:limit] if isinstance(value, str) else ""


def _toplevel_events(raw) -> tuple[TopLevelEvent, ...]:
    """The worker's top-level events (toplevel.run), checked field by field: what is not one is dropped."""
    events = []
    for item in raw[:100] if isinstance(raw, list) else ():
        try:
            cell, line, seconds = item.get("cell"), item.get("line"), item.get("seconds", 0.0)
            if not (cell is None or type(cell) is int) or type(line) is not int \
                    or type(seconds) not in (int, float) or not math.isfinite(seconds):
                continue
            events.append(TopLevelEvent(cell, line, _text(item.get("code"), 200), TopLevelOutcome(item.get("outcome")),
                                        float(seconds), _text(item.get("error"), 300), _text(item.get("module"), 200)))
        except (AttributeError, ValueError):  # not a dict, or not an outcome
            continue
    return tuple(events)


def _struck(function: str) -> str:
    """What a timeout counts against: a call's name up to its first "/" (a worker contract names the
    variants of one function so, e.g. nyu-hw1's "forward/relu/sigmoid": a hanging forward hangs them all)."""
    return function.partition("/")[0]
