"""One submission's line in a class's grades: the type grades.csv, the report and the what-if share.

A Row is made from a results.json a batch wrote (from_results) or read back from an earlier
batch's grades.csv (read_csv, for --compare); grades.csv is written here only (write_csv), every
text cell through escape.csv_cell.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..escape import csv_cell
from ..grading.grade import Status
from ..grading.results import atomic_write_text
from .intake import Submitter

PRIVATE_FILE = 0o600  # what a batch writes: the instructor's alone
SOURCE_KEY = "batch_source"  # in results.json's extra_data, written by a batch: integrity.source_print
# grades.csv's columns: the row's fields, then one per part ("part:<id>": its points), then "mistakes"
ROW_COLUMNS = ["submission_id", "name", "email", "sid", "status", "total", "max", "seconds"]
PART_COLUMN = "part:"


@dataclass(frozen=True)
class Row:
    submission_id: str
    name: str = ""  # name, email and sid: the submitters' (an export's), "; " between several, for display
    email: str = ""
    sid: str = ""
    status: str = Status.GRADER_ERROR  # a grading.grade.Status's words
    total: float = 0.0
    max: float = 0.0
    seconds: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)  # part id -> its points (every part of the homework)
    # not in grades.csv (a row read back from one has them empty):
    mistakes: dict[str, list[str]] = field(default_factory=dict)  # part id -> the ids of what was named
    causes: dict[str, str] = field(default_factory=dict)  # part id -> the likely cause named, in a few words
    failures: dict[str, str] = field(default_factory=dict)  # part id -> its first failure, in the grader's words
    # part id -> case id -> its answer on each visible case (a failing part's; results.visible_answers)
    answers: dict[str, dict] = field(default_factory=dict)
    isolation: str = ""
    fingerprint: str = ""
    missing_guarantees: tuple[str, ...] = ()
    submitters: tuple[Submitter, ...] = ()  # each person (grades.csv has a line for each)
    source: dict = field(default_factory=dict)  # what integrity.same_sources compares (batch_source)


def from_results(submission_id: str, submitters: tuple[Submitter, ...], results: dict,
                 part_ids: tuple[str, ...]) -> Row:
    """The row of a results.json document (as written: nothing in it is trusted to be well formed) and of
    the people who submitted it; part_ids: the homework's (each part a column, 0 where no test has its tag)."""
    parts = {pid: 0.0 for pid in part_ids}
    tests = [t for t in _list(results.get("tests")) if isinstance(t, dict)]
    for test in tests:
        for tag in _list(test.get("tags")):
            if tag in parts:
                parts[tag] += _number(test.get("score"))
    extra = _dict(results.get("extra_data"))
    status = extra.get("status")
    return Row(
        submission_id, *_joined(submitters), status if isinstance(status, str) else Status.GRADER_ERROR,
        _number(results.get("score")), round(sum(_number(t.get("max_score")) for t in tests), 4),
        _number(results.get("execution_time")), {pid: round(v, 4) for pid, v in parts.items()},
        _dict(extra.get("mistakes")), _dict(extra.get("causes")), _first_failures(tests), _dict(extra.get("answers")),
        str(extra.get("isolation") or ""), str(extra.get("fingerprint") or ""),
        tuple(m for m in _list(extra.get("missing_guarantees")) if isinstance(m, str)), tuple(submitters),
        _dict(extra.get(SOURCE_KEY)))


def _joined(submitters) -> tuple[str, str, str]:
    """Name, email and sid for display: each submitter's, "; " between them."""
    return tuple("; ".join(getattr(s, key) for s in submitters) for key in ("name", "email", "sid"))


def _first_failures(tests: list[dict]) -> dict[str, str]:
    """Per part, the first failure line of its first failing test (the visible one, if it fails)."""
    out: dict[str, str] = {}
    for test in tests:
        extra = test.get("extra_data") if isinstance(test.get("extra_data"), dict) else {}
        failures = extra.get("failures")
        tags = _list(test.get("tags"))
        if tags and isinstance(failures, list) and failures and isinstance(failures[0], str):
            out.setdefault(str(tags[0]), failures[0][:300])
    return out


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def write_spreadsheet(path: Path, header: list[str], lines: list[list]) -> None:
    """A CSV the instructor opens in a spreadsheet, written to a temporary file and renamed: never
    half-written. UTF-8 with a byte-order mark, which Excel needs to read names' accents as UTF-8 (and
    Python's csv reads as "utf-8-sig"); every text cell goes through escape.csv_cell (names, emails and
    ids are the students' own: `=HYPERLINK(...)` must stay text); numbers are written as numbers."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for cells in lines:
        writer.writerow([csv_cell(v) if isinstance(v, str) else v for v in cells])
    atomic_write_text(path, buffer.getvalue(), mode=PRIVATE_FILE)


def write_csv(path: Path, rows: list[Row], part_ids: tuple[str, ...], mistakes: dict[str, str] | None = None) -> None:
    """grades.csv: a line per student (write_spreadsheet), a column per part of `part_ids` (the homework's).
    A group submission gives each of its submitters a line of their own, with the group's submission id
    and scores (a gradebook is keyed by student); a submission no export names gives one line with empty
    name, email and sid. mistakes: submission id -> its mistakes in a few words
    (groups.mistakes_by_student), the last column."""
    mistakes = mistakes or {}
    header = ROW_COLUMNS + [PART_COLUMN + pid for pid in part_ids] + ["mistakes"]
    write_spreadsheet(path, header, [
        [r.submission_id, person.name, person.email, person.sid, str(r.status), r.total, r.max, r.seconds,
         *(r.parts.get(pid, 0.0) for pid in part_ids), mistakes.get(r.submission_id, "")]
        for r in rows for person in r.submitters or [Submitter()]])


def read_csv(path: Path, part_ids: tuple[str, ...]) -> list[Row]:
    """The rows of a grades.csv (an earlier batch's, with a byte-order mark or without): a row per
    submission, its lines (one per submitter) joined; a missing or unreadable number reads as 0, and so
    does a part of `part_ids` (the homework's) the file has no column for."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    people: dict[str, list[Submitter]] = {}
    for line in lines:
        person = Submitter(line.get("name") or "", line.get("email") or "", line.get("sid") or "")
        people.setdefault(line.get("submission_id") or "", []).append(person)
    rows: dict[str, Row] = {}
    for r in lines:
        sid = r.get("submission_id") or ""
        submitters = tuple(p for p in people[sid] if p != Submitter())
        rows.setdefault(sid, Row(sid, *_joined(submitters), r.get("status") or "", _number(r.get("total")),
                                 _number(r.get("max")), _number(r.get("seconds")),
                                 {pid: _number(r.get(PART_COLUMN + pid)) for pid in part_ids}, submitters=submitters))
    return list(rows.values())


def _number(value) -> float:
    """A number read from a file (a CSV cell, a JSON value): anything else, or not finite, reads as 0."""
    if isinstance(value, bool):
        return 0.0
    try:
        number = float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0
