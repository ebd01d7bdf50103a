"""Claims about how an answer relates to the right one: rounded, reshaped, localised. Pure numpy.

Shared with the students' selfcheck.py as evidence.py is (handout.py copies the part between the
markers in): relation claims hold or not on each case from the answer and the right one alone
(evidence.fits_all weighs them across the cases):

- rounding and shape: the right answer rounded to integers or through float16, or reshaped;
- localisations: the answer's shape in n, h and k, all zeros, the right one times a constant,
  right where z1 has some signs and wrong where it has the others ("wrong only where z1 = 0"),
  right magnitudes with some signs wrong, wrong in one row, column or entry.
"""

from __future__ import annotations

import numpy as np

from ..config import Tolerance
from ..core.compare import agrees, mismatches
from .evidence import ANSWER_WORDS, EVERY, EVERY_FAILING, Claim, Seen, right_of, same_shape

# --- shared with the students' selfcheck.py (handout.py copies it in): stdlib and numpy only ---

# Mistakes named by a relation between the answer and the right one: (title, message).
RELATIONS = {
    "integer_values": ("integer arithmetic", "Your values are the right ones rounded to whole numbers: somewhere an "
                       "integer array holds floats (e.g. np.zeros_like of an int array, or dtype=int)."),
    "low_precision": ("low precision", "Your values are the right ones rounded to about 3 significant digits, "
                      "as float16 stores them: something is computed or stored in a low-precision type; use "
                      "float64 (or at least float32)."),
    "wrong_shape_same_values": ("wrong shape", "The numbers are right but the shape is not: return an array of "
                                "the expected shape (no flattening or reshaping)."),
}
# The relative error of float16 rounding (2^-11), times a bound on the operations behind one entry.
FLOAT16_ROUNDING = 16 * 2.0 ** -11
# hidden-unit axis of each part's answer: localisation by the sign of z1
UNIT_AXIS = {"relu": 0, "forward.z2": 0, "relu_jacobian": 0, "grad.W1": 0, "grad.b1": 0, "grad.W2": 1}


# --- rounding and shape


def _rounded(seen, r, e, tol):
    r = same_shape(r, e)
    return r is not None and (agrees(r, e, tol) or any(np.array_equal(r, f(e)) for f in (np.round, np.trunc, np.floor)))


def _float16(seen, r, e, tol):
    r = same_shape(r, e)
    if r is None:
        return False
    overflow = np.isinf(e.astype(np.float16))  # beyond float16's largest number (65504): inf
    return bool(np.all(~mismatches(r, e, tol) | (np.abs(r - e) <= FLOAT16_ROUNDING * seen.magnitude)
                       | overflow & (r == e.astype(np.float16))))


def _reshaped(seen, r, e, tol):
    return r.size == e.size and agrees(r.reshape(e.shape), e, tol)


def relation_claims() -> list:
    rules = {"integer_values": (_rounded, lambda seen, r, e: bool(np.any(e != np.round(e)))),
             "low_precision": (_float16, lambda seen, r, e: True),
             "wrong_shape_same_values": (_reshaped, lambda seen, r, e: same_shape(r, e) is None)}
    return [Claim(name, RELATIONS[name][0], RELATIONS[name][1], fits=fits, counts=counts)
            for name, (fits, counts) in rules.items()]


# --- localisation: where the answer is right and where it is wrong


def _shape_words(template) -> str:
    return "()" if not template else f"({template[0]},)" if len(template) == 1 else f"({', '.join(template)})"


def _shape_claims(part: str, first: Seen, conventions: dict) -> list:
    """Your answer's shape, in n, h and k, where another is right: one claim per way of reading it."""
    received, expected = np.asarray(first.received), np.asarray(first.expected)
    if same_shape(received, expected) is not None or received.ndim > 3:
        return []
    templates = [()]
    for d in received.shape:
        templates = [t + (name,) for t in templates for name, size in first.sizes.items() if size == d]
    answer, right = ANSWER_WORDS[part], _shape_words(right_of(part, conventions)[1])
    return [Claim("localised:shape", f"shape {_shape_words(t)} instead of {right}",
                  f"Your {answer} has shape {_shape_words(t)} {EVERY}, where {right} is right.",
                  fits=lambda seen, r, e, tol, t=t: r.shape == tuple(seen.sizes[d] for d in t),
                  counts=lambda seen, r, e, t=t: same_shape(np.zeros(tuple(seen.sizes[d] for d in t)), e) is None)
            for t in templates]


def localisation_claims(part: str, seen: list, conventions: dict) -> list:
    """Where the answer is right and where it is wrong, tried in this order: its shape, all zeros, a
    constant factor (an exact relation: stronger than where it holds), the sign of z1, the signs of
    its entries, one row, column or entry. seen: the part's cases with an answer, failing first."""
    answer = ANSWER_WORDS[part]
    first = seen[0]
    out = _shape_claims(part, first, conventions)
    out.append(Claim("localised:zeros", "all zeros", f"Your {answer} is 0 {EVERY}, whatever the inputs.",
                     fits=lambda seen, r, e, tol: not np.any(r), counts=lambda seen, r, e: bool(np.any(e))))
    e = np.asarray(first.expected, dtype=np.float64)
    r = same_shape(np.asarray(first.received, dtype=np.float64), e)
    if r is not None and np.any(e):
        c = float(np.vdot(r, e) / np.vdot(e, e))
        if c not in (0.0, 1.0) and np.isfinite(c):
            out.append(Claim("localised:scaled", "off by a constant factor",
                             f"Your {answer} is the right one times {c:.4g} {EVERY}: a constant factor is wrong.",
                             fits=lambda seen, r, e, tol, c=c: same_shape(r, e) is not None and
                             agrees(same_shape(r, e), c * e, tol),
                             counts=lambda seen, r, e: bool(np.any(e))))
    if part in UNIT_AXIS:
        out += _sign_of_z1_claims(part, e.ndim)
    out.append(Claim("localised:sign", "sign wrong in some entries",
                     f"Your {answer} has the right magnitudes but the wrong sign in some entries, {EVERY_FAILING}.",
                     fits=lambda seen, r, e, tol: same_shape(r, e) is not None and
                     agrees(np.abs(same_shape(r, e)), np.abs(e), tol),
                     counts=lambda seen, r, e: True))
    for axis, what in ((0, "row"), (1, "column"), (None, "entry")):
        if axis is None and e.ndim != 1 or axis is not None and e.ndim != 2:
            continue
        out.append(Claim(f"localised:one_{what}", f"wrong in one {what}",
                         f"Your {answer} is right except in one {what}, {EVERY_FAILING}: look for an index "
                         f"or a loop bound that misses or mistreats one {what}.",
                         fits=lambda seen, r, e, tol, axis=axis: _wrong_in_one(r, e, tol, axis),
                         counts=lambda seen, r, e, axis=axis: e.shape[axis or 0] >= 2))
    return out


# Where the ReLU's input z1 is negative, exactly 0, positive: the sets a localisation names, the
# smallest first, as (the signs of z1 in it, its words, its id).
SIGN_SETS = [((-1,), "< 0", "negative"), ((0,), "= 0", "zero"), ((1,), "> 0", "positive"),
             ((-1, 0), "<= 0", "nonpositive"), ((0, 1), ">= 0", "nonnegative"), ((-1, 1), "!= 0", "nonzero")]


def _sign_of_z1_claims(part: str, ndim: int) -> list:
    """"Right where z1 <= 0 and wrong where z1 > 0": each set of signs of z1, where the answer is wrong
    in every unit (row, column or entry along the hidden units) of the set, then in some of them;
    it is right outside the set in every case."""
    answer, z = ANSWER_WORDS[part], "z" if part == "relu" else "z1"
    axis = UNIT_AXIS[part]
    unit = "entries" if ndim == 1 else "rows" if axis == 0 else "columns"
    out = []
    for signs, where, name in SIGN_SETS:
        other = next(w for s, w, _ in SIGN_SETS if set(s) == {-1, 0, 1} - set(signs))
        for every in (True, False):
            wrong_there = f"wrong in those where {z} {where}" if every else \
                f"wrong in some of those where {z} {where} (right in others)"
            out.append(Claim(
                f"localised:wrong_where_{name}", f"wrong only where {z} {where}",
                f"Your {answer} is right in the {unit} where {z} {other} and {wrong_there}, {EVERY_FAILING}: "
                f"look at what your code does where {z} {where}.",
                fits=lambda seen, r, e, tol, signs=signs, every=every, axis=axis:
                    _wrong_only_in(seen, r, e, tol, axis, signs, every),
                counts=lambda seen, r, e, signs=signs: bool(np.any(np.isin(np.sign(seen.z1), signs)))))
    return out


def _wrong_only_in(seen, r, e, tol: Tolerance, axis: int, signs: tuple, every: bool) -> bool:
    """r agrees with e (the whole array's tolerance) on the units where the sign of z1 is not in
    `signs`, and (every, on a failing case) is wrong on every unit where it is, and on one at least."""
    r = same_shape(r, e)
    if r is None or e.ndim == 0 or e.shape[axis] != seen.z1.shape[0]:
        return False
    wrong = mismatches(r, e, tol)
    wrong_units = wrong if wrong.ndim == 1 else wrong.any(axis=1 - axis)
    inside = np.isin(np.sign(seen.z1), signs)
    if np.any(wrong_units & ~inside):
        return False
    if seen.passed:
        return True
    return bool(np.any(wrong_units)) and (not every or bool(np.all(wrong_units[inside])))


def _wrong_in_one(r, e, tol: Tolerance, axis) -> bool:
    r = same_shape(r, e)
    if r is None:
        return False
    wrong = mismatches(r, e, tol)
    if axis is not None:
        wrong = wrong.any(axis=1 - axis)
    return int(wrong.sum()) <= 1


# --- end of the part shared with selfcheck.py ---
