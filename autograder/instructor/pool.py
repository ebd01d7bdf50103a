"""The pool processes of a batch: each grades submissions with a Grader of its own.

Each process's Grader (its zygote, and as root a sandbox user no other grader holds) serves every
submission that process grades; it writes each submission's results.json itself, atomically, so
the parent only counts and an interrupted batch loses nothing. Ctrl-C, SIGTERM and SIGHUP are the
parent's: it stops these processes with SIGTERM, which unwinds the submission at hand.
"""

from __future__ import annotations

import os
import shutil
import signal
from multiprocessing.util import Finalize
from pathlib import Path

from ..config import Config
from ..grading.grade import Grader, Status
from ..grading.limits import attempts, within_limits
from ..grading.results import failure_results, report_to_results, write_results
from ..sandbox.forkserver import die_with_parent
from .cache import CACHE_KEY
from .intake import Entry
from .integrity import source_print
from .rows import PRIVATE_FILE, SOURCE_KEY, from_results
from .student_page import page_path, write_student_page

# One Grader per pool process, made by _start_grader: its zygote, sandbox user and scratch folder
# serve every submission that process grades. Module-level because a pool process is the edge of
# this program; nothing else reads it.
_grader = None
_pool = {"grading": False, "parent": 0, "batch_folders": ()}  # this pool process's own bookkeeping


def start_grader(config: Config, config_files: list[Path], scratch_parent: Path, parent: int,
                 class_copy: Path) -> None:
    """Pool process initializer: a Grader of this process's own (its zygote, and as root a sandbox
    user no other grader holds). The batch's folders (its temporary folder, scratch_parent's, and
    the class's copy) are removed by a pool process that outlives the batch's process."""
    global _grader
    # Ctrl-C, SIGTERM and SIGHUP are the parent's to handle: it stops this process with SIGTERM, which
    # unwinds whatever is being graded (the sandbox's cleanup runs) and leaves nothing written for it.
    # The same happens if the parent dies without a word (SIGKILL): the kernel sends the SIGTERM.
    _pool.update(parent=parent, batch_folders=(scratch_parent.parent, class_copy))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above
        os._exit(143)
    _grader = Grader(config, config_files, scratch_parent=scratch_parent, diagnoser=config.homework.diagnoser)
    Finalize(_grader, _grader.close, exitpriority=10)  # runs when the pool shuts the process down


class _Stopped(BaseException):
    """The parent stopped this pool process (SIGTERM) in the middle of a submission."""


def _stop(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough (the pool may send another)
    if _pool["grading"]:
        raise _Stopped  # _grade_one unwinds the submission, then leaves
    _leave()


def _leave() -> None:
    """Close this process's grader and exit; if the batch's parent is gone, clear its folders."""
    if _grader is not None:
        _grader.close()
    if os.getppid() != _pool["parent"]:
        for folder in _pool["batch_folders"]:
            shutil.rmtree(folder, ignore_errors=True)
    os._exit(143)


def grade_one(entry: Entry, results_path: Path, cache_key: str) -> None:
    """Grade in a pool process and write the results there (the parent only counts).

    Never raises for a submission: a grader failure is written as its status (without a cache key,
    so the next run tries again). Being stopped is the one exception: nothing is written then.
    """
    _pool["grading"] = True
    try:
        try:
            found = attempts(_grader.config.submissions, entry.metadata) if entry.metadata is not None else None
            results = within_limits(found, lambda: report_to_results(_grader.grade(entry.path, entry.id)),
                                    lambda: _grader.casebook.visible)
            # the cache key travels inside the results it stands for: one atomic write; so does what
            # the class's integrity signals compare of the source (made here, in parallel)
            results["extra_data"][CACHE_KEY] = cache_key
            results["extra_data"][SOURCE_KEY] = source_print(entry.path, _grader.config.homework.submission_file)
        except _Stopped:
            raise
        except BaseException as e:  # noqa: BLE001 - the batch goes on
            results = failure_results(f"internal error ({type(e).__name__}: {e})")
            results["extra_data"] = {"status": Status.GRADER_ERROR}
        write_results(results_path, results, durable=False, mode=PRIVATE_FILE)
        row = from_results(entry.id, entry.submitters, results, _grader.config.homework.part_ids)
        write_student_page(page_path(results_path), row, results)
    except _Stopped:
        _leave()  # grade() and the writer have cleaned up (raising would only fail this task)
    finally:
        _pool["grading"] = False
