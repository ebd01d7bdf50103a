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
in one sentence; more, and that group says nothing. How the parts weigh on each other (a part
built from a wrong one is explained by it first) is upstream.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import Tolerance
from ..core.compare import agrees, only_singletons_differ

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
    inputs: dict = None  # the case's x, W1, b1, W2, b2, y (np.ndarray each): the steps between parts


@dataclass(frozen=True)
class Claim:
    id: str  # recorded in results.json: a catalogue id, a relation id, "computed:...", "localised:..."
    title: str  # a few words for summaries
    message: str  # what the student reads
    key: str = ""  # an answer claim's key (Seen.answer); "" for a relation claim
    fits: Callable = None  # a relation claim: fits(seen, received, expected, tol) on every case ...
    counts: Callable = None  # ... and counts(seen, received, expected) on the failing cases that are evidence
    upstream: bool = False  # a known mistake in dl/dz3 (see DOWNSTREAM_OF_DZ3)
    # an upstream claim ("upstream:<part>"): the parts whose answers the right step takes (it follows
    # from them), or none where it says only that `wrong` parts it is built from are wrong too
    step: tuple = ()
    wrong: tuple = ()  # the wrong parts it points to, the earliest first


def known_claim(mistake_id: str, title: str, message: str, key: str, upstream: bool = False) -> Claim:
    return Claim(mistake_id, title, message, key=key, upstream=upstream)


def computed_claim(part: str, quantity: str, words: str, step: str, b2_right: bool, conventions: dict) -> Claim:
    """"Your dl/db1 equals W2^T dl/dz3 (before the ReLU mask)": an answer claim of a quantity."""
    answer = ANSWER_WORDS[part]
    if quantity.startswith("times:"):
        message = f"Your {answer} is {words} {EVERY}."
        if part in DOWNSTREAM_OF_DZ3 and b2_right:
            message += " Your dl/db2 = dl/dz3 is right, so the slip is in this gradient's own step, not in dl/dy_hat."
        return Claim(f"computed:{quantity}", words, message, key=f"computed:{quantity}")
    message = f"Your {answer} equals {words} {EVERY}, where {right_of(part, conventions)[0]} is right" + \
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
    evidence, varies = 0, False
    for case in seen:
        if not holds_on(claim, case, tol):
            return False
        expected = np.asarray(case.expected, dtype=np.float64)
        if claim.key:
            predicted = case.answer(claim.key)
            varies |= informative(predicted, expected)
            evidence += bool(np.any(predicted)) and not agrees(predicted, expected, tol)
        else:
            evidence += not case.passed and claim.counts(case, np.asarray(case.received, dtype=np.float64), expected)
    return evidence >= 2 and (varies or not claim.key)


def informative(answer, expected) -> bool:
    """An answer that says something: not all zeros, not one value repeated (unless its shape itself,
    differing from the right one's, is the evidence). An answer claim must be informative on some
    case: a mask of ones where z1 >= 0 is evidence on a case with no negative z1 too, np.ones never."""
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


def same_shape(received, expected):
    """received in expected's shape if they differ only by axes of length 1 (as compare accepts), else None."""
    if received.shape == expected.shape:
        return received
    return received.reshape(expected.shape) if only_singletons_differ(received.shape, expected.shape) else None


def agrees_in_shape(received: np.ndarray, expected: np.ndarray, tol: Tolerance) -> bool:
    """received agrees with expected in expected's shape (axes of length 1 aside), as compare judges."""
    reshaped = same_shape(received, expected)
    with np.errstate(all="ignore"):
        return reshaped is not None and agrees(reshaped, expected, tol)


# Placeholders in a claim's words for the cases it holds on, filled in by in_words.
EVERY, EVERY_FAILING = "{every case}", "{every failing case}"


# --- end of the part shared with selfcheck.py ---
