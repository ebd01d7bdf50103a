"""Grade one submission: locate it, run the grading tests against it in the sandbox, score it.

This is the one grading path: run_autograder (Gradescope), `python -m autograder grade` and
batch grading all come through `Grader.grade` (`grade_submission` for a single one).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import DEFAULT_CONFIG_PATH, Config
from ..core.call import CRASH, OOM, TIMEOUT, ImportReport
from ..core.cases import Case, diagnostic_cases, visible_cases
from ..core.explain import Diagnoser, DiagnoserFactory, Observation
from ..core.parts import FUNCTIONS
from ..sandbox import bubblewrap
from ..sandbox.calls import Sandbox
from ..sandbox.forkserver import ForkServer
from ..sandbox.isolation import (
    choose_user,
    give_to,
    kill_all,
    on_disk_temp,
    on_tmpfs,
    readable_by_others,
    remove_files_of,
    running_as_root,
)
from ..sandbox.landlock import abi as landlock_abi
from ..sandbox.memcg import MemoryCgroup, protect_from_oom
from ..sandbox.runtime import importable_modules, not_installed
from ..sandbox.seccomp import available_filter
from .fingerprint import fingerprint, stamped
from .hidden import hidden_bases, relabel
from .notebook import NotebookError
from .rubric import CaseResult, ScoredTest, complete, score_tests, summary
from .runner import NOT_RUN_REASON, FixedCases, Replay, load_grading_tests, plan_calls, run_grading_tests
from .submission import locate, stage

SOURCE_DIR = Path(__file__).absolute().parents[2]  # beside the package: reference/, tests/
TESTS_DIR = SOURCE_DIR / "tests"
# What student code must never see; bubblewrap covers these with empty mounts.
GRADER_FILES = [SOURCE_DIR / "autograder", SOURCE_DIR / "reference", TESTS_DIR, DEFAULT_CONFIG_PATH]
# The diagnostic calls of a submission may take as long as this many calls at their wall-clock
# limit (the CPU limit times wall_clock_factor, so a loaded machine explains as an idle one does).
DIAGNOSTIC_CALLS = 4


class SandboxRefused(Exception):
    """Student code would run with the grader's own privileges, and the instructor did not allow it."""


@dataclass(frozen=True)
class GradingReport:
    tests: list[ScoredTest]
    notes: list[str]  # submission-wide messages: which file, import errors, import-time prints
    execution_time: float
    status: str  # ok | timeout | crash | import error | no submission (the worst that happened)
    graded_file: str = ""
    log: str = ""  # for instructors only: tracebacks of errors in the grading tests themselves
    isolation: str = ""  # for instructors: which protections were active
    missing_guarantees: tuple[str, ...] = ()  # for instructors: the guarantees it was graded without
    results: tuple[CaseResult, ...] = ()  # every (part, case) verdict the tests were scored from
    fingerprint: str = ""  # of the cases, tolerances and conventions graded against (fingerprint.py)
    replay: Replay | None = field(default=None, compare=False, repr=False)  # Grader.grade(keep_calls=True)
    sandbox_uid: int | None = None  # who student code ran as (None: the grader's own user, or nothing ran)

    @property
    def output(self) -> str:
        """The top-level message for the student: the score by part of the tests shown now, then the notes."""
        return "\n\n".join(text for text in [summary(self.tests), *self.notes] if text)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)


class Grader:
    """Grades submissions one after another, sharing what needs no redoing: the grading tests,
    the sandbox user, the probes of what this machine can enforce.

    Nothing about a submission survives into the next: each gets fresh scratch folders, a fresh
    worker, its own hidden cases; the sandbox user's processes and files are removed after it.
    """

    def __init__(self, config: Config, config_files: list[Path] = (), scratch_parent: Path | None = None, *,
                 diagnoser: DiagnoserFactory | None):
        """config_files: where the config was read from, hidden from student code with the grader's files;
        scratch_parent: where to make the scratch folder (default: the system's temporary folder);
        diagnoser: makes what names the likely cause of a failing part (diagnosis.diagnoser_for), when
        a part first fails; None: failing parts are graded without one."""
        self.config = config
        self.tests = load_grading_tests(TESTS_DIR)
        self.visible_cases = visible_cases()  # fixed inputs (read-only arrays): made once
        self._make_diagnoser = diagnoser
        self._diagnoser: Diagnoser | None = None  # made when a part first fails
        self.diagnostic_cases = diagnostic_cases()
        self.fixed = FixedCases()  # the plan and reference answers of those two sets of cases
        # of the cases, tolerances and conventions: in every results.json
        self.stamp = fingerprint(config, self.visible_cases + self.diagnostic_cases)
        # what student code may import: the course's runtime, as Gradescope's image holds it, whatever
        # else this machine has installed (runtime.py)
        self.importable = importable_modules(config.student_packages)
        protect_from_oom()  # before the zygote starts: it inherits the low score, its workers raise theirs
        # every page of the workers (one at a time), files in tmpfs and memfd included; None where
        # this machine or user cannot make one
        self.memory = MemoryCgroup.create(config.limits.memory_mb << 20)
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
        try:
            hidden = GRADER_FILES + [Path(p).absolute() for p in config_files]
            wrapper = bubblewrap.zygote_wrapper(self.scratch, hidden, running_as_root(), config.limits.memory_mb) \
                if config.bubblewrap == "auto" else None
            self.bubblewrapped = wrapper is not None
            # as root, a sandbox user of this grader's own (graders side by side must not share one);
            # under bubblewrap it needs only what the allowlist exposes to be readable
            self.lease, self.missing = choose_user(config.sandbox_user, bubblewrap.exposed_trees() if wrapper else None,
                                                   processes_refused=self.memory is None and
                                                   self.seccomp_filter is not None)
            self.user = self.lease.user if self.lease else None
            if self.user is None and wrapper is None and not config.unsafe_run_as_grader:
                raise SandboxRefused(_refusal(self.missing))  # before any student code exists here
            readable = readable_by_others(secret_files(config_files)) if self.user and not wrapper else None
            if readable is not None:  # (under bubblewrap they are not there to read)
                self.missing.append(
                    f"the grader's files are readable by other users ({readable}), so by the student code: "
                    f"it could read the reference and the config's secret. Close them (chmod 700 {SOURCE_DIR}, "
                    f"as setup.sh does on Gradescope), or use bubblewrap")
            if self.memory is None and not self.landlock and not self.bubblewrapped:
                self.missing.append("memory held in files of /tmp and /dev/shm is bounded by their size only, not by "
                                    "memory_mb (no memory cgroup, no Landlock, no bubblewrap)")
            if self.seccomp_filter is None:
                self.missing.append("network access is not blocked (no seccomp filter on this machine)")
                if self.memory is None:
                    self.missing.append(f"memory is bounded per process only: student code may start up to "
                                        f"{config.limits.max_processes} processes of "
                                        f"{config.limits.memory_mb} MB each (no memory cgroup, no seccomp filter)")
            # Started now, before this process has made a single case: the zygote is a fresh interpreter,
            # but nothing secret should exist anywhere while it starts.
            self.forkserver = ForkServer(self.scratch / "forkserver", wrapper, private_tmp=self.bubblewrapped,
                                         memory=self.memory)
            self.forkserver.start()
        except BaseException:
            self.close()
            raise
        self.hidden_bases = hidden_bases(config.secret, config.hidden_cases)  # the term's: relabelled per upload
        self._cases: tuple[str, list[Case]] | None = None  # the last submission id's cases
        self.isolation = self._describe_isolation()  # for instructors, in every report
        self._graded = 0

    @property
    def sandbox_uid(self) -> int | None:
        """Who student code runs as (None: the grader's own user)."""
        return self.user.uid if self.user else None

    def close(self) -> None:
        if self.forkserver:
            self.forkserver.close()
        if self.memory is not None:
            self.memory.remove()
        shutil.rmtree(self.scratch, ignore_errors=True)
        if self.lease:
            kill_all(self.lease.user)  # nothing of ours outlives the lease
            self.lease.close()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cases(self, submission_id: str) -> list[Case]:
        """The visible cases, then the hidden ones of this submission id (the same objects for the
        same id graded twice in a row: the pytest plugin parametrizes with them, then grades)."""
        if self._cases is None or self._cases[0] != submission_id:
            self._cases = (submission_id, self.visible_cases + relabel(self.hidden_bases, self.config.secret,
                                                                        submission_id))
        return self._cases[1]

    def grade(self, path: Path, submission_id: str = "local", keep_calls: bool = False) -> GradingReport:
        """Grade the file or folder at `path`. Student code runs only inside the sandbox's worker.

        keep_calls: keep in the report how the tests ran (report.replay), to run them again."""
        config = self.config
        started = time.monotonic()
        deadline = started + config.limits.total_timeout
        cases = self.cases(submission_id)
        outcomes: dict = {}
        replay = None
        located = locate(path)
        if located.relative is None:
            results = complete([], cases, "not graded: no submission file")
            return _report(results, config, started, "no submission", [located.error], stamp=self.stamp)

        user = self.user
        self._graded += 1
        scratch = self.scratch / str(self._graded)
        try:
            scratch.mkdir(mode=0o711)
            os.chmod(scratch, 0o711)  # traversable by the sandbox user, not listable (whatever the umask)
            try:
                staged = stage(located, scratch, config.limits.import_timeout, config.limits.wall_clock_factor)
            except NotebookError as e:
                results = complete([], cases, "not graded: your notebook could not be read")
                return _report(results, config, started, "import error", [str(e)], str(located.relative),
                               isolation=self.isolation, missing=tuple(self.missing), stamp=self.stamp,
                               sandbox_uid=self.sandbox_uid)
            give_to(user, scratch / "submission")
            os.chmod(scratch / "submission", 0o700)  # its own worker's only: not a neighbour grader's user
            visible, hidden = [c for c in cases if not c.hidden], [c for c in cases if c.hidden]
            with Sandbox(staged.module, scratch / "run", config.limits, deadline, user, self.seccomp_filter,
                         self.forkserver, lambda: self._tidy(user), self.importable, self.landlock) as sandbox:
                # planned while the worker imports; one reference for both (the replay reads it)
                plan = plan_calls(self.tests, visible, config.conventions, self.fixed)
                hidden_plan = plan_calls(self.tests, hidden, config.conventions, self.fixed, plan.reference)
                replay = Replay(cases, plan.reference, outcomes) if keep_calls else None
                report = sandbox.import_report()
                notes = [located.note, *staged.notes, _stale_handout(scratch / "submission", self.stamp)]
                if not report.ok:
                    results = complete([], cases, "not graded: your file could not be imported")
                    failure = _import_failure(report, config.student_packages)
                    return _report(results, config, started, "import error", notes + [failure],
                                   str(located.relative), isolation=self.isolation, missing=tuple(self.missing),
                                   sandbox_uid=self.sandbox_uid,
                                   replay=replay, stamp=self.stamp)
                if report.stdout:
                    notes.append("Your file printed this while being imported:\n" + report.stdout)
                missing = [name for name in FUNCTIONS if name not in report.functions]
                if len(missing) == len(FUNCTIONS):
                    notes.append(f"Your file defines none of the functions the autograder calls "
                                 f"({', '.join(FUNCTIONS)}).")
                elif missing:
                    notes.append(f"Not defined in your file: {', '.join(missing)}.")
                kept = outcomes if keep_calls else None
                # Everything shown before the due date comes from calls made before a hidden input reaches
                # the worker: the visible cases, then the diagnostic ones (the likely causes), then hidden.
                seen, log = run_grading_tests(self.tests, visible, sandbox, config, plan, kept)
                explanations = self._explain(seen, sandbox)
                unseen, hidden_log = run_grading_tests(self.tests, hidden, sandbox, config, hidden_plan, kept)
                results = complete(_by_test(seen, unseen, len(self.tests)), cases, NOT_RUN_REASON)
                log = "\n".join(x for x in (log, hidden_log) if x)
                # what was written while hidden cases ran could show their inputs: the student sees
                # it only where the hidden tests are shown at once; instructors always (in the log)
                fd_output, hidden_fd_output = sandbox.worker_output(), sandbox.worker_output(after_mark=True)
            if config.hidden_cases_visibility == "visible":
                fd_output, hidden_fd_output = fd_output + hidden_fd_output, ""
            if fd_output:
                notes.append("Output written directly to the process's stdout/stderr:\n" + fd_output)
            if hidden_fd_output:
                log = "\n".join(x for x in [log, "Written straight to stdout/stderr while hidden cases ran (not "
                                                  "shown to the student):\n" + hidden_fd_output] if x)
            statuses = {r.call_status for r in results}
            status = "timeout" if TIMEOUT in statuses else "crash" if statuses & {CRASH, OOM} else "ok"
            return _report(results, config, started, status, notes, str(located.relative), log, self.isolation,
                           explanations, replay, self.stamp, tuple(self.missing), self.sandbox_uid)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            self._tidy(user)  # (what the submission left in files is uncharged from the cgroup with them)

    def _tidy(self, user) -> None:
        """Remove what student code left in the temporary folders it shares (/tmp, /var/tmp, /dev/shm)."""
        if not self.bubblewrapped:  # (under bubblewrap those folders are the sandbox's own tmpfs)
            remove_files_of(user)
        self.forkserver.clean_tmp()

    def _explain(self, results: list[CaseResult], sandbox: Sandbox) -> dict:
        """What went wrong in each failing part, from its visible cases and, for those parts, the
        diagnostic cases: run only to explain, never scored, before any hidden input reaches the
        worker (so no likely cause can depend on one), and off the scored calls' clock (see
        Sandbox.unscored: their time and timeouts cost the hidden cases nothing)."""
        observed = _observations(results, self.visible_cases)
        failing = {part for part, seen in observed.items()
                   if any(not o.passed and o.received is not None for o in seen)}
        if not failing or self._make_diagnoser is None:
            return {}
        tests = tuple(t for t in self.tests if t.part in failing)
        limits = self.config.limits
        with sandbox.unscored(DIAGNOSTIC_CALLS * limits.call_timeout * limits.wall_clock_factor):
            extra, _ = run_grading_tests(tests, self.diagnostic_cases, sandbox, self.config, fixed=self.fixed)
        for part, seen in _observations(extra, self.diagnostic_cases).items():
            observed[part] += seen
        if self._diagnoser is None:  # (kept: it keeps what the fixed cases need)
            self._diagnoser = self._make_diagnoser(self.config)
        return self._diagnoser.explain(observed)

    def _describe_isolation(self) -> str:
        """Which protections are active, and which guarantees are missing."""
        user = self.user
        layers = [f"student code ran as the unprivileged user {user.name} (uid {user.uid})" if user else
                  "student code ran as the grader's own user",
                  "seccomp refused it network sockets" if self.seccomp_filter else "network open",
                  "bubblewrap: no network, read-only allowlist of files (system, Python, scratch), private /tmp"
                  if self.bubblewrapped else "no bubblewrap layer",
                  f"a memory cgroup counted every page of the workers against "
                  f"{self.config.limits.memory_mb} MB" if self.memory is not None else
                  "no memory cgroup" + ("" if self.landlock else
                                        " (memory in files of /tmp and /dev/shm is bounded by their size only)")
                  + (f"; seccomp refused it new processes (threads only), so {self.config.limits.memory_mb} MB "
                     f"bounded all of its memory" if self.seccomp_filter else ""),
                  "Landlock: it could write files only in its own folders" + (
                      "" if self.memory is not None or not on_tmpfs(self.scratch) else
                      f" ({self.scratch.parent}, a tmpfs: bounded by its size only)")
                  if self.landlock else "no Landlock layer (it could write wherever its user may)"]
        missing = self.missing
        return "; ".join(layers) + (". MISSING guarantees: " + "; ".join(missing) + "." if missing else ".")


def secret_files(config_files) -> list[Path]:
    """The files student code must never read: the reference, the grading tests' inputs, the config."""
    return [SOURCE_DIR / "reference" / "two_layer_net.py", TESTS_DIR / "conftest.py", DEFAULT_CONFIG_PATH,
            *(Path(p) for p in config_files)]


def _refusal(missing: list[str]) -> str:
    return (f"refusing to grade: {missing[0]}; student code could read the config's secret, the reference and "
            "classmates' files. To grade anyway, knowing the risk: --unsafe-run-as-grader, or [sandbox] "
            "unsafe_run_as_grader = true.")


def runtime_not_installed(config: Config) -> str:
    """A warning for a local grading ("" if none): the [runtime] packages the config lets student code
    import that this machine lacks. A submission importing one fails here, where on Gradescope
    (setup.sh installs them) it would not."""
    missing = not_installed(config.runtime_packages)
    if not missing:
        return ""
    names = ", ".join(missing)
    return (f"[runtime] lets student code import {names}, not installed here: a submission importing it "
            f"fails here, though on Gradescope (setup.sh installs it) it would not. To grade as Gradescope "
            f"does, install it into this Python: pip install {names} (pinned in requirements-student.txt).")


def grade_submission(path: Path, config: Config, submission_id: str = "local",
                     config_files: list[Path] = (), keep_calls: bool = False, *,
                     diagnoser: DiagnoserFactory | None) -> GradingReport:
    """Grade one submission with a Grader of its own (see Grader.grade)."""
    with Grader(config, config_files, diagnoser=diagnoser) as grader:
        return grader.grade(path, submission_id, keep_calls)


def _stale_handout(folder: Path, stamp: str) -> str:
    """A note when the upload holds a selfcheck.py of another handout (read as text, never run)."""
    selfcheck = folder / "selfcheck.py"
    found = stamped(selfcheck) if selfcheck.is_file() and not selfcheck.is_symlink() else None
    if found is None or found == stamp:
        return ""
    return (f"Your upload holds a selfcheck.py from another version of the handout (fingerprint {found}; this "
            f"grader's is {stamp}): its public cases or tolerances differ from these. Download the current handout.")


def _import_failure(report: ImportReport, packages: tuple[str, ...]) -> str:
    lines = [f"Your file could not be imported, so no test could run: {report.message}"]
    missing = re.search(r"No module named '([^']+)'", report.message)
    if missing and missing.group(1).split(".")[0] not in ("two_layer_net", "honest"):
        lines.append(f"The package {missing.group(1).split('.')[0]!r} is not available on the grader: student code "
                     f"may import {', '.join(packages)} and Python's standard library. Remove the import "
                     "(and what uses it), or ask the course staff.")
    if report.details:
        lines.append(report.details)
    if report.stdout:
        lines.append("It printed:\n" + report.stdout)
    return "\n".join(lines)


def _by_test(first: list[CaseResult], then: list[CaseResult], tests: int) -> list[CaseResult]:
    """Two runs' results (each test's cases in a row, test after test) as one: test after test, each
    test's cases of the first run, then of the second."""
    a, b = len(first) // tests if tests else 0, len(then) // tests if tests else 0
    return [r for i in range(tests) for r in first[i * a:(i + 1) * a] + then[i * b:(i + 1) * b]]


def _observations(results: list[CaseResult], visible: list) -> dict[str, list[Observation]]:
    """Per part, the student's answers on the visible cases (what a Diagnoser explains)."""
    inputs = {case.id: case.inputs for case in visible}
    observed: dict[str, list[Observation]] = {}
    for r in results:
        if not r.hidden and r.expected is not None:
            observed.setdefault(r.part, []).append(Observation(r.case_id, inputs[r.case_id], r.received, r.expected,
                                                               r.passed))
    return observed


def _report(results, config: Config, started: float, status: str, notes: list[str],
            graded_file: str = "", log: str = "", isolation: str = "", explanations: dict | None = None,
            replay: Replay | None = None, stamp: str = "", missing: tuple[str, ...] = (),
            sandbox_uid: int | None = None) -> GradingReport:
    return GradingReport(score_tests(results, config, explanations), [n for n in notes if n],
                         time.monotonic() - started, status, graded_file, log, isolation, missing, tuple(results),
                         stamp, replay, sandbox_uid)
