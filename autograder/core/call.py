"""A call of a student function as data: what the grader asks (Call) and what came back
(CallOutcome, ImportReport), with the statuses a call can end in. The sandbox fills them in;
comparison and grading read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class Words(str, Enum):
    """An enum whose members are their words wherever they are written (f-strings, str(), JSON, CSV)
    and equal to them: the same on Python 3.10 and 3.11, whose f-strings of a str mixin differ."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class CallStatus(Words):
    """How a call of a student function ended. ok: it returned (its values may still be wrong or unusable)."""

    OK = "ok"
    MISSING = "missing"  # the submission does not define the function
    ERROR = "error"  # it raised
    TIMEOUT = "timeout"
    CRASH = "crash"
    OOM = "out of memory"
    IMPORT_ERROR = "import error"  # the file could not be imported, so no call was made
    NOT_RUN = "not run"


OK, MISSING, ERROR, TIMEOUT, CRASH, OOM, IMPORT_ERROR, NOT_RUN = CallStatus


@dataclass(frozen=True)
class CallOutcome:
    """What one call of a student function gave back.

    values: the returned arrays as fresh float64 arrays, by key ("return" for a plain function,
    the dict keys for forward/backward); problems: keys whose value was unusable, with why.

    The grader's own words (message, problems) are kept apart from the text student
    code chose (said, problem_said, traceback, stdout), which is shown only as code, and never
    for a hidden case.
    """

    status: CallStatus
    values: dict[str, np.ndarray] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # key -> why, in the grader's words
    message: str = ""  # for a status other than ok: what happened, in one line, in the grader's words
    traceback: str = ""  # for an exception: the traceback from the student's own frames
    stdout: str = ""
    arguments: tuple[np.ndarray, ...] = ()  # what the function was given (the grader's own arrays)
    said: str = ""  # for an exception: its message (after its type's name unless message names it)
    problem_said: dict[str, str] = field(default_factory=dict)  # key -> the detail of its problem


class TopLevelOutcome(Words):
    """How a top-level statement of the submission that did not run as written ended (sandbox/toplevel.py)."""

    STOPPED = "stopped"  # its share of the import's time ran out
    FAILED = "failed"  # it raised (or called sys.exit()), or did not compile
    STAND_IN = "stand-in"  # a display-only package the runtime lacks was replaced by one that does nothing


@dataclass(frozen=True)
class TopLevelEvent:
    """A top-level statement of the submission that did not run as written; the rest of the file ran."""

    cell: int | None  # the notebook's cell (1 = the first cell), None in a .py file
    line: int  # in the cell, or in the file
    code: str  # the statement's first line: the student's text, shown only as code
    outcome: TopLevelOutcome
    seconds: float = 0.0  # STOPPED: the CPU time it had
    error: str = ""  # FAILED: the exception in a line (the student's text in it)
    module: str = ""  # FAILED on a missing module, or STAND_IN: the module


@dataclass(frozen=True)
class ImportReport:
    ok: bool
    message: str = ""  # one line, e.g. "SyntaxError: invalid syntax (line 12, column 5)"
    details: str = ""  # the traceback, from the student's own frames
    stdout: str = ""  # what the module printed while being imported (capped)
    functions: tuple[str, ...] = ()  # the public callables the module defines
    missing_module: str = ""  # for a ModuleNotFoundError: the module it names (a student's, or one not offered)
    toplevel: tuple[TopLevelEvent, ...] = ()  # top-level statements that did not run as written
    unreadable_notebook: bool = False  # the file is a notebook that could not be read (message says why)


@dataclass(frozen=True)
class Call:
    """One call of a student function: `function(*args)`; for a dict result, the `keys` wanted."""

    function: str
    args: tuple[np.ndarray, ...]
    keys: tuple[str, ...] | None = None
