"""Grade a whole class: a folder or zip of submissions, or Gradescope's "Export Submissions".

The submissions are found (intake.py), those whose content and grader changed since the last run
(cache.py) go through Grader.grade, the path run_autograder takes, in a pool of processes, each
with a Grader (and so a zygote and a leased sandbox user) of its own (pool.py). Per submission,
results.json is written as soon as it is graded (atomically), so an interrupted batch loses
nothing. At the end: a row per submission (rows.py), grades.csv (written atomically), the wrong
answers several students share (groups.py: mistakes.csv) and a self-contained HTML report
(report.py). One bad submission never stops the batch: a failure to grade it is its status.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..escape import one_line, terminal
from ..grading.grade import Grader, runtime_not_installed, secret_files
from ..sandbox.isolation import on_tmpfs, readable_by_others, running_as_root, unreadable_runtime_path
from ..sandbox.memcg import protect_from_oom
from ..sandbox.seccomp import available_filter
from .cache import cached_key, grader_version, submission_key
from .groups import MistakeGroup, mistake_groups, mistakes_by_student, write_mistakes_csv
from .insight import Insight
from .intake import Entry, check_found, discover, input_bytes
from .integrity import rare_answers, same_sources, source_print
from .items import hard_parts
from .pool import grade_one, start_grader
from .report import write_report
from .rows import Row, from_results, write_csv
from .student_page import page_path, write_student_page
from .whatif import Comparison, compare_rows, read_earlier

PRIVATE_FOLDER = 0o700  # what a batch writes: the instructor's alone (its files: rows.PRIVATE_FILE)
CLASS_COPY_PREFIX = "autograder-class-"  # then the batch's pid: the folder its input is copied into
MEMORY_FOLDER, _MEMORY_SPARE = "/dev/shm", 1 << 30  # a class's copy goes there if this much stays free


@dataclass
class Progress:
    """A one-line progress bar on stderr: count, rate, time left."""

    total: int
    stream: object = sys.stderr
    started: float = field(default_factory=time.monotonic)
    done: int = 0

    def advance(self, label: str = "") -> None:
        self.done += 1
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else 0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        line = (f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{rate:5.1f}/s  {int(left) // 60}:{int(left) % 60:02d} left  {one_line(label)[:30]:<30}")
        self.stream.write(line)
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


@dataclass
class BatchSummary:
    graded: int
    cached: int
    rows: list[Row]
    interrupted: bool = False
    comparison: Comparison | None = None  # against an earlier batch (--compare)
    groups: list[MistakeGroup] = field(default_factory=list)  # wrong answers several students share
    insight: Insight = field(default_factory=Insight)  # parts nearly everyone fails; staff-only signals


def _missing_guarantees(config: Config, config_path: Path | None) -> list[str]:
    """The sandbox guarantees this batch's gradings will lack, known before any student code runs (a
    Grader made for the question raises SandboxRefused where it would run as the grader). Every pool
    process is set up alike, so one answers for all. Made only where something can be missing (as root,
    with a Python the sandbox user can run, a seccomp filter and the grader's files closed, nothing is):
    it costs 150 ms."""
    if running_as_root() and unreadable_runtime_path(None) is None and available_filter() is not None and \
            readable_by_others(secret_files(config, [config_path] if config_path else [])) is None:
        return []
    with Grader(config, [config_path] if config_path else [], diagnoser=None) as grader:  # (it grades nothing)
        return list(grader.isolation.missing)


def run_batch(input_path: Path, out: Path, config: Config, jobs: int | None = None,
              config_path: Path | None = None, progress: bool = True, compare: Path | None = None) -> BatchSummary:
    """Grade every submission under input_path into out/ (results/, grades.csv, report.html).

    compare: an earlier batch's out folder: whose scores change against it (whatif.py)."""
    # (read before out/ may be written over)
    earlier = read_earlier(compare, config.homework.part_ids) if compare is not None else None
    protect_from_oom()  # a student's hog must never take the class's grades.csv down with it

    def warn(message: str) -> None:
        print(f"warning: {terminal(message)}", file=sys.stderr)

    missing = _missing_guarantees(config, config_path)  # (or SandboxRefused) before any student code runs
    if missing:
        warn(f"the sandbox is incomplete. MISSING guarantees: {'; '.join(missing)}.")
    if gap := runtime_not_installed(config):
        warn(gap)
    copy_home = class_copy_home(Path(input_path))
    with tempfile.TemporaryDirectory(prefix="autograder-batch-", ignore_cleanup_errors=True) as tmp, \
            tempfile.TemporaryDirectory(prefix=f"{CLASS_COPY_PREFIX}{os.getpid()}-", dir=copy_home,
                                        ignore_cleanup_errors=True) as class_copy:
        entries = discover(Path(input_path), Path(class_copy), warn=warn, out=out)
        check_found(Path(input_path), entries)
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            raise ValueError("two submissions have the same name once made file-safe; rename one")
        # Only now, with submissions to grade, is out/ made (a refused input leaves no empty folder).
        # Private: the class's results and names are the instructor's alone, and unreachable by student
        # code (a later submission must not read an earlier classmate's). A folder of the instructor's
        # own is left as it is; every file in it is 0600.
        if not out.exists():
            out.mkdir(parents=True, mode=PRIVATE_FOLDER)
            os.chmod(out, PRIVATE_FOLDER)
        for folder in ("results", "students"):
            (out / folder).mkdir(exist_ok=True)
            os.chmod(out / folder, PRIVATE_FOLDER)
        version = grader_version(config_path)
        keys = {e.id: submission_key(e, version) for e in entries}
        paths = {e.id: out / "results" / f"{e.id}.json" for e in entries}
        # (cache key, CSV row) of each results file there is, read once; the documents are not kept
        # (a class's outputs add up to hundreds of MB)
        done = {e.id: _summary(e, paths[e.id], config.homework.part_ids) for e in entries if paths[e.id].exists()}
        todo = [e for e in entries if done.get(e.id, (None,))[0] != keys[e.id]]
        bar = Progress(len(todo)) if progress and todo else None
        graded, interrupted = 0, False
        config_files = [config_path] if config_path else []
        workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        # Forked pool processes start at once, numpy already loaded (before any thread exists: the pool
        # forks them all up front). macOS: its BLAS is not fork-safe, so they start afresh there.
        context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        scratch = Path(tmp) / "scratch"  # removed with tmp, whatever happens to the pool processes
        scratch.mkdir()
        os.chmod(tmp, 0o711)
        os.chmod(scratch, 0o711)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=start_grader,
                                   initargs=(config, config_files, scratch, os.getpid(), Path(class_copy)))
        try:
            pending = {pool.submit(grade_one, e, paths[e.id], keys[e.id]): e for e in todo}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    entry = pending.pop(future)
                    future.result()  # re-raises what stopped the pool process (Ctrl-C)
                    graded += 1
                    if bar:
                        bar.advance(entry.id)
        except (KeyboardInterrupt, BrokenProcessPool):
            interrupted = True
            for process in multiprocessing.active_children():  # the pool's: stop them mid-submission
                process.terminate()
        finally:
            # wait for the pool either way: its processes must be gone before their scratch folders go
            pool.shutdown(wait=True, cancel_futures=True)
            if bar:
                bar.finish()
        done.update({e.id: _summary(e, paths[e.id], config.homework.part_ids) for e in todo if paths[e.id].exists()})
        rows = [done[e.id][1] for e in entries if e.id in done]
        comparison = compare_rows(earlier, rows, compare) if earlier is not None else None
        groups = mistake_groups(rows, {pid: p.tolerance for pid, p in config.parts.items()}, config.conventions,
                                config.homework)
        insight = Insight(hard_parts(rows, config), rare_answers(groups, rows),
                          same_sources(rows, _handed_out(config, Path(tmp) / "handout")))
        if not interrupted:
            part_ids = config.homework.part_ids
            write_csv(out / "grades.csv", rows, part_ids, mistakes_by_student(rows, groups, part_ids))
            write_mistakes_csv(out / "mistakes.csv", groups, rows)
            write_report(out / "report.html", rows, config, comparison, groups, insight)
    if interrupted:  # pool processes may have finished a submission or two after the parent stopped counting
        graded = sum(done.get(e.id, (None,))[0] == keys[e.id] for e in todo)
    return BatchSummary(graded, len(entries) - len(todo), rows, interrupted, comparison, groups, insight)


def class_copy_home(input_path: Path) -> str | None:
    """Where to copy the class (intake.discover): a tmpfs (/dev/shm) with room for twice its size,
    else the system's temporary folder (None). Student code never writes there (each submission is
    staged from it, as a single grading stages its upload); on a disk, writing a class's thousand
    small files and deleting them after took about a twentieth of a batch's time."""
    try:
        free = os.statvfs(MEMORY_FOLDER)
    except OSError:
        return None
    free_bytes = free.f_bavail * free.f_frsize
    if free_bytes < _MEMORY_SPARE or not on_tmpfs(Path(MEMORY_FOLDER)):  # (then the input is not walked)
        return None
    return MEMORY_FOLDER if free_bytes >= 2 * input_bytes(input_path) + _MEMORY_SPARE else None


def _handed_out(config: Config, folder: Path) -> list[str | None]:
    """The handout's files as a submission of them would be compared (integrity.source_print); none
    where the handout's source is not here (a Gradescope root: its zip holds no handout)."""
    folder.mkdir()
    try:
        files = config.homework.handout_files(config)
    except FileNotFoundError:
        return []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [source_print(folder / name, config.homework.submission_file) for name in files]


def _summary(entry: Entry, path: Path, part_ids: tuple[str, ...]) -> tuple[str | None, Row]:
    """(the cache key stored in a results file, its row); the submission's page (students/<id>.html)
    is written from the same reading where it is missing or older than the results."""
    results = _read_json(path)
    results = results if isinstance(results, dict) else {}
    row = from_results(entry.id, entry.submitters, results, part_ids)
    page = page_path(path)
    if not page.exists() or page.stat().st_mtime < path.stat().st_mtime:  # (written with the results, as a rule)
        write_student_page(page, row, results)
    return cached_key(results), row


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


