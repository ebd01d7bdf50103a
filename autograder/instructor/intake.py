"""Finding a class's submissions: a folder, a zip of one, or Gradescope's "Export Submissions".

The input is copied (or extracted) into a folder only the grader can read before anything is
graded; an export's submission_metadata.yml names who submitted each folder.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..grading.submission import IGNORED, copy_upload

EXPORT_METADATA = "submission_metadata.yml"


@dataclass(frozen=True)
class Submitter:
    """One person an export names as a submission's author (a group submission has several)."""

    name: str = ""
    email: str = ""
    sid: str = ""  # the student id


@dataclass(frozen=True)
class Entry:
    """One submission in the batch: one student's, or a group's."""

    id: str  # unique in the batch; names its results file
    path: Path  # a file or a folder
    submitters: tuple[Submitter, ...] = ()  # (from an export; none from a plain folder)
    # an export's: the submission_metadata.json Gradescope would have written (its time, its submitters and
    # its earlier submissions, for [submissions]' limit); None from a plain folder
    metadata: dict | None = None


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


def input_bytes(input_path: Path) -> int:
    """What the input takes once copied into discover's workdir: a zip's members unpacked, or a
    folder's files (links not followed)."""
    if input_path.is_file() and zipfile.is_zipfile(input_path):
        with zipfile.ZipFile(input_path) as zf:
            return sum(member.file_size for member in zf.infolist())
    total = 0
    for folder, _, files in os.walk(input_path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def check_found(input_path: Path, entries: list[Entry]) -> None:
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
        people = tuple(Submitter(*(str(_get(p, key) or "") for key in ("name", "email", "sid")))
                       for p in submitters if isinstance(p, dict))
        sid = folder.name.removeprefix("submission_")
        entries.append(Entry(sid, folder, people, _gradescope_metadata(sid, info, people)))
    return entries


def _gradescope_metadata(sid: str, info, people: tuple[Submitter, ...]) -> dict:
    """What Gradescope's submission_metadata.json would say of an exported submission: its id and time,
    its users, and its earlier submissions (the export's :history)."""
    info = info if isinstance(info, dict) else {}
    history = _get(info, "history")
    return {"id": sid, "created_at": _time(_get(info, "created_at")),
            "users": [{"name": p.name, "email": p.email, "sid": p.sid} for p in people],
            "previous_submissions": [
                {"submission_time": _time(_get(h, "created_at")), "score": _get(h, "score"),
                 "autograder_error": _get(h, "autograder_error") is True, "results": _get(h, "results")}
                for h in (history if isinstance(history, list) else []) if isinstance(h, dict)]}


def _time(value):
    """A time as submission_metadata.json writes it: YAML reads the export's as datetimes."""
    return value.isoformat() if hasattr(value, "isoformat") else value


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
