"""A call of a student function as data: what the grader asks (Call) and what came back
(CallOutcome, ImportReport), with the statuses a call can end in. The sandbox fills them in;
comparison and grading read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Statuses of a call. ok: the function returned (its values may still be wrong or unusable).
OK, MISSING, ERROR, TIMEOUT, CRASH, OOM, IMPORT_ERROR, NOT_RUN = (
    "ok", "missing", "error", "timeout", "crash", "out of memory", "import error", "not run")


@dataclass(frozen=True)
class CallOutcome:
    """What one call of a student function gave back.

    values: the returned arrays as fresh float64 arrays, by key ("return" for a plain function,
    the dict keys for forward/backward); problems: keys whose value was unusable, with why.

    The grader's own words (message, problems) are kept apart from the text student
    code chose (said, problem_said, traceback, stdout), which is shown only as code, and never
    for a hidden case.
    """

    status: str
    values: dict[str, np.ndarray] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # key -> why, in the grader's words
    message: str = ""  # for a status other than ok: what happened, in one line, in the grader's words
    traceback: str = ""  # for an exception: the traceback from the student's own frames
    stdout: str = ""
    arguments: tuple[np.ndarray, ...] = ()  # what the function was given (the grader's own arrays)
    said: str = ""  # for an exception: its message (after its type's name unless message names it)
    problem_said: dict[str, str] = field(default_factory=dict)  # key -> the detail of its problem


@dataclass(frozen=True)
class ImportReport:
    ok: bool
    message: str = ""  # one line, e.g. "SyntaxError: invalid syntax (line 12, column 5)"
    details: str = ""  # the traceback, from the student's own frames
    stdout: str = ""  # what the module printed while being imported (capped)
    functions: tuple[str, ...] = ()  # the public callables the module defines


@dataclass(frozen=True)
class Call:
    """One call of a student function: `function(*args)`; for a dict result, the `keys` wanted."""

    function: str
    args: tuple[np.ndarray, ...]
    keys: tuple[str, ...] | None = None
