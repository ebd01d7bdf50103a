"""The evidence rule: which claim explains a part's answers, case by case. Pure numpy, no I/O.

One rule for the grader (diagnose.py) and the students' selfcheck.py (handout.py copies the part
between the markers in, as it copies compare.py's rule): only what the two share lives here, and
nothing of the solution: a claim's answers on a case come from outside (computed by the grader,
shipped as numbers in the handout).

A claim is named only on evidence across the cases: an answer claim ("your answer equals A")
must agree with the student's answer on every case that has one, and differ from the right answer,
with an informative A (not all zeros, not constant), on at least two of them; a relation claim
(rounding, shape, localisation) must hold on every case and be non-trivially true on at least two
failing ones. Claims are tried in groups, most specific first; the first group with a match
explains the part; two answer claims that differ on fresh inputs but both fit are named together
in one sentence; more, and that group says nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import Tolerance
from ..core.compare import agrees, mismatches, only_singletons_differ

# --- shared with the students' selfcheck.py (handout.py copies it in): stdlib and numpy only ---

# The answer of each part, and the right one, in words.
ANSWER_WORDS = {
    "affine": "affine(x, W, b)", "relu": "relu(z)", "forward.z1": "z1", "forward.z2": "z2", "forward.z3": "z3",
    "forward.y_hat": "y_hat", "loss": "loss", "relu_jacobian": "dz2/dz1", "output_jacobian": "dy_hat/dz3",
    "mse_grad": "dl/dy_hat", "grad.W1": "dl/dW1", "grad.b1": "dl/db1", "grad.W2": "dl/dW2", "grad.b2": "dl/db2",
}
RIGHT_WORDS = {
    "affine": "W x + b", "relu": "max(z, 0)", "forward.z1": "W1 x + b1", "forward.z2": "relu(z1)",
    "forward.z3": "W2 z2 + b2", "forward.y_hat": "z3", "loss": "||y_hat - y||^2",
    "relu_jacobian": "diag(z1 > 0)", "output_jacobian": "the identity", "mse_grad": "2 (y_hat - y)",
    "grad.W1": "dl/dz1 x^T", "grad.b1": "dl/dz1 = (z1 > 0) * W2^T dl/dz3",
    "grad.W2": "dl/dz3 z2^T", "grad.b2": "dl/dz3 = 2 (y_hat - y)",
}
RIGHT_SHAPES = {"affine": ("h",), "relu": ("h",), "forward.z1": ("h",), "forward.z2": ("h",), "forward.z3": ("k",),
                "forward.y_hat": ("k",), "loss": (), "relu_jacobian": ("h", "h"), "output_jacobian": ("k", "k"),
                "mse_grad": ("k",), "grad.W1": ("h", "n"), "grad.b1": ("h",), "grad.W2": ("k", "h"), "grad.b2": ("k",)}


def right_of(part: str, conventions: dict) -> tuple:
    """(the right answer of `part` in words, its shape in n, h, k) under the conventions, a dict as in
    grading.toml's [assignment] ("either" reads as the handout's choice)."""
    words, shape = RIGHT_WORDS[part], RIGHT_SHAPES[part]
    if conventions["jacobians"] == "diagonal" and part in ("relu_jacobian", "output_jacobian"):
        words = "the vector (z1 > 0)" if part == "relu_jacobian" else "a vector of ones"
        shape = shape[:1]
    if conventions["relu_derivative_at_zero"] == 1:
        words = words.replace("z1 > 0", "z1 >= 0")
    if conventions["loss"] == "mean" and part in ("loss", "mse_grad", "grad.b2"):
        words += " / k"
    return words, shape


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
# mistakes in dl/dz3 show in dl/db2 = dl/dz3 too: named for another gradient only when dl/db2 shows them
DOWNSTREAM_OF_DZ3 = ("grad.W1", "grad.b1", "grad.W2")


@dataclass(frozen=True)
class Seen:
    """One case of one part, as the explainer sees it."""

    key: str  # the case's id
    received: object  # np.ndarray, the student's answer (float64); None when the call gave none
    expected: np.ndarray
    passed: bool
    z1: np.ndarray  # the case's z1 (h,): where the ReLU is active
    sizes: dict  # {"n": n, "h": h, "k": k, "1": 1}
    magnitude: np.ndarray  # the part's answer computed from absolute values (see diagnose.magnitude)
    answer: Callable  # an answer claim's key -> its answer on this case (np.ndarray)


@dataclass(frozen=True)
class Claim:
    id: str  # recorded in results.json: a catalogue id, a relation id, "computed:...", "localised:..."
    title: str  # a few words for summaries
    message: str  # what the student reads
    key: str = ""  # an answer claim's key (Seen.answer); "" for a relation claim
    fits: Callable = None  # a relation claim: fits(seen, received, expected, tol) on every case ...
    counts: Callable = None  # ... and counts(seen, received, expected) on the failing cases that are evidence
    upstream: bool = False  # a known mistake in dl/dz3 (see DOWNSTREAM_OF_DZ3)


def known_claim(mistake_id: str, title: str, message: str, key: str, upstream: bool = False) -> Claim:
    return Claim(mistake_id, title, message, key=key, upstream=upstream)


def computed_claim(part: str, quantity: str, words: str, step: str, b2_right: bool, conventions: dict) -> Claim:
    """"Your dl/db1 equals W2^T dl/dz3 (before the ReLU mask)": an answer claim of a quantity."""
    answer = ANSWER_WORDS[part]
    if quantity.startswith("times:"):
        message = f"Your {answer} is {words} in every case."
        if part in DOWNSTREAM_OF_DZ3 and b2_right:
            message += " Your dl/db2 = dl/dz3 is right, so the slip is in this gradient's own step, not in dl/dy_hat."
        return Claim(f"computed:{quantity}", words, message, key=f"computed:{quantity}")
    message = f"Your {answer} equals {words} in every case, where {right_of(part, conventions)[0]} is right" + \
        (f": {step}." if step else ".")
    return Claim(f"computed:{quantity}", f"{answer} = {words}", message, key=f"computed:{quantity}")


def holds_on(claim: Claim, seen: Seen, tol: Tolerance) -> bool:
    """The claim on one case (whatever the case's verdict)."""
    received = np.asarray(seen.received, dtype=np.float64)
    expected = np.asarray(seen.expected, dtype=np.float64)
    with np.errstate(all="ignore"):
        if claim.key:
            return agrees(received, seen.answer(claim.key), tol)
        return bool(claim.fits(seen, received, expected, tol))


def fits_all(claim: Claim, seen: list, tol: Tolerance) -> bool:
    """The evidence rule (see the module's docstring) over the cases that have an answer."""
    evidence = 0
    for case in seen:
        if not holds_on(claim, case, tol):
            return False
        expected = np.asarray(case.expected, dtype=np.float64)
        if claim.key:
            predicted = case.answer(claim.key)
            evidence += informative(predicted, expected) and not agrees(predicted, expected, tol)
        else:
            evidence += not case.passed and claim.counts(case, np.asarray(case.received, dtype=np.float64), expected)
    return evidence >= 2


def informative(answer, expected) -> bool:
    """An answer that says something: not all zeros, not one value repeated (unless its shape itself,
    differing from the right one's, is the evidence)."""
    answer = np.asarray(answer)
    if answer.size == 0 or not np.any(answer):
        return False
    return answer.size == 1 or answer.shape != np.shape(expected) or not np.all(answer == answer.flat[0])


def first_fitting(groups: list, seen: list, tol: Tolerance, distinct: Callable) -> tuple:
    """The claims that explain the part: from the first group with a match (see the docstring).

    seen: the cases with an answer, failing ones first; distinct(claims) keeps one claim of each
    function (two claims giving the same answers on fresh inputs are one)."""
    if not all(np.all(np.isfinite(np.asarray(case.received, dtype=np.float64))) for case in seen):
        groups = [[c for c in group if c.id == "low_precision"] for group in groups]  # only float16 makes inf
    for group in groups:
        fitting = [c for c in group if fits_all(c, seen, tol)]
        if not fitting:
            continue
        if not fitting[0].key:  # relations: the first that holds is true, and enough
            return (fitting[0],)
        kept = distinct(fitting)
        if len(kept) <= 2:
            return tuple(kept)
    return ()


def one_of_each(claims: list, classes: dict) -> list:
    """The claims, less any of an id already kept or giving the same answers as one kept on fresh
    inputs (classes: an answer claim's key -> the first key of its class)."""
    kept, ids, kinds = [], set(), set()
    for claim in claims:
        kind = classes.get(claim.key, claim.key)
        if claim.id not in ids and kind not in kinds:
            kept.append(claim)
            ids.add(claim.id)
            kinds.add(kind)
    return kept


def explain_parts(seen_by_part: dict, tolerances: dict, groups_for: Callable, distinct: Callable) -> dict:
    """{part: claims} for each part whose answers have an explanation.

    groups_for(part, first failing Seen, b2_right) -> the groups of claims to try; distinct(part,
    claims) -> one claim of each function among them (see first_fitting). dl/db2 is
    explained first: a mistake of dl/dz3 (upstream) is named for another gradient only if dl/db2
    shows it too, and that gradient's words may say that dl/db2 is right."""
    out = {}
    order = sorted(seen_by_part, key=lambda p: p in DOWNSTREAM_OF_DZ3)
    b2_cases = seen_by_part.get("grad.b2", [])
    b2_right = bool(b2_cases) and all(case.passed for case in b2_cases)
    for part in order:
        seen = [case for case in seen_by_part[part] if case.received is not None]
        failing = [case for case in seen if not case.passed]
        if not failing:
            continue
        groups = groups_for(part, failing[0], b2_right)
        if part in DOWNSTREAM_OF_DZ3:
            b2_ids = {c.id for c in out.get("grad.b2", ())}
            groups = [[c for c in group if not c.upstream or c.id in b2_ids] for group in groups]
        found = first_fitting(groups, failing + [case for case in seen if case.passed], tolerances[part],
                              lambda claims, part=part: distinct(part, claims))
        if found:
            out[part] = found
    return {part: out[part] for part in seen_by_part if part in out}


def in_words(claims: tuple) -> tuple:
    """(title, message) of what was found: one claim, or two in one honest sentence."""
    if len(claims) == 1:
        return claims[0].title, claims[0].message
    a, b = claims
    return (f"{a.title} or {b.title}", f"Two explanations fit your answers in every case: {a.title}, or "
            f"{b.title}. {a.message} Or: {b.message}")


# --- rounding and shape


def same_shape(received, expected):
    """received in expected's shape if they differ only by axes of length 1 (as compare accepts), else None."""
    if received.shape == expected.shape:
        return received
    return received.reshape(expected.shape) if only_singletons_differ(received.shape, expected.shape) else None


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
                  f"Your {answer} has shape {_shape_words(t)} in every case, where {right} is right.",
                  fits=lambda seen, r, e, tol, t=t: r.shape == tuple(seen.sizes[d] for d in t),
                  counts=lambda seen, r, e, t=t: same_shape(np.zeros(tuple(seen.sizes[d] for d in t)), e) is None)
            for t in templates]


def localisation_claims(part: str, first: Seen, conventions: dict) -> list:
    answer = ANSWER_WORDS[part]
    z = "z" if part == "relu" else "z1"
    out = _shape_claims(part, first, conventions)
    out.append(Claim("localised:zeros", "all zeros", f"Your {answer} is 0 in every case, whatever the inputs.",
                     fits=lambda seen, r, e, tol: not np.any(r), counts=lambda seen, r, e: bool(np.any(e))))
    if part in UNIT_AXIS:
        axis = UNIT_AXIS[part]
        unit = "entries" if part in ("relu", "forward.z2", "grad.b1") else "rows" if axis == 0 else "columns"
        # where the ReLU passes the gradient: z1 >= 0 where its derivative at 0 is taken as 1
        ge = conventions["relu_derivative_at_zero"] == 1 and part in ("relu_jacobian", "grad.W1", "grad.b1")
        on, off = (f"{z} >= 0", f"{z} < 0") if ge else (f"{z} > 0", f"{z} <= 0")
        for alive, where, other in ((True, on, off), (False, off, on)):
            out.append(Claim(
                f"localised:right_where_{'active' if alive else 'inactive'}", f"right only where {where}",
                f"Your {answer} is right in the {unit} where {where} and wrong in those where {other}, in every "
                f"failing case: look at what your code does where {other}.",
                fits=lambda seen, r, e, tol, alive=alive, axis=axis, ge=ge:
                    _right_on_units(seen, r, e, tol, axis, alive, ge),
                counts=lambda seen, r, e, alive=alive, ge=ge: bool(np.any(_active(seen, ge) == alive))))
    e = np.asarray(first.expected, dtype=np.float64)
    r = same_shape(np.asarray(first.received, dtype=np.float64), e)
    if r is not None and np.any(e):
        c = float(np.vdot(r, e) / np.vdot(e, e))
        if c not in (0.0, 1.0) and np.isfinite(c):
            out.append(Claim("localised:scaled", "off by a constant factor",
                             f"Your {answer} is the right one times {c:.4g} in every case: a constant factor is "
                             "wrong.",
                             fits=lambda seen, r, e, tol, c=c: same_shape(r, e) is not None and
                             agrees(same_shape(r, e), c * e, tol),
                             counts=lambda seen, r, e: bool(np.any(e))))
    out.append(Claim("localised:sign", "sign wrong in some entries",
                     f"Your {answer} has the right magnitudes but the wrong sign in some entries, in every failing "
                     "case.",
                     fits=lambda seen, r, e, tol: same_shape(r, e) is not None and
                     agrees(np.abs(same_shape(r, e)), np.abs(e), tol),
                     counts=lambda seen, r, e: True))
    for axis, what in ((0, "row"), (1, "column"), (None, "entry")):
        if axis is None and e.ndim != 1 or axis is not None and e.ndim != 2:
            continue
        out.append(Claim(f"localised:one_{what}", f"wrong in one {what}",
                         f"Your {answer} is right except in one {what}, in every failing case: look for an index "
                         f"or a loop bound that misses or mistreats one {what}.",
                         fits=lambda seen, r, e, tol, axis=axis: _wrong_in_one(r, e, tol, axis),
                         counts=lambda seen, r, e, axis=axis: e.shape[axis or 0] >= 2))
    return out


def _active(seen: Seen, ge: bool):
    """Where the ReLU is active: z1 > 0, or z1 >= 0 (ge)."""
    return seen.z1 >= 0 if ge else seen.z1 > 0


def _right_on_units(seen: Seen, r, e, tol: Tolerance, axis: int, alive: bool, ge: bool = False) -> bool:
    """r agrees with e (the whole array's tolerance) on the units where the ReLU is active (alive)
    or not (see _active)."""
    r = same_shape(r, e)
    if r is None or e.shape[axis] != seen.z1.shape[0]:
        return False
    wrong = mismatches(r, e, tol)
    wrong_units = wrong if wrong.ndim == 1 else wrong.any(axis=1 - axis)
    return not np.any(wrong_units & (_active(seen, ge) == alive))


def _wrong_in_one(r, e, tol: Tolerance, axis) -> bool:
    r = same_shape(r, e)
    if r is None:
        return False
    wrong = mismatches(r, e, tol)
    if axis is not None:
        wrong = wrong.any(axis=1 - axis)
    return int(wrong.sum()) <= 1


# --- end of the part shared with selfcheck.py ---
