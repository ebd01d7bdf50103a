"""Signals for staff only, worth a look and never an accusation: a wrong answer that two or three
students share and no one else gives, and source files identical once comments and layout are set
aside.

Identical rare wrong numbers say more than similar code: short numpy solutions all look alike, and
independent correct ones agree by design, but an odd wrong answer is rarely found twice by chance.
A common mistake (the catalogue's, or one many students make) is left out: its size is its
explanation. Nothing here is written to a student's results; the report shows it to staff.
"""

from __future__ import annotations

import hashlib
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..grading.submission import locate
from ..sandbox.toplevel import NotebookError, code_cells
from .groups import MistakeGroup, answer_array
from .rows import Row

MOST_SHARING = 3  # a wrong answer shared by more students is a common mistake, not a signal
MAX_READ_BYTES = 4 * 2**20  # a larger file is not compared (the parent reads it, outside any sandbox)


@dataclass(frozen=True)
class RareAnswer:
    """A wrong answer, named by no catalogue mistake, that only these students give."""

    group: MistakeGroup
    wrong: int  # students wrong on the group's first part, in whatever way
    graded: int  # students in the class whose answers were compared


@dataclass(frozen=True)
class SameSource:
    """Submissions whose graded files are the same once comments, blank lines and spacing are set aside."""

    students: tuple[str, ...]  # submission ids, sorted
    lines: int  # lines of code in the file


def rare_answers(groups: list[MistakeGroup], rows: list[Row]) -> list[RareAnswer]:
    """The groups of two or three students whose shared wrong answer has no named cause and is a
    real answer: numbers on at least one case, not all zeros (a stub's) and not only crashes or
    timeouts (which many unrelated mistakes share)."""
    answers = {r.submission_id: r.answers for r in rows}
    graded = sum(1 for r in rows if r.status == "ok")
    out = []
    for g in groups:
        if g.cause or len(g.students) > MOST_SHARING:
            continue
        part = g.parts[0]
        if not _telling(answers[g.students[0]].get(part) or {}):
            continue
        wrong = sum(1 for r in rows if isinstance(r.answers.get(part), dict) and r.answers[part])
        out.append(RareAnswer(g, wrong, graded))
    return out


def _telling(answers: dict) -> bool:
    """Whether a part's answers say something of how they were computed: some case answered with
    finite numbers, not all zero."""
    for answer in answers.values():
        if isinstance(answer, str):
            continue
        a = answer_array(answer)
        if a.size and np.all(np.isfinite(a)) and np.any(a != 0):
            return True
    return False


def normalised_source(submission: Path, submission_file: str) -> str | None:
    """The code of the file a submission is graded on (a .py, or a notebook's code cells) as tokens,
    one space apart, without comments, blank lines or spacing; None where there is none to compare
    (nothing found, too large, not Python)."""
    located = locate(submission, submission_file)
    if located.relative is None:
        return None
    path = located.root / located.relative
    try:
        if path.stat().st_size > MAX_READ_BYTES:
            return None
        if path.suffix == ".ipynb":
            text = "\n".join(code for _, code in code_cells(str(path)))
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
    except (OSError, NotebookError):
        return None
    return _tokens(text)


def _tokens(text: str) -> str | None:
    skipped = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        kept = [t.string if t.type not in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) else
                {tokenize.NEWLINE: "\n", tokenize.INDENT: ">", tokenize.DEDENT: "<"}[t.type]
                for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type not in skipped]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None  # (not Python: it is graded as such, not compared)
    return " ".join(kept).replace(" \n ", "\n").strip() or None


def source_print(submission: Path, submission_file: str) -> dict | None:
    """What same_sources compares of a submission, kept in its results (extra_data.batch_source, made
    where it is graded): {"digest": of its normalised source, "lines": of code}; None where there is no
    source to compare."""
    text = normalised_source(submission, submission_file)
    if not text:
        return None
    return {"digest": hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), "lines": text.count("\n") + 1}


def same_sources(rows: list[Row], handed_out: list[dict | None]) -> list[SameSource]:
    """Submissions whose code is the same (by their source_print), two or more to a group, largest first;
    a file the same as one handed out (the template, unchanged) is no signal and is left out."""
    left_out = {p["digest"] for p in handed_out if p}
    by_digest: dict[str, list[str]] = {}
    lines: dict[str, int] = {}
    for row in rows:
        digest = row.source.get("digest")
        if isinstance(digest, str) and digest not in left_out:
            by_digest.setdefault(digest, []).append(row.submission_id)
            lines[digest] = int(row.source.get("lines") or 0)
    found = [SameSource(tuple(sorted(ids)), lines[d]) for d, ids in by_digest.items() if len(ids) > 1]
    return sorted(found, key=lambda s: (-len(s.students), s.students))
