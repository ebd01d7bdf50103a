"""Across the parts: each is explained after those it is built from. Pure numpy, no I/O.

Shared with the students' selfcheck.py as evidence.py is (handout.py copies the part between the
markers in).

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
from .evidence import (
    ANSWER_WORDS,
    DOWNSTREAM_OF_DZ3,
    EVERY,
    EVERY_FAILING,
    Claim,
    agrees_in_shape,
    first_fitting,
    same_shape,
)

# --- shared with the students' selfcheck.py (handout.py copies it in): stdlib and numpy only ---


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
            if part in DOWNSTREAM_OF_DZ3:  # a known dl/dz3 mistake only where dl/db2 shows it (tried above)
                groups = [[c for c in group if not c.upstream] for group in groups]
            found = first_fitting(groups, seen, tol, lambda claims, part=part: distinct(part, claims))
        if found:
            crashed = sum(1 for case in seen_by_part[part] if case.received is None and not case.passed)
            out[part] = Finding(found, len(failing), crashed)
    return {part: out[part] for part in seen_by_part if part in out}


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
    if EVERY in message or EVERY_FAILING in message:
        message = message.replace(EVERY_FAILING, where).replace(EVERY, where)
    else:
        message = f"{where[:1].upper()}{where[1:]}: {message[:1].lower()}{message[1:]}"
    others = "s" if finding.crashed > 1 else ""
    return title, (f"{message} On {finding.crashed} other failing case{others} it gave no answer (an error, a "
                   "crash or a time-out), which this does not explain.")


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
    return any(agrees_in_shape(np.asarray(received, dtype=np.float64), p, tol) for p in predicted)


def _follows(part: str, seen: list, observed: dict, answers: dict, wrong: set, found: dict, tol: Tolerance,
             conventions: dict) -> tuple:
    """(the claim that the part follows from wrong parts by the right step,) where a step with a
    wrong part gives the part's answer on every case where the parts it takes were observed (and
    differs from the right one on two)."""
    for q, taken in STEPS:
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
    root = _roots(wrong[0], found)[0]
    verb = "is" if len(direct) == 1 else "are"
    return Claim(f"upstream:{root}", f"error upstream, in {PART_WORDS.get(root, root)}",
                 f"Your {ANSWER_WORDS[part]} is built from your {_words(direct)}, which {verb} wrong too: the error "
                 f"starts upstream, at the earliest in your {_words([root])}. Fix that first; this part may then "
                 "be right, or show a mistake of its own.", wrong=(root,))


# --- end of the part shared with selfcheck.py ---
