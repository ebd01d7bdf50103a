"""Grade one submission: locate it, run the grading tests against it in the sandbox, score it.

This is the one grading path: run_autograder (Gradescope), `python -m autograder grade` and
batch grading all come through `Grader.grade` (`grade_submission` for a single one).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..config import DEFAULT_CONFIG_PATH, Config
from ..core.call import CRASH, OOM, TIMEOUT, Words
from ..core.cases import Case
from ..core.compare import Failure
from ..core.explain import Diagnoser, DiagnoserFactory, Observation
from ..sandbox.calls import Sandbox
from ..sandbox.host import Isolation, SandboxHost
from ..sandbox.runtime import importable_modules, not_installed
from ..sandbox.toplevel import NotebookError
from .casebook import CaseBook
from .fingerprint import stamped
from .imported import import_failure, toplevel_note
from .rubric import CaseResult, ScoredTest, complete, score_tests, summary
from .runner import NOT_RUN_REASON, Replay, plan_calls, run_grading_tests
from .submission import Located, locate, stage, uploaded_files

SOURCE_DIR = Path(__file__).absolute().parents[2]  # beside the package: reference/, tests/
TESTS_DIR = SOURCE_DIR / "tests"
# What student code must never see; bubblewrap covers these with empty mounts.
GRADER_FILES = [SOURCE_DIR / "autograder", SOURCE_DIR / "reference", TESTS_DIR, DEFAULT_CONFIG_PATH]
# The diagnostic calls of a submission may take as long as this many calls at their wall-clock
# limit (the CPU limit times wall_clock_factor, so a loaded machine explains as an idle one does).
DIAGNOSTIC_CALLS = 4


class Status(Words):
    """How a submission's grading went: the worst that happened (results.json's extra_data.status)."""

    OK = "ok"
    TIMEOUT = "timeout"  # a call ran out of time
    CRASH = "crash"  # a call crashed or ran out of memory
    IMPORT_ERROR = "import error"  # nothing could be called: the file (or notebook) could not be read
    NO_SUBMISSION = "no submission"
    GRADER_ERROR = "grader error"  # the grader itself failed on it (batch writes it; the score is 0)


@dataclass(frozen=True)
class GradingReport:
    tests: list[ScoredTest]
    notes: list[str]  # submission-wide messages: which file, import errors, import-time prints
    execution_time: float
    status: Status
    graded_file: str = ""
    log: str = ""  # for instructors only: tracebacks of errors in the grading tests themselves
    # for instructors: which layers held student code (None: there was no submission to run)
    isolation: Isolation | None = None
    results: tuple[CaseResult, ...] = ()  # every (part, case) verdict the tests were scored from
    fingerprint: str = ""  # of the cases, tolerances and conventions graded against (fingerprint.py)
    replay: Replay | None = field(default=None, compare=False, repr=False)  # Grader.grade(keep_calls=True)
    # Grader.grade(keep_calls=True): each hidden case's verdict with everything a visible one shows
    # (inputs, values, what the code said and printed), for the staff view only; None: not kept
    hidden_in_full: tuple[CaseResult, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def missing_guarantees(self) -> tuple[str, ...]:
        """The guarantees it was graded without."""
        return self.isolation.missing if self.isolation else ()

    @property
    def sandbox_uid(self) -> int | None:
        """Who student code ran as (None: the grader's own user, or nothing ran)."""
        return self.isolation.uid if self.isolation else None

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
    """Grades submissions one after another, sharing what needs no redoing: the sandbox's layers
    (host: the sandbox user, seccomp, the memory cgroup, Landlock, bubblewrap, the fork server),
    the grading tests and the cases (casebook), and the diagnoser.

    Nothing about a submission survives into the next: each gets fresh scratch folders, a fresh
    worker, its own hidden cases; the sandbox user's processes and files are removed after it.
    """

    def __init__(self, config: Config, config_files: list[Path] = (), scratch_parent: Path | None = None, *,
                 diagnoser: DiagnoserFactory | None):
        """config_files: where the config was read from, hidden from student code with the grader's files;
        scratch_parent: where to make the scratch folder (default: the system's temporary folder);
        diagnoser: makes what names the likely cause of a failing part (config.homework.diagnoser), when
        a part first fails; None: failing parts are graded without one."""
        self.config = config
        # what student code may import: the course's runtime, as Gradescope's image holds it, whatever
        # else this machine has installed (runtime.py)
        self.importable = importable_modules(config.student_packages)
        # Set up before this process has made a single case: the zygote is a fresh interpreter, but
        # nothing secret should exist anywhere while it starts.
        self.host = SandboxHost(config.limits, config.sandbox_user, config.bubblewrap,
                                GRADER_FILES + [Path(p).absolute() for p in config_files],
                                secret_files(config, config_files),
                                SOURCE_DIR, config.unsafe_run_as_grader, scratch_parent,
                                contract=config.homework.worker_contract)
        try:
            self.casebook = CaseBook(config)
        except BaseException:
            self.host.close()
            raise
        self._make_diagnoser = diagnoser
        self._diagnoser: Diagnoser | None = None  # made when a part first fails

    @property
    def isolation(self) -> Isolation:
        """Which layers hold student code, and the guarantees graded without (for instructors)."""
        return self.host.isolation

    def close(self) -> None:
        self.host.close()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cases(self, submission_id: str) -> list[Case]:
        """The visible cases, then the hidden ones of this submission id (CaseBook.cases)."""
        return self.casebook.cases(submission_id)

    def grade(self, path: Path, submission_id: str = "local", keep_calls: bool = False) -> GradingReport:
        """Grade the file or folder at `path`. Student code runs only inside the sandbox's worker.

        keep_calls: keep in the report how the tests ran (report.replay, to run them again) and every
        hidden case in full (report.hidden_in_full, for staff)."""
        config, host, book = self.config, self.host, self.casebook
        started = time.monotonic()
        deadline = started + config.limits.total_timeout
        cases = self.cases(submission_id)
        outcomes: dict = {}
        replay = None
        located = locate(path, config.homework.submission_file)
        report = partial(_report, config=config, started=started, stamp=book.stamp)
        if located.relative is None:
            results = complete([], cases, "not graded: no submission file", Failure.NOT_GRADED,
                               config.homework.part_ids)
            return report(results, status=Status.NO_SUBMISSION, notes=[located.error])
        report = partial(report, graded_file=str(located.relative), isolation=host.isolation)
        scratch = None
        try:
            scratch = host.new_scratch()
            try:
                staged = stage(located, scratch)
            except NotebookError as e:
                results = complete([], cases, "not graded: your notebook could not be read", Failure.NOT_GRADED,
                                   config.homework.part_ids)
                return report(results, status=Status.IMPORT_ERROR, notes=[str(e)])
            host.hand_over(scratch / "submission")
            visible, hidden = [c for c in cases if not c.hidden], [c for c in cases if c.hidden]
            with host.sandbox(staged.module, scratch / "run", deadline, self.importable) as sandbox:
                # planned while the worker imports; one reference for both (the replay reads it)
                plan = plan_calls(book.tests, visible, config, book.fixed)
                hidden_plan = plan_calls(book.tests, hidden, config, book.fixed, plan.reference)
                replay = Replay(cases, plan.reference, outcomes) if keep_calls else None
                imported = sandbox.import_report()
                notes = [located.note, *staged.notes, _stale_handout(scratch / "submission", book.stamp)]
                if not imported.ok:
                    if imported.unreadable_notebook:
                        why, failure = "notebook could not be read", imported.message
                    else:
                        why, failure = "file could not be imported", import_failure(
                            imported, config.student_packages, _own_modules(located))
                    results = complete([], cases, f"not graded: your {why}", Failure.NOT_GRADED,
                                       tuple(t.part for t in book.tests))  # (in the tests' order, as graded)
                    return report(results, status=Status.IMPORT_ERROR, notes=notes + [failure], replay=replay,
                                  hidden_in_full=() if keep_calls else None)
                if imported.toplevel:
                    notes.append(toplevel_note(imported.toplevel, str(located.relative), config.student_packages,
                                               _own_modules(located)))
                if imported.stdout:
                    notes.append("Your file printed this while being imported:\n" + imported.stdout)
                functions = config.homework.functions
                missing = [name for name in functions if name not in imported.functions]
                if len(missing) == len(functions):
                    notes.append(f"Your file defines none of the functions the autograder calls "
                                 f"({', '.join(functions)}).")
                elif missing:
                    notes.append(f"Not defined in your file: {', '.join(missing)}.")
                kept, in_full = (outcomes, []) if keep_calls else (None, None)
                # Everything shown before the due date comes from calls made before a hidden input reaches
                # the worker: the visible cases, then the diagnostic ones (the likely causes), then hidden.
                seen, log = run_grading_tests(book.tests, visible, sandbox, config, plan, kept)
                explanations = self._explain(seen, sandbox)
                unseen, hidden_log = run_grading_tests(book.tests, hidden, sandbox, config, hidden_plan, kept,
                                                       in_full=in_full)
                results = complete(_by_test(seen, visible, unseen, hidden, book.tests), cases, NOT_RUN_REASON,
                                   Failure.GRADER, config.homework.part_ids)
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
            status = Status.TIMEOUT if TIMEOUT in statuses else Status.CRASH if statuses & {CRASH, OOM} else Status.OK
            return report(results, status=status, notes=notes, log=log, explanations=explanations, replay=replay,
                          hidden_in_full=None if in_full is None else tuple(in_full))
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            host.tidy()  # (what the submission left in files is uncharged from the cgroup with them)

    def _explain(self, results: list[CaseResult], sandbox: Sandbox) -> dict:
        """What went wrong in each failing part, from its visible cases and, for those parts, the
        diagnostic cases: run only to explain, never scored, before any hidden input reaches the
        worker (so no likely cause can depend on one), and off the scored calls' clock (see
        Sandbox.unscored: their time and timeouts cost the hidden cases nothing)."""
        book = self.casebook
        observed = _observations(results, book.visible)
        failing = {part for part, seen in observed.items()
                   if any(not o.passed and o.received is not None for o in seen)}
        if not failing or self._make_diagnoser is None:
            return {}
        tests = tuple(t for t in book.tests if t.part in failing)
        limits = self.config.limits
        with sandbox.unscored(DIAGNOSTIC_CALLS * limits.call_timeout * limits.wall_clock_factor):
            extra, _ = run_grading_tests(tests, book.diagnostic, sandbox, self.config, fixed=book.fixed)
        for part, seen in _observations(extra, book.diagnostic).items():
            observed[part] += seen
        if self._diagnoser is None:  # (kept: it keeps what the fixed cases need)
            self._diagnoser = self._make_diagnoser(self.config)
        return self._diagnoser.explain(observed)


def secret_files(config: Config, config_files) -> list[Path]:
    """The files student code must never read: the homework's (its reference, what computes its answers),
    the config."""
    return [*config.homework.secret_files, DEFAULT_CONFIG_PATH, *(Path(p) for p in config_files)]


def runtime_not_installed(config: Config) -> str:
    """A warning for a local grading ("" if none): the packages student code may import (the homework's,
    the config's [runtime]) that this machine lacks. A submission importing one fails here, where on
    Gradescope (setup.sh installs them) it would not."""
    missing = not_installed(config.student_packages)
    if not missing:
        return ""
    names = ", ".join(missing)
    return (f"student code may import {names} ({config.homework.name}, [runtime]), not installed here: a "
            f"submission importing it "
            f"fails here, though on Gradescope (setup.sh installs it) it would not. To grade as Gradescope "
            f"does, install it into this Python: pip install {names} (pinned in requirements-student.txt).")


def grade_submission(path: Path, config: Config, submission_id: str = "local",
                     config_files: list[Path] = (), keep_calls: bool = False, *,
                     diagnoser: DiagnoserFactory | None) -> GradingReport:
    """Grade one submission with a Grader of its own (see Grader.grade)."""
    with Grader(config, config_files, diagnoser=diagnoser) as grader:
        return grader.grade(path, submission_id, keep_calls)


def _own_modules(located: Located) -> frozenset[str]:
    """The module names the upload itself provides: its .py files, and the graded file's."""
    files = [located.relative] if located.single_file else uploaded_files(located.root)
    return frozenset(Path(f).stem for f in files if f is not None and Path(f).suffix in (".py", ".ipynb"))


def _stale_handout(folder: Path, stamp: str) -> str:
    """A note when the upload holds a selfcheck.py of another handout (read as text, never run)."""
    selfcheck = folder / "selfcheck.py"
    found = stamped(selfcheck) if selfcheck.is_file() and not selfcheck.is_symlink() else None
    if found is None or found == stamp:
        return ""
    return (f"Your upload holds a selfcheck.py from another version of the handout (fingerprint {found}; this "
            f"grader's is {stamp}): its public cases or tolerances differ from these. Download the current handout.")


def _by_test(first: list[CaseResult], first_cases: list[Case], then: list[CaseResult], then_cases: list[Case],
             tests: tuple) -> list[CaseResult]:
    """Two runs' results (each test's cases in a row, test after test: runner.run_grading_tests) as one:
    test after test, each test's cases of the first run, then of the second."""
    out: list[CaseResult] = []
    i = j = 0
    for test in tests:
        a = sum(1 for case in first_cases if case.grades(test.part))
        b = sum(1 for case in then_cases if case.grades(test.part))
        out += first[i:i + a] + then[j:j + b]
        i, j = i + a, j + b
    return out


def _observations(results: list[CaseResult], visible: list) -> dict[str, list[Observation]]:
    """Per part, the student's answers on the visible cases (what a Diagnoser explains)."""
    inputs = {case.id: case.inputs for case in visible}
    observed: dict[str, list[Observation]] = {}
    for r in results:
        if not r.hidden and r.expected is not None:
            observed.setdefault(r.part, []).append(Observation(r.case_id, inputs[r.case_id], r.received, r.expected,
                                                               r.passed))
    return observed


def _report(results, *, config: Config, started: float, status: Status, notes: list[str], stamp: str,
            graded_file: str = "", log: str = "", isolation: Isolation | None = None,
            explanations: dict | None = None, replay: Replay | None = None,
            hidden_in_full: tuple[CaseResult, ...] | None = None) -> GradingReport:
    return GradingReport(score_tests(results, config, explanations), [n for n in notes if n],
                         time.monotonic() - started, status, graded_file, log, isolation, tuple(results),
                         stamp, replay, hidden_in_full)
