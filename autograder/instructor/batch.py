"""Grade a whole class: a folder or zip of submissions, or Gradescope's "Export Submissions".

Each submission goes through Grader.grade, the path run_autograder takes, in a pool of
processes, each with a Grader (and so a zygote and a leased sandbox user) of its own. Per submission,
results.json is written as soon as it is graded (atomically), so an interrupted batch loses
nothing; the cache (submission content + grader version) makes a re-run grade only what
changed. At the end: grades.csv (written atomically) and a self-contained HTML
report. One bad submission never stops the batch: a failure to grade it is its status.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Config
from ..core.parts import PART_IDS
from ..diagnosis import diagnoser_for
from ..escape import csv_cell, one_line, terminal
from ..grading.grade import Grader, Status, runtime_not_installed, secret_files
from ..grading.results import atomic_write_text, failure_results, report_to_results, write_results
from ..grading.submission import IGNORED, copy_upload
from ..sandbox.isolation import readable_by_others, running_as_root, unreadable_runtime_path
from ..sandbox.memcg import protect_from_oom
from ..sandbox.seccomp import available_filter
from .bundle import grading_files
from .report import write_report
from .whatif import Comparison, compare_rows, read_earlier

EXPORT_METADATA = "submission_metadata.yml"
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600  # what a batch writes: the instructor's alone
CACHE_KEY = "batch_cache_key"  # in results.json's extra_data: submission content + grader version


@dataclass(frozen=True)
class Entry:
    """One student's submission in the batch."""

    id: str  # unique in the batch; names its results file
    path: Path  # a file or a folder
    identity: dict[str, str] = field(default_factory=dict)  # name, email, sid (from an export)


# -- finding the submissions -------------------------------------------------------------------

def discover(input_path: Path, workdir: Path, warn=None, out: Path | None = None) -> list[Entry]:
    """The submissions in a folder, a zip of one, or a Gradescope export (folder or zip).

    The input is first copied (or extracted) into workdir/input, a folder the grader alone can
    read: each submission then reaches its worker only through its own scratch copy, and no
    student's code can read a classmate's submission where the instructor's folder is readable.
    Only the export's own submission_metadata.yml (at the top of the folder or zip, or of the
    zip's single top folder) is read: one a student uploaded inside a submission is just a file of
    that submission.
    warn(message) is told about what was left out; out (the batch's output folder), if it lies inside
    the input, is left out.
    """
    warn = warn or (lambda message: None)
    private = workdir / "input"
    private.mkdir(mode=0o700)
    if input_path.is_file() and zipfile.is_zipfile(input_path):
        _safe_extract(input_path, private, warn)
        input_path = _single_top_folder(private)
    elif input_path.is_dir():
        inside = out is not None and out.exists() and out.resolve().is_relative_to(input_path.resolve())
        if inside:
            warn(f"{input_path}: left out {out}, the batch's own output folder (--out), which lies inside it")
        for note in copy_upload(input_path, private / "class", leave_out=out if inside else None):
            warn(f"{input_path}: {note}")
        input_path = private / "class"
    else:
        raise ValueError(f"{input_path} is neither a folder nor a zip of submissions")
    metadata = input_path / EXPORT_METADATA
    if metadata.is_file() and not metadata.is_symlink():
        return _from_export(metadata)
    entries = []
    for child in sorted(input_path.iterdir()):
        if child.name in IGNORED or child.name.startswith("."):
            continue
        entries.append(Entry(_slug(child.stem if child.is_file() else child.name), child))
    return entries


def _check_found(input_path: Path, entries: list[Entry]) -> None:
    """Refuse an input with no submission, or one folder holding a whole class: an export unzipped a
    level too deep grades as one student's empty upload."""
    expected = ("expected one file or folder per student, or Gradescope's export (submission_metadata.yml "
                "beside submission_<id>/ folders)")
    if not entries:
        raise ValueError(f"{input_path}: no submission found: it is empty; {expected}")
    if len(entries) == 1 and entries[0].path.is_dir():
        inside = [p for p in entries[0].path.iterdir() if not p.name.startswith(".")]
        if (entries[0].path / EXPORT_METADATA).exists() or sum(p.is_dir() for p in inside) >= 2:
            raise ValueError(f"{input_path}: found one folder, {entries[0].path.name}/, holding "
                             f"{len(inside)} entries: one folder deeper? Try {input_path / entries[0].path.name} "
                             f"({expected})")


def _from_export(metadata: Path) -> list[Entry]:
    """Gradescope's export: submission_metadata.yml (Ruby-symbol keys) beside submission_<id>/ folders."""
    import yaml

    try:
        data = yaml.safe_load(metadata.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{metadata}: not readable YAML ({e})") from None
    entries = []
    for folder in sorted(p for p in metadata.parent.iterdir() if p.is_dir() and p.name.startswith("submission_")):
        info = data.get(folder.name) if isinstance(data, dict) else None
        submitters = (_get(info, "submitters") or []) if isinstance(info, dict) else []
        people = [s for s in submitters if isinstance(s, dict)]
        identity = {key: "; ".join(str(_get(p, key) or "") for p in people) for key in ("name", "email", "sid")}
        entries.append(Entry(folder.name.removeprefix("submission_"), folder, identity))
    return entries


def _get(mapping: dict, key: str):
    """A value under `key` or its Ruby-symbol spelling `:key`."""
    return mapping.get(key, mapping.get(f":{key}"))


def _safe_extract(archive: Path, target: Path, warn) -> None:
    """Extract a zip into target: a member whose path leads out of it refuses the whole zip; links
    and special files are left out (warn says which)."""
    root = target.resolve()
    with zipfile.ZipFile(archive) as zf:
        members = []
        for member in zf.infolist():
            try:
                (root / member.filename).resolve().relative_to(root)
            except ValueError:
                raise ValueError(f"{archive}: unsafe path in the zip: {member.filename}") from None
            kind = stat.S_IFMT(member.external_attr >> 16)
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                warn(f"{archive}: left out {member.filename} (a link or special file)")
                continue
            members.append(member)
        zf.extractall(target, members)


def _single_top_folder(folder: Path) -> Path:
    children = [c for c in folder.iterdir() if c.name not in IGNORED]
    return children[0] if len(children) == 1 and children[0].is_dir() else folder


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", name)[:100] or "submission"


# -- caching -----------------------------------------------------------------------------------

def grader_version(config_path: Path | None) -> str:
    """A hash of every grading file and the config: results cached under another version are stale."""
    digest = hashlib.sha256()
    for file, name in grading_files():
        if name == "grading.toml" and config_path is not None:
            file = config_path
        digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def submission_key(entry: Entry, version: str) -> str:
    digest = hashlib.sha256(version.encode() + b"\0" + entry.id.encode())
    files = [entry.path] if entry.path.is_file() else sorted(p for p in entry.path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(entry.path.parent)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


# -- grading -----------------------------------------------------------------------------------

# One Grader per pool process, made by _start_grader: its zygote, sandbox user and scratch folder
# serve every submission that process grades. Module-level because a pool process is the edge of
# this program; nothing else reads it.
_grader = None
_pool = {"grading": False, "parent": 0, "batch_tmp": None}  # this pool process's own bookkeeping


def _start_grader(config: Config, config_files: list[Path], scratch_parent: Path, parent: int) -> None:
    """Pool process initializer: a Grader of this process's own (its zygote, and as root a sandbox
    user no other grader holds)."""
    from multiprocessing.util import Finalize

    from ..sandbox.forkserver import die_with_parent

    global _grader
    # Ctrl-C, SIGTERM and SIGHUP are the parent's to handle: it stops this process with SIGTERM, which
    # unwinds whatever is being graded (the sandbox's cleanup runs) and leaves nothing written for it.
    # The same happens if the parent dies without a word (SIGKILL): the kernel sends the SIGTERM.
    _pool.update(parent=parent, batch_tmp=scratch_parent.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above
        os._exit(143)
    _grader = Grader(config, config_files, scratch_parent=scratch_parent, diagnoser=diagnoser_for)
    Finalize(_grader, _grader.close, exitpriority=10)  # runs when the pool shuts the process down


class _Stopped(BaseException):
    """The parent stopped this pool process (SIGTERM) in the middle of a submission."""


def _stop(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough (the pool may send another)
    if _pool["grading"]:
        raise _Stopped  # _grade_one unwinds the submission, then leaves
    _leave()


def _leave() -> None:
    """Close this process's grader and exit; if the batch's parent is gone, clear its temporary folder."""
    if _grader is not None:
        _grader.close()
    if os.getppid() != _pool["parent"]:
        shutil.rmtree(_pool["batch_tmp"], ignore_errors=True)
    os._exit(143)


def _grade_one(entry: Entry, results_path: Path, cache_key: str) -> None:
    """Grade in a pool process and write the results there (the parent only counts).

    Never raises for a submission: a grader failure is written as its status (without a cache key,
    so the next run tries again). Being stopped is the one exception: nothing is written then.
    """
    _pool["grading"] = True
    try:
        try:
            results = report_to_results(_grader.grade(entry.path, entry.id))
            # the cache key travels inside the results it stands for: one atomic write
            results["extra_data"][CACHE_KEY] = cache_key
        except _Stopped:
            raise
        except BaseException as e:  # noqa: BLE001 - the batch goes on
            results = failure_results(f"internal error ({type(e).__name__}: {e})")
            results["extra_data"] = {"status": Status.GRADER_ERROR}
        write_results(results_path, results, durable=False, mode=PRIVATE_FILE)
    except _Stopped:
        _leave()  # grade() and the writer have cleaned up (raising would only fail this task)
    finally:
        _pool["grading"] = False


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
    rows: list[dict]
    interrupted: bool = False
    comparison: Comparison | None = None  # against an earlier batch (--compare)


def _missing_guarantees(config: Config, config_path: Path | None) -> list[str]:
    """The sandbox guarantees this batch's gradings will lack, known before any student code runs (a
    Grader made for the question raises SandboxRefused where it would run as the grader). Every pool
    process is set up alike, so one answers for all. Made only where something can be missing (as root,
    with a Python the sandbox user can run, a seccomp filter and the grader's files closed, nothing is):
    it costs 150 ms."""
    if running_as_root() and unreadable_runtime_path(None) is None and available_filter() is not None and \
            readable_by_others(secret_files([config_path] if config_path else [])) is None:
        return []
    with Grader(config, [config_path] if config_path else [], diagnoser=None) as grader:  # (it grades nothing)
        return list(grader.isolation.missing)


def run_batch(input_path: Path, out: Path, config: Config, jobs: int | None = None,
              config_path: Path | None = None, progress: bool = True, compare: Path | None = None) -> BatchSummary:
    """Grade every submission under input_path into out/ (results/, grades.csv, report.html).

    compare: an earlier batch's out folder: whose scores change against it (whatif.py)."""
    earlier = read_earlier(compare) if compare is not None else None  # (before out/ may be written over)
    protect_from_oom()  # a student's hog must never take the class's grades.csv down with it

    def warn(message: str) -> None:
        print(f"warning: {terminal(message)}", file=sys.stderr)

    missing = _missing_guarantees(config, config_path)  # (or SandboxRefused) before any student code runs
    if missing:
        warn(f"the sandbox is incomplete. MISSING guarantees: {'; '.join(missing)}.")
    if gap := runtime_not_installed(config):
        warn(gap)
    # Private: the class's results and names are the instructor's alone, and unreachable by student
    # code (a later submission must not read an earlier classmate's). A folder of the instructor's
    # own is left as it is; every file in it is 0600.
    if not out.exists():
        out.mkdir(parents=True, mode=PRIVATE_FOLDER)
        os.chmod(out, PRIVATE_FOLDER)
    (out / "results").mkdir(exist_ok=True)
    os.chmod(out / "results", PRIVATE_FOLDER)
    with tempfile.TemporaryDirectory(prefix="autograder-batch-", ignore_cleanup_errors=True) as tmp:
        entries = discover(Path(input_path), Path(tmp), warn=warn, out=out)
        _check_found(Path(input_path), entries)
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            raise ValueError("two submissions have the same name once made file-safe; rename one")
        version = grader_version(config_path)
        keys = {e.id: submission_key(e, version) for e in entries}
        paths = {e.id: out / "results" / f"{e.id}.json" for e in entries}
        # (cache key, CSV row) of each results file there is, read once; the documents are not kept
        # (a class's outputs add up to hundreds of MB)
        done = {e.id: _summary(e, paths[e.id]) for e in entries if paths[e.id].exists()}
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
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_grader,
                                   initargs=(config, config_files, scratch, os.getpid()))
        try:
            pending = {pool.submit(_grade_one, e, paths[e.id], keys[e.id]): e for e in todo}
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
        done.update({e.id: _summary(e, paths[e.id]) for e in todo if paths[e.id].exists()})
        rows = [done[e.id][1] for e in entries if e.id in done]
        comparison = compare_rows(earlier, rows, compare) if earlier is not None else None
        if not interrupted:
            _write_csv(out / "grades.csv", rows)
            write_report(out / "report.html", rows, config, comparison)
    if interrupted:  # pool processes may have finished a submission or two after the parent stopped counting
        graded = sum(done.get(e.id, (None,))[0] == keys[e.id] for e in todo)
    return BatchSummary(graded, len(entries) - len(todo), rows, interrupted, comparison)


def _summary(entry: Entry, path: Path) -> tuple[str | None, dict]:
    """(the cache key stored in a results file, its CSV row)."""
    results = _read_json(path)
    return _cached_key(results), _row(entry, results)


def _row(entry: Entry, results: dict) -> dict:
    parts = {pid: 0.0 for pid in PART_IDS}
    for test in results.get("tests", []):
        for tag in test.get("tags", []):
            if tag in parts:
                parts[tag] += test.get("score", 0.0)
    extra = results.get("extra_data", {})
    return {
        "submission_id": entry.id, "name": entry.identity.get("name", ""), "email": entry.identity.get("email", ""),
        "sid": entry.identity.get("sid", ""), "status": extra.get("status", Status.GRADER_ERROR),
        "total": results.get("score", 0.0),
        "max": round(sum(t.get("max_score", 0) for t in results.get("tests", [])), 4),
        "seconds": results.get("execution_time", 0.0), "mistakes": extra.get("mistakes", {}),
        "isolation": extra.get("isolation", ""), "fingerprint": extra.get("fingerprint", ""),
        "missing_guarantees": [m for m in extra.get("missing_guarantees", []) if isinstance(m, str)],
        **{f"part:{pid}": round(v, 4) for pid, v in parts.items()},
    }


CSV_COLUMNS = ["submission_id", "name", "email", "sid", "status", "total", "max", "seconds",
               *[f"part:{pid}" for pid in PART_IDS]]


def _write_csv(path: Path, rows: list[dict]) -> None:
    """grades.csv, written to a temporary file and renamed: never half-written. Every text cell goes
    through escape.csv_cell (names, emails and ids are the students' own: `=HYPERLINK(...)` must
    stay text in a spreadsheet); numbers are written as numbers."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows)
    atomic_write_text(path, buffer.getvalue(), mode=PRIVATE_FILE)


def _cached_key(results) -> str | None:
    """The cache key a batch stored in results it wrote (None for anything else, or no results)."""
    extra = results.get("extra_data") if isinstance(results, dict) else None
    return extra.get(CACHE_KEY) if isinstance(extra, dict) else None


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


