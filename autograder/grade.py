"""Grade one submission: locate it, run the grading tests against it in the sandbox, score it.

This is the one grading path: run_autograder (Gradescope), `python -m autograder grade` and later
batch grading all come through `grade_submission`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import bubblewrap
from .cases import hidden_cases, visible_cases
from .config import DEFAULT_CONFIG_PATH, Config
from .isolation import choose_user, give_to, remove_files_of
from .notebook import NotebookError
from .parts import FUNCTIONS
from .rubric import ScoredTest, complete, part_summary, score_tests
from .sandbox import CRASH, OOM, TIMEOUT, ImportReport, Sandbox
from .seccomp import available_filter
from .submission import locate, stage

SOURCE_DIR = Path(__file__).absolute().parent.parent
TESTS_DIR = SOURCE_DIR / "tests"
# What student code must never see; bubblewrap covers these with empty mounts.
GRADER_FILES = [SOURCE_DIR / "autograder", SOURCE_DIR / "reference", TESTS_DIR, DEFAULT_CONFIG_PATH]
# pytest's built-in plugins the grading tests do not use; each costs time on every test item.
UNUSED_PYTEST_PLUGINS = [
    arg
    for name in ("terminal", "capture", "skipping", "logging", "warnings", "faulthandler", "junitxml", "pastebin",
                 "doctest", "unittest", "legacypath", "tmpdir", "monkeypatch", "recwarn", "setuponly", "setupplan",
                 "stepwise", "cacheprovider", "threadexception", "unraisableexception", "debugging")
    for arg in ("-p", f"no:{name}")
]


@dataclass(frozen=True)
class GradingReport:
    tests: list[ScoredTest]
    notes: list[str]  # submission-wide messages: which file, import errors, import-time prints
    execution_time: float
    status: str  # ok | timeout | crash | import error | no submission (the worst that happened)
    graded_file: str = ""
    log: str = ""  # for instructors only (pytest's own report when something went wrong)
    isolation: str = ""  # for instructors: which protections were active

    @property
    def output(self) -> str:
        """The top-level message for the student: the notes, then the score by part."""
        summary = [f"Total: {self.score:g}/{self.max_score:g}. Score by part:"]
        for title, score, max_score, mistakes in part_summary(self.tests):
            summary.append(f"  {title}: {score:.3g}/{max_score:g}" + (f" (likely: {mistakes})" if mistakes else ""))
        if any(t.hidden for t in self.tests):
            summary.append("Hidden cases run on random inputs; their results may be shown later.")
        return "\n\n".join(["\n".join(summary)] + self.notes)  # what a student reads first, then the notes

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 4)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 4)


def grade_submission(path: Path, config: Config, submission_id: str = "local",
                     config_files: list[Path] = ()) -> GradingReport:
    """Grade the file or folder at `path`. Student code runs only inside the sandbox's worker.

    config_files: where the config was read from, to hide it from student code with the grader's files.
    """
    started = time.monotonic()
    deadline = started + config.limits.total_timeout
    cases = visible_cases() + hidden_cases(config.secret, submission_id, config.hidden_cases)
    located = locate(path)
    if located.relative is None:
        results = complete([], cases, "not graded: no submission file")
        return _report(results, config, started, "no submission", [located.error])

    user, missing = choose_user(config.sandbox_user)
    network_filter = available_filter()
    if network_filter is None:
        missing.append("network access is not blocked (no seccomp filter on this machine)")
    scratch = Path(tempfile.mkdtemp(prefix="autograder-"))
    try:
        os.chmod(scratch, 0o711)  # traversable by the sandbox user, not listable
        wrapper = bubblewrap.wrapper(scratch, GRADER_FILES + [Path(p).absolute() for p in config_files], user) \
            if config.bubblewrap == "auto" else None
        layers = [f"student code ran as the unprivileged user {user.name} (uid {user.uid})" if user else
                  "student code ran as the grader's own user",
                  "seccomp refused it network sockets" if network_filter else "network open",
                  "bubblewrap: no network, read-only files, private /tmp, grader files hidden" if wrapper else
                  "no bubblewrap layer"]
        isolation = "; ".join(layers) + (". MISSING guarantees: " + "; ".join(missing) + "." if missing else ".")
        try:
            module = stage(located, scratch, config.limits.import_timeout)
        except NotebookError as e:
            results = complete([], cases, "not graded: your notebook could not be read")
            return _report(results, config, started, "import error", [str(e)], str(located.relative),
                           isolation=isolation)
        give_to(user, scratch / "submission")
        with Sandbox(module, scratch / "run", config.limits, deadline, user, network_filter, wrapper) as sandbox:
            import pytest  # noqa: F401  (loads while the worker imports numpy and the submission)

            report = sandbox.import_report()
            notes = [located.note] if located.note else []
            if not report.ok:
                results = complete([], cases, "not graded: your file could not be imported")
                return _report(results, config, started, "import error", notes + [_import_failure(report)],
                               str(located.relative), isolation=isolation)
            if report.stdout:
                notes.append("Your file printed this while being imported:\n" + report.stdout)
            missing = [name for name in FUNCTIONS if name not in report.functions]
            if len(missing) == len(FUNCTIONS):
                notes.append(f"Your file defines none of the functions the autograder calls ({', '.join(FUNCTIONS)}).")
            elif missing:
                notes.append(f"Not defined in your file: {', '.join(missing)}.")
            results, log = _run_tests(config, cases, sandbox)
            fd_output = sandbox.worker_output()
        if fd_output:
            notes.append("Output written directly to the process's stdout/stderr:\n" + fd_output)
        statuses = {r.call_status for r in results}
        status = "timeout" if TIMEOUT in statuses else "crash" if statuses & {CRASH, OOM} else "ok"
        return _report(results, config, started, status, notes, str(located.relative), log, isolation)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        remove_files_of(user)



def _run_tests(config: Config, cases: list, sandbox: Sandbox) -> tuple[list, str]:
    """Run the grading tests in tests/ with our plugin; return every (part, case) verdict and pytest's log."""
    import pytest

    from .plugin import GradingPlugin

    plugin = GradingPlugin(config, cases, sandbox)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only our plugin: nothing installed can interfere
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        exit_code = pytest.main(
            [str(TESTS_DIR), "-c", str(TESTS_DIR / "pytest.ini"), "--rootdir", str(TESTS_DIR),
             *UNUSED_PYTEST_PLUGINS],
            plugins=[plugin])
    results = complete(plugin.case_results(), cases, "internal grader error: this check did not run")
    keep_log = exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    return results, log.getvalue()[-20000:] if keep_log else ""


def _import_failure(report: ImportReport) -> str:
    lines = [f"Your file could not be imported, so no test could run: {report.message}"]
    if report.details:
        lines.append(report.details)
    if report.stdout:
        lines.append("It printed:\n" + report.stdout)
    return "\n".join(lines)


def _report(results, config: Config, started: float, status: str, notes: list[str],
            graded_file: str = "", log: str = "", isolation: str = "") -> GradingReport:
    return GradingReport(score_tests(results, config), [n for n in notes if n], time.monotonic() - started,
                         status, graded_file, log, isolation)
