"""Gradescope's results.json: build it from scored tests, write it atomically.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (summarised, with a JSON
Schema, in the project's research notes; autograder/tests/results.schema.json is that schema).
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import __version__
from ..sandbox.host import Isolation
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
                # for the staff's tools (stored, not shown): which cases it holds and its failures as data
                "extra_data": {"hidden": t.hidden, "failing_cases": list(t.failing_cases),
                               "failures": list(t.failures)},
            }
            for t in tests
        ],
        "extra_data": dict(extra_data or {}),
    }


def report_to_results(report: GradingReport) -> dict:
    """results.json for a graded submission; extra_data keeps what instructors' tools need."""
    return build_results(report.tests, report.output, report.execution_time, {
        "status": report.status, "graded_file": report.graded_file, "version": __version__,
        "isolation": isolation_text(report.isolation), "missing_guarantees": list(report.missing_guarantees),
        "sandbox_uid": report.sandbox_uid,
        "mistakes": {t.part: list(t.mistakes) for t in report.tests if t.mistakes},
        "causes": {t.part: t.explanation.title for t in report.tests if t.explanation and not t.hidden},
        "answers": visible_answers(report.results),
        "fingerprint": report.fingerprint,
    })


def visible_answers(results) -> dict[str, dict[str, object]]:
    """For each part failing a visible case: its answer on every visible case (nested lists of floats
    to 7 significant digits, or the call's status where it gave none), by case id; what a class's
    mistake groups are found from (instructor/groups.py). Visible cases only: nothing hidden."""
    failing = {r.part for r in results if not r.hidden and not r.passed}
    answers: dict[str, dict[str, object]] = {}
    for r in results:
        if r.part in failing and not r.hidden:
            answer = str(r.call_status) if r.received is None else as_lists(r.received, 7)
            answers.setdefault(r.part, {})[r.case_id] = answer
    return answers


def as_lists(array: np.ndarray, digits: int) -> object:
    """An array as JSON numbers: nested lists of floats to `digits` significant digits (a scalar for a
    0-d array); None where an entry is not finite."""
    a = np.asarray(array, dtype=np.float64)
    flat = [float(f"{v:.{digits}g}") if np.isfinite(v) else None for v in a.ravel()]
    return np.array(flat, dtype=object).reshape(a.shape).tolist() if a.ndim else flat[0]


def isolation_text(isolation: Isolation | None) -> str:
    """Which layers held student code, and the guarantees missing, in a paragraph for instructors
    ("" where nothing ran)."""
    if isolation is None:
        return ""
    mb = isolation.memory_mb
    memory = (f"a memory cgroup counted every page of the workers against {mb} MB" if isolation.memory_cgroup else
              "no memory cgroup" + ("" if isolation.landlock else
                                    " (memory in files of /tmp and /dev/shm is bounded by their size only)")
              + (f"; seccomp refused it new processes (threads only), so {mb} MB bounded all of its memory"
                 if isolation.processes_refused else ""))
    landlock = ("Landlock: it could write files only in its own folders" +
                (f" ({isolation.scratch_on_tmpfs}, a tmpfs: bounded by its size only)"
                 if isolation.scratch_on_tmpfs else "")
                if isolation.landlock else "no Landlock layer (it could write wherever its user may)")
    layers = [f"student code ran as the unprivileged user {isolation.user} (uid {isolation.uid})" if isolation.user
              else "student code ran as the grader's own user",
              "seccomp refused it network sockets" if isolation.seccomp else "network open",
              "bubblewrap: no network, read-only allowlist of files (system, Python, scratch), private /tmp"
              if isolation.bubblewrap else "no bubblewrap layer",
              memory, landlock]
    missing = isolation.missing
    return "; ".join(layers) + (". MISSING guarantees: " + "; ".join(missing) + "." if missing else ".")


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
        "extra_data": {"status": "grader error"},  # (grade.Status.GRADER_ERROR: a later submission's limit skips it)
    }


def write_results(path: Path, results: dict, durable: bool = True, mode: int = 0o644) -> None:
    """Write results.json atomically: a reader sees the old file or the whole new one, never a part.
    It is at most MAX_RESULTS_BYTES long, whatever the submission printed or said (encode_results)."""
    atomic_write_text(path, encode_results(results), durable, mode)


# results.json's size, encoded, whatever student code returns, prints or says: each output is cut to
# fit (its largest ones first), and what is cut says so.
MAX_RESULTS_BYTES = 1_000_000
_CUT = "\n... [{} characters cut here: results.json is limited to 1 MB]"


def encode_results(results: dict, budget: int = MAX_RESULTS_BYTES) -> str:
    """The JSON text of results.json (ASCII: any character survives), at most `budget` bytes.

    The outputs (the top-level one and each test's) are what can grow; when the whole is over the
    budget, every output larger than a common cap is cut to it, the cap chosen as large as fits.
    A Markdown output cut inside a code block has the block closed after the cut."""
    text = json.dumps(results, indent=2, allow_nan=False)
    if len(text) <= budget:
        return text
    results = copy.deepcopy(results)
    outputs = [results] + [t for t in results.get("tests", []) if isinstance(t.get("output"), str)]
    sizes = [_encoded(o.get("output", "")) for o in outputs]
    room = budget - (len(text) - sum(sizes)) - len(outputs) * (len(_CUT) + 40)  # (cut notices, closing fences)
    cap = _water_level(sizes, room)
    for o, size in zip(outputs, sizes):
        if size > cap:
            o["output"] = _cut(o.get("output", ""), cap, o.get("output_format") == "md")
    return json.dumps(results, indent=2, allow_nan=False)


def _encoded(text: str) -> int:
    return len(json.dumps(text))


def _water_level(sizes: list[int], room: int) -> int:
    """The largest cap c with sum(min(size, c)) <= room (0 if even nothing fits)."""
    level, left, ordered = 0, room, sorted(sizes)
    for i, size in enumerate(ordered):
        share = left // (len(ordered) - i)
        if size > share:
            return max(share, 0)
        left -= size
        level = size
    return level


def _cut(text: str, budget: int, markdown: bool) -> str:
    """The longest start of `text` whose JSON encoding fits `budget` bytes, with a notice; a Markdown
    code block left open by the cut is closed, so the notice (and what follows) is not code."""
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits (the encoding grows with the prefix)
        middle = (low + high + 1) // 2
        if _encoded(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    kept = text[:low]
    fence = open_fence(kept) if markdown else None
    return kept + (f"\n{fence}" if fence else "") + _CUT.format(len(text) - low)


def open_fence(markdown: str) -> str | None:
    """The fence of the code block the Markdown text leaves open at its end (CommonMark's rule: a
    fence of 3 or more backticks opens; a line of only as many or more closes), or None."""
    fence = None
    for line in markdown.split("\n"):
        match = re.match(r" {0,3}(`{3,})(.*)$", line)
        if fence is None and match and "`" not in match.group(2):
            fence = match.group(1)
        elif fence is not None and match and len(match.group(1)) >= len(fence) and not match.group(2).strip():
            fence = None
    return fence


def atomic_write_text(path: Path, text: str, durable: bool = True, mode: int = 0o644) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path` (with `mode`).

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
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _cap(text: str) -> str:
    text = text.replace("\0", "")
    if len(text) <= MAX_OUTPUT:
        return text
    return text[: MAX_OUTPUT - 60] + f"\n... [{len(text) - MAX_OUTPUT + 60} characters cut]"
