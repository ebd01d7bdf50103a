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

Causes start where the error starts. Parts are explained in the order they are built (PART_ORDER);
a part built from a wrong one is explained by that first: by the same known mistake, named there
too; else by "your answer is what the right step gives from your (wrong) dl/db2" (STEPS: checked
on every case); else by "dl/db2, which this part is built from, is wrong too". Its own claims
(relations, quantities, localisations) are tried only when every value it is computed from is
right: "right where z1 <= 0" is otherwise only the ReLU mask zeroing a wrong signal.

A claim said "in every case" counts the cases where the code gave no answer: where some failing
case crashed, the words say on how many cases the claim holds and how many gave no answer.
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


@dataclass(frozen=True)
class Finding:
    """What explains a part: its claims, and on how many failing cases (those with an answer, and
    those where the code gave none: an error, a crash, a timeout)."""

    claims: tuple
    failing: int
    crashed: int = 0


def explain_parts(seen_by_part: dict, tolerances: dict, groups_for: Callable, distinct: Callable,
                  conventions: dict, other_form=frozenset()) -> dict:
    """{part: Finding} for each failing part whose answers have an explanation.

    seen_by_part: {part: [Seen]}, every part observed (a passing one tells that its answers are
    right); groups_for(part, seen, b2_right) -> the part's own groups of claims (seen: its cases with
    an answer, failing first); distinct(part, claims) -> one claim of each function among them (see
    first_fitting); conventions as in grading.toml's [assignment]; other_form: the parts judged
    against another accepted answer than the handout's (a convention set to "either"), whose own
    claims (about the handout's form) say nothing. See the module's docstring."""
    wrong = {part for part, cases in seen_by_part.items() if any(not case.passed for case in cases)}
    observed = {part: {case.key for case in cases} for part, cases in seen_by_part.items()}
    answers = {part: {case.key: case for case in cases if case.received is not None}
               for part, cases in seen_by_part.items()}
    b2_right = bool(seen_by_part.get("grad.b2")) and "grad.b2" not in wrong
    out: dict = {}
    for part in sorted(seen_by_part, key=PART_ORDER.index):
        seen = [case for case in seen_by_part[part] if case.received is not None]
        failing = [case for case in seen if not case.passed]
        if not failing:
            continue
        seen = failing + [case for case in seen if case.passed]
        tol = tolerances[part]
        groups = groups_for(part, seen, b2_right)
        upstream = [u for u in built_from(part) if u in wrong]
        shown = {c.id for u in upstream if u in out for c in out[u].claims}
        own = part not in other_form
        found = first_fitting([[c for c in groups[0] if c.key and c.id in shown]], seen, tol,
                              lambda claims, part=part: distinct(part, claims)) if own else ()  # named upstream too
        if not found and upstream:
            found = _follows(part, seen, observed, answers, wrong, out, tol, conventions)
        if not found:
            chain = [u for u in computed_from(part) if u in wrong]
            if chain:
                found = (wrong_too_claim(part, chain, out),)
        if not found and own:
            if part in DOWNSTREAM_OF_DZ3:  # a known dl/dz3 mistake only where dl/db2 shows it
                groups = [[c for c in group if not c.upstream or c.id in shown] for group in groups]
            found = first_fitting(groups, seen, tol, lambda claims, part=part: distinct(part, claims))
        if found:
            crashed = sum(1 for case in seen_by_part[part] if case.received is None and not case.passed)
            out[part] = Finding(found, len(failing), crashed)
    return {part: out[part] for part in seen_by_part if part in out}


# Placeholders in a claim's words for the cases it holds on, filled in by in_words.
EVERY, EVERY_FAILING = "{every case}", "{every failing case}"


def in_words(finding: Finding) -> tuple:
    """(title, message) of what was found: one claim, or two in one honest sentence; where some
    failing cases gave no answer, on how many the claim holds and how many gave none."""
    claims = finding.claims
    if len(claims) == 1:
        title, message = claims[0].title, claims[0].message
    else:
        a, b = claims
        title = f"{a.title} or {b.title}"
        message = (f"Two explanations fit your answers {EVERY}: {a.title}, or {b.title}. {a.message} "
                   f"Or: {b.message}")
    if not finding.crashed:
        return title, message.replace(EVERY_FAILING, "in every failing case").replace(EVERY, "in every case")
    some = "s" if finding.failing > 1 else ""
    where = f"on the {finding.failing} failing case{some} where your code returned an answer"
    message = message.replace(EVERY_FAILING, where).replace(EVERY, where)
    if where not in message:
        message = f"On the {finding.failing} failing case{some} where your code returned an answer: " + \
            message[:1].lower() + message[1:]
    others = "s" if finding.crashed > 1 else ""
    return title, (f"{message} On {finding.crashed} other failing case{others} it gave no answer (an error, a "
                   "crash or a time-out), which this does not explain.")


def same_shape(received, expected):
    """received in expected's shape if they differ only by axes of length 1 (as compare accepts), else None."""
    if received.shape == expected.shape:
        return received
    return received.reshape(expected.shape) if only_singletons_differ(received.shape, expected.shape) else None


# --- upstream: the parts a part is built from

# The order parts are explained in: each after the parts it is built from.
PART_ORDER = ("affine", "relu", "forward.z1", "forward.z2", "forward.z3", "forward.y_hat", "loss", "relu_jacobian",
              "output_jacobian", "mse_grad", "grad.b2", "grad.W2", "grad.b1", "grad.W1")
# The network's values each part is computed from, whatever functions the code calls to get them.
COMPUTED_FROM = {"forward.z2": ("forward.z1",), "forward.z3": ("forward.z2",), "forward.y_hat": ("forward.z3",),
                 "grad.b2": ("forward.y_hat",), "grad.W2": ("grad.b2", "forward.z2"),
                 "grad.b1": ("grad.b2", "forward.z1"), "grad.W1": ("grad.b1",)}
# Words for a part another is built from.
PART_WORDS = {
    "affine": "affine(x, W, b)", "relu": "relu(z)", "forward.z1": "forward's z1", "forward.z2": "forward's z2",
    "forward.z3": "forward's z3", "forward.y_hat": "forward's y_hat", "relu_jacobian": "relu_jacobian (dz2/dz1)",
    "output_jacobian": "output_jacobian (dy_hat/dz3)", "mse_grad": "mse_grad (dl/dy_hat)",
    "grad.b2": "dl/db2 = dl/dz3", "grad.b1": "dl/db1 = dl/dz1",
}


def _per(i: dict, c: dict) -> float:
    k = len(i["y"])
    return 1.0 / k if c["loss"] == "mean" and k else 1.0


def _through(jacobian, v):
    """The Jacobian's transpose times v, the Jacobian as a matrix or as its diagonal (a vector)."""
    return jacobian * v if jacobian.ndim == 1 else jacobian.T @ v


def _slope(z1, c: dict):
    at_zero = 1.0 if c["relu_derivative_at_zero"] == 1 else 0.0
    return np.where(z1 > 0, 1.0, np.where(z1 == 0, at_zero, 0.0))


# The right step from other parts' answers to a part's, each way a solution may take it (from its
# own forward values, or through the functions it calls, which are tested on the same case):
# (part, the parts it takes) -> step(their answers {part: array}, the case's inputs, conventions).
STEPS = {
    ("forward.z1", ("affine",)): lambda v, i, c: v["affine"],
    ("forward.z2", ("forward.z1",)): lambda v, i, c: np.maximum(v["forward.z1"], 0.0),
    ("forward.z2", ("relu",)): lambda v, i, c: v["relu"],
    ("forward.z3", ("forward.z2",)): lambda v, i, c: i["W2"] @ v["forward.z2"] + i["b2"],
    ("forward.y_hat", ("forward.z3",)): lambda v, i, c: v["forward.z3"],
    ("grad.b2", ("forward.y_hat",)): lambda v, i, c: 2.0 * _per(i, c) * (v["forward.y_hat"] - i["y"]),
    ("grad.b2", ("mse_grad", "output_jacobian")): lambda v, i, c: _through(v["output_jacobian"], v["mse_grad"]),
    ("grad.W2", ("grad.b2", "forward.z2")): lambda v, i, c: np.outer(v["grad.b2"], v["forward.z2"]),
    ("grad.b1", ("grad.b2", "forward.z1")): lambda v, i, c: _slope(v["forward.z1"], c) * (i["W2"].T @ v["grad.b2"]),
    ("grad.b1", ("grad.b2", "relu_jacobian")): lambda v, i, c: _through(v["relu_jacobian"], i["W2"].T @ v["grad.b2"]),
    ("grad.W1", ("grad.b1",)): lambda v, i, c: np.outer(v["grad.b1"], i["x"]),
}


def _closure(part: str, direct: Callable) -> list:
    """Every part `part` is built from (direct(part) -> the nearest ones), the earliest first."""
    found, todo = set(), list(direct(part))
    while todo:
        u = todo.pop()
        if u not in found:
            found.add(u)
            todo += direct(u)
    return sorted(found, key=PART_ORDER.index)


def computed_from(part: str) -> list:
    """The network's values `part` is computed from, near or far, the earliest first."""
    return _closure(part, lambda p: COMPUTED_FROM.get(p, ()))


def built_from(part: str) -> list:
    """Every part `part` is built from: its values, and the functions a solution may call for them."""
    return _closure(part, lambda p: tuple(u for (q, taken) in STEPS if q == p for u in taken)
                    + COMPUTED_FROM.get(p, ()))


def step_answers(part: str, taken: tuple, answers: dict, inputs: dict, conventions: dict) -> list:
    """The right step from the answers of `taken` to `part`'s: one answer (np.ndarray), or two where
    the conventions accept either derivative at 0; none where the step cannot be taken (an answer
    missing or of a shape the step does not take)."""
    slopes = (0, 1) if conventions["relu_derivative_at_zero"] == "either" else (conventions["relu_derivative_at_zero"],)
    out = []
    for at_zero in slopes:
        try:
            with np.errstate(all="ignore"):
                out.append(np.asarray(STEPS[part, taken]({u: answers[u] for u in taken}, inputs,
                                                         {**conventions, "relu_derivative_at_zero": at_zero}),
                                      dtype=np.float64))
        except (KeyError, ValueError, IndexError, TypeError):
            return []
    return out


def follows_on(received, predicted: list, tol: Tolerance) -> bool:
    """Does the answer agree with one the step gives (see step_answers)?"""
    return any(_agree(received, p, tol) for p in predicted)


def _follows(part: str, seen: list, observed: dict, answers: dict, wrong: set, found: dict, tol: Tolerance,
             conventions: dict) -> tuple:
    """(the claim that the part follows from wrong parts by the right step,) where a step with a
    wrong part gives the part's answer on every case where the parts it takes were observed (and
    differs from the right one on two)."""
    for (q, taken), _ in STEPS.items():
        if q != part or not any(u in wrong for u in taken):
            continue
        evidence = 0
        for case in seen:
            if any(case.key not in observed.get(u, ()) for u in taken):
                continue  # (a diagnostic case runs only the failing parts: a passing one is not seen there)
            given = {u: _in_shape(answers[u].get(case.key)) for u in taken}
            predicted = [] if any(v is None for v in given.values()) else \
                step_answers(part, taken, given, case.inputs, conventions)
            if not follows_on(case.received, predicted, tol):
                break
            evidence += not case.passed
        else:
            if evidence >= 2:
                roots = []
                for u in taken:
                    if u in wrong:
                        roots += [r for r in _roots(u, found) if r not in roots]
                return (follows_claim(part, taken, roots),)
    return ()


def _in_shape(case):
    return None if case is None else in_shape(case.received, case.expected)


def in_shape(received, expected):
    """An answer in the right answer's shape where only axes of length 1 differ, else None: the steps
    take answers of the right shapes only (a matrix where a vector belongs broadcasts otherwise)."""
    return same_shape(np.asarray(received, dtype=np.float64), np.asarray(expected))


def _agree(received, predicted, tol: Tolerance) -> bool:
    received = np.asarray(received, dtype=np.float64)
    if received.shape != predicted.shape:
        if received.size != predicted.size or not only_singletons_differ(received.shape, predicted.shape):
            return False
        received = received.reshape(predicted.shape)
    with np.errstate(all="ignore"):
        return agrees(received, predicted, tol)


def _roots(part: str, found: dict) -> list:
    """Where the error of a wrong part starts: where it is explained by parts upstream, there."""
    claims = found[part].claims if part in found else ()
    if len(claims) == 1 and claims[0].wrong:
        return list(claims[0].wrong)
    return [part]


def _words(parts) -> str:
    words = [PART_WORDS.get(p, p) for p in parts]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def follows_claim(part: str, taken: tuple, roots: list) -> Claim:
    """"Your dl/dW1 is what the right step gives from your dl/db1": the error is upstream."""
    them = "it" if len(roots) == 1 else "them"
    return Claim(f"upstream:{roots[0]}", f"error upstream, in {PART_WORDS.get(roots[0], roots[0])}",
                 f"Your {ANSWER_WORDS[part]} is what the right step gives from your {_words(taken)} {EVERY}: "
                 f"the error starts upstream, in your {_words(roots)}. Fix {them} and this part follows.",
                 step=tuple(taken), wrong=tuple(roots))


def wrong_too_claim(part: str, wrong: list, found: dict) -> Claim:
    """"dl/db2, which this part is built from, is wrong too": said first, before any claim of its own.
    wrong: the wrong values the part is computed from, the earliest first."""
    direct = [u for u in COMPUTED_FROM[part] if u in wrong] or wrong[:1]
    roots = []
    for u in wrong[:1] + direct:
        roots += [r for r in _roots(u, found) if r not in roots]
    verb = "is" if len(direct) == 1 else "are"
    return Claim(f"upstream:{roots[0]}", f"error upstream, in {PART_WORDS.get(roots[0], roots[0])}",
                 f"Your {ANSWER_WORDS[part]} is built from your {_words(direct)}, which {verb} wrong too: the error "
                 f"starts upstream, at the earliest in your {_words(roots[:1])}. Fix that first; this part may then "
                 "be right, or show a mistake of its own.", wrong=tuple(roots[:1]))


# --- end of the part shared with selfcheck.py ---
