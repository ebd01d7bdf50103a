"""Gradescope's results.json: build it from scored tests, write it atomically.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (summarised, with a JSON
Schema, in the project's research notes; autograder/tests/results.schema.json is that schema).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from .rubric import ScoredTest

if TYPE_CHECKING:
    from .grade import GradingReport

# Gradescope cuts any output beyond 100,000 characters; we stay well under it ourselves.
MAX_OUTPUT = 50_000


def build_results(tests: list[ScoredTest], output: str, execution_time: float,
                  extra_data: dict | None = None) -> dict:
    """The results.json document: one entry per scored test, the total as top-level score."""
    return {
        "score": round(sum(t.score for t in tests), 4),
        "execution_time": round(max(execution_time, 0.0), 3),
        "output": _cap(output),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": t.name, "number": t.number, "score": round(t.score, 4), "max_score": round(t.max_score, 4),
                "status": "passed" if t.passed else "failed", "output": _cap(t.output),
                "output_format": "md", "tags": [t.part], "visibility": t.visibility,
            }
            for t in tests
        ],
        "extra_data": dict(extra_data or {}),
    }


def report_to_results(report: GradingReport) -> dict:
    """results.json for a graded submission; extra_data keeps what instructors' tools need."""
    return build_results(report.tests, report.output, report.execution_time, {
        "status": report.status, "graded_file": report.graded_file, "version": __version__,
        "isolation": report.isolation, "mistakes": {t.part: list(t.mistakes) for t in report.tests if t.mistakes},
        "fingerprint": report.fingerprint,
    })


def failure_results(message: str, execution_time: float = 0.0) -> dict:
    """What the student sees when the grader itself could not grade: score 0 and why."""
    return {
        "score": 0.0,
        "execution_time": round(max(execution_time, 0.0), 3),
        "output": _cap("The autograder could not grade this submission: " + message
                       + "\nYour submission was not graded, so the score of 0 is not a judgement of your code. "
                         "Please tell the course staff."),
        "stdout_visibility": "hidden",
        "tests": [],
    }


def write_results(path: Path, results: dict, durable: bool = True) -> None:
    """Write results.json atomically: a reader sees the old file or the whole new one, never a part."""
    atomic_write_text(path, json.dumps(results, indent=2, allow_nan=False), durable)


def atomic_write_text(path: Path, text: str, durable: bool = True) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path` (mode 644).

    durable: fsync before the rename, so that even a power cut leaves the old file or the new one.
    Without it the rename is still atomic for every reader and for a killed process; a batch writes
    hundreds of files it can regrade, and an fsync each cost more than grading them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _cap(text: str) -> str:
    text = text.replace("\0", "")
    if len(text) <= MAX_OUTPUT:
        return text
    return text[: MAX_OUTPUT - 60] + f"\n... [{len(text) - MAX_OUTPUT + 60} characters cut]"
