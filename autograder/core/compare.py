"""Compare a student's array with the reference: pure functions, numpy.testing-style messages.

The rule, checked in this order:
1. shape: exactly the expected shape; a shape that is it with axes of length 1 added or removed
   ((h, 1) or (1, h) for (h,), (1,) for a scalar) is accepted, with a note; axes never change
   places ((1, 2) for (2, 1) is transposed, not accepted);
2. every entry finite (no NaN, no inf);
3. tolerance, elementwise: |r - e| <= rtol * |e| + atol * max|e| + 1e-12.
   The reference e alone sets the bound (the student's value never widens it), and atol is scaled
   by the largest expected entry, so an array of tiny gradients is judged relative to its own
   size instead of passing because it is close to zero (np.allclose's fixed atol=1e-8 trap).
   The 1e-12 floor only matters when the whole expected array is (near) zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from ..config import Tolerance
from .call import ERROR, IMPORT_ERROR, MISSING, NOT_RUN, OK, CallOutcome

# --- shared with the students' selfcheck.py (handout.py copies it in): stdlib and numpy only ---
ABS_FLOOR = 1e-12


class Failure(Enum):
    """What kind of failure a verdict is (its reason says it in words, for people)."""

    NOT_GRADED = "not graded"  # nothing could be called: no file, or it could not be read or imported
    MISSING = "missing"  # the function is not defined
    RAISED = "raised"
    DIED = "died"  # a timeout, a crash, out of memory, or not run after one
    UNUSABLE = "unusable"  # not a numeric array, or no such dict entry
    WRONG_SHAPE = "wrong shape"
    NOT_FINITE = "not finite"
    WRONG_VALUES = "wrong values"
    GRADER = "grader"  # the grader's own error: not the submission's


@dataclass(frozen=True)
class Comparison:
    passed: bool
    reason: str = ""  # short and safe to show for hidden cases: "wrong shape", "wrong values", ...
    detail: str = ""  # where and by how much; reveals expected values, so for visible cases only
    # (received shape, expected shape) where a shape differing by axes of length 1 was accepted
    reshaped: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    worst: str = ""  # the worst entry in a few words, "at [3, 1]: -1.32 instead of 0"; visible cases only
    said: str = ""  # what student code said about it (an exception's message): shown as code, visible cases only
    failure: Failure | None = None  # None: it passed

    @property
    def note(self) -> str:
        """What is said even on a pass: that a shape was accepted (shape_note)."""
        return shape_note(*self.reshaped) if self.reshaped else ""


def shape_note(received: tuple[int, ...], expected: tuple[int, ...]) -> str:
    return (f"returned shape {shape_text(received)} where {shape_text(expected)} is expected; "
            "accepted because they differ only by axes of length 1")


def compare(received: np.ndarray, expected: np.ndarray, tol: Tolerance, explain: bool = True) -> Comparison:
    """Judge `received` (any shape, float64) against the reference `expected`.

    explain=False leaves out the detail (for hidden cases, whose detail is never shown).
    """
    received = np.asarray(received, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    reshaped = None
    if received.shape != expected.shape:
        if not only_singletons_differ(received.shape, expected.shape):
            hint = " (it looks transposed)" if received.shape == expected.shape[::-1] else ""
            detail = f"expected shape {shape_text(expected.shape)}, received shape {shape_text(received.shape)}{hint}"
            return Comparison(False, "wrong shape", detail if explain else "", failure=Failure.WRONG_SHAPE)
        reshaped = (received.shape, expected.shape)
        received = received.reshape(expected.shape)
    error, bound, scale = _error_and_bound(received, expected, tol)
    if (error <= bound).all():  # NaN and inf never pass this, so a pass is finite too
        return Comparison(True, reshaped=reshaped)
    finite = np.isfinite(received)
    if not finite.all():
        if not explain:
            return Comparison(False, "not finite", reshaped=reshaped, failure=Failure.NOT_FINITE)
        first = tuple(np.argwhere(~finite)[0])
        return Comparison(False, "not finite",
                          f"{received.size - int(finite.sum())} of {received.size} entries are NaN or infinite "
                          f"(first at {_index(first)}: {received[first]})", reshaped, failure=Failure.NOT_FINITE)
    if not explain:
        return Comparison(False, "wrong values", reshaped=reshaped, failure=Failure.WRONG_VALUES)
    mismatched = error > bound
    worst = np.unravel_index(np.argmax(error - bound), error.shape) if error.ndim else ()
    nonzero = mismatched & (expected != 0)
    relative = float(np.max(error[nonzero] / np.abs(expected[nonzero]))) if nonzero.any() else float("inf")
    count = int(mismatched.sum())
    got, want = _float(received[worst]), _float(expected[worst])
    lines = [
        f"Not equal to tolerance rtol={tol.rtol:g}, atol={tol.atol:g} x max|expected| = {tol.atol * scale:.3g}",
        f"Mismatched elements: {count} / {expected.size} ({100 * count / expected.size:.0f}%)",
        f"Worst at index {_index(worst)}: received {got!r}, expected {want!r}" if worst else
        f"Received {got!r}, expected {want!r}",
        f"Max absolute difference: {float(error.max()):.6g}",
        f"Max relative difference: {relative:.6g}",
    ]
    where = f"at {_index(worst)}: " if worst else ""
    return Comparison(False, "wrong values", "\n".join(lines), reshaped, f"{where}{got:.6g} instead of {want:.6g}",
                      failure=Failure.WRONG_VALUES)


def _float(value) -> float:
    """A number to show: -0.0 reads as 0.0."""
    return float(value) + 0.0


def agrees(received: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """compare(received, expected, tol).passed, without composing a message (for repeated checks)."""
    return compare(received, expected, tol, explain=False).passed


def mismatches(received: np.ndarray, expected: np.ndarray, tol: Tolerance) -> np.ndarray:
    """Which entries break the rule (received already in expected's shape): a bool array."""
    error, bound, _ = _error_and_bound(np.asarray(received, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                                       tol)
    return ~(error <= bound)


def _error_and_bound(received: np.ndarray, expected: np.ndarray, tol: Tolerance):
    """|r - e|, the bound it must not exceed (both of expected's shape), and max|e|."""
    error = np.abs(received - expected)
    magnitude = np.abs(expected)
    scale = float(magnitude.max()) if expected.size else 0.0
    return error, tol.rtol * magnitude + (tol.atol * scale + ABS_FLOOR), scale


def only_singletons_differ(shape: tuple[int, ...], other: tuple[int, ...]) -> bool:
    """Whether one shape is the other with axes of length 1 added (anywhere), its axes in order:
    (h,), (h, 1) and (1, h) are one another's; (1, h) and (h, 1) are not (a transpose)."""
    longer, shorter = (shape, other) if len(shape) >= len(other) else (other, shape)
    matched = 0
    for d in longer:  # shorter must be a subsequence of longer, whose other axes are all 1
        if matched < len(shorter) and d == shorter[matched]:
            matched += 1
        elif d != 1:
            return False
    return matched == len(shorter)


def shape_text(shape: tuple[int, ...]) -> str:
    """(2, 3), (3,) or ()."""
    return "()" if not shape else f"({shape[0]},)" if len(shape) == 1 else str(tuple(shape))


def _index(index) -> str:
    index = tuple(int(i) for i in index)
    return "[]" if not index else str(list(index))


def nearest(answers, received, tol: Tolerance):
    """Of the right answers a check accepts (a convention set to "either"), the one to judge `received`
    (None: no answer) against: one it agrees with; else the first of its shape (exactly, then axes of
    length 1 aside), so a message speaks of values, not of a form it did not choose; else the first."""
    if received is None:
        return answers[0]
    received = np.asarray(received, dtype=np.float64)
    for answer in answers:
        if agrees(received, answer, tol):
            return answer
    same = [a for a in answers if a.shape == received.shape] or \
        [a for a in answers if only_singletons_differ(a.shape, received.shape)]
    return (same or answers)[0]


# --- end of the part shared with selfcheck.py ---


def judge(outcome: CallOutcome, expected: np.ndarray, tol: Tolerance, function: str,
          key: str = "return", explain: bool = True, entry: str | None = None) -> Comparison:
    """Judge one returned value (`key` of a dict result, or the plain return value) of a call.

    explain=False: no detail of the values (see compare); messages about the call itself stay.
    entry: how the student knows that value, where not as a returned value or a returned dict's entry
    ("self.grads['dJdW1'] after MLP(...).backward": the homework's words, Homework.entry_words).
    """
    if outcome.status == IMPORT_ERROR:
        return Comparison(False, "not graded: your file could not be imported (see the top of the results)",
                          failure=Failure.NOT_GRADED)
    if outcome.status == MISSING:
        return Comparison(False, f"{function} is not defined in your file", failure=Failure.MISSING)
    if outcome.status == ERROR:
        return Comparison(False, f"{function} {outcome.message}", outcome.traceback, said=outcome.said,
                          failure=Failure.RAISED)
    if outcome.status == NOT_RUN:  # (its message is the whole reason: "not run: ... already timed out")
        return Comparison(False, outcome.message, failure=Failure.DIED)
    if outcome.status != OK:
        return Comparison(False, f"{outcome.status}: {function} {outcome.message}", failure=Failure.DIED)
    what = entry or (f"the '{key}' entry of the dict returned by {function}" if key != "return"
                     else f"the value {function} returned")
    if key in outcome.problems:
        return Comparison(False, f"{what} {outcome.problems[key]}", said=outcome.problem_said.get(key, ""),
                          failure=Failure.UNUSABLE)
    if key not in outcome.values:
        missing = f"{entry} is missing" if entry else f"the dict returned by {function} has no '{key}' entry"
        return Comparison(False, missing, failure=Failure.UNUSABLE)
    return compare(outcome.values[key], expected, tol, explain)
