"""What a wrong answer could be: the network's own quantities, and the answers of known mistakes.

Pure functions of a case's inputs, no I/O. diagnose.py tests each of these against a student's
answers on the visible cases and names one only when it explains every one of them.

- `signals(i, conventions)`: every vector and matrix the network computes on inputs `i` (forward and
  backward), under the course's conventions (a mean loss divides dl/dz3 by k; the ReLU's slope
  at exactly 0 is the configured one; "either" reads as the handout's choice).
- `CATALOGUE`: known mistakes (a missing factor 2, `>=` in the ReLU derivative, a transposed outer
  product, ...), each with the answer it gives for the parts it affects and the words a student
  reads. Their ids are stable: results.json's `extra_data.mistakes` and the class report count them.
- `quantities(part)`: "what you computed": the answer equals z2, or W2^T dl/dz3 before the ReLU
  mask, or dl/dz1 z2^T, or the right answer times -1, 2 or 1/2; with words naming the step.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.cases import Inputs
from ..core.conventions import Conventions
from .relations import RELATIONS

HANDOUT = Conventions()

Signals = dict[str, np.ndarray]


def signals(i: Inputs, conventions: Conventions = HANDOUT) -> Signals:
    """The network on inputs `i`: x (n,), W1 (h, n), b1 (h,), W2 (k, h), b2 (k,), y (k,), z1, z2 (h,),
    z3 = y_hat (k,), d3 = dl/dz3 (k,), back = W2^T dl/dz3 before the ReLU mask (h,), d1 = dl/dz1 (h,);
    and the conventions' slope = dz2/dz1's diagonal (h,) and per = 1/k for a mean loss, else 1 (())."""
    z1 = i.W1 @ i.x + i.b1
    z2 = np.maximum(z1, 0.0)
    z3 = i.W2 @ z2 + i.b2
    per = 1.0 / z3.shape[0] if conventions.loss == "mean" and z3.shape[0] else 1.0
    d3 = 2.0 * per * (z3 - i.y)
    back = i.W2.T @ d3
    at_zero = 1.0 if conventions.relu_derivative_at_zero == 1 else 0.0
    slope = np.where(z1 > 0, 1.0, np.where(z1 == 0, at_zero, 0.0))
    return {"x": i.x, "W1": i.W1, "b1": i.b1, "W2": i.W2, "b2": i.b2, "y": i.y,
            "z1": z1, "z2": z2, "z3": z3, "d3": d3, "back": back, "d1": back * slope,
            "slope": slope, "per": np.array(per)}


def diagonal_jacobians(conventions: Conventions) -> bool:
    """Are the Jacobians' right answers their diagonals ("either" reads as the handout's matrices)?"""
    return conventions.jacobians == "diagonal"


def right_answer(part: str, s: Signals, conventions: Conventions = HANDOUT) -> np.ndarray:
    """The right answer of `part` from the signals (the reference's, up to rounding)."""
    k = s["z3"].shape[0]
    vectors = diagonal_jacobians(conventions)
    return {
        "affine": lambda: s["z1"], "relu": lambda: s["z2"], "forward.z1": lambda: s["z1"],
        "forward.z2": lambda: s["z2"], "forward.z3": lambda: s["z3"], "forward.y_hat": lambda: s["z3"],
        "loss": lambda: np.array((s["z3"] - s["y"]) @ (s["z3"] - s["y"]) * s["per"]),
        "relu_jacobian": lambda: s["slope"] if vectors else np.diag(s["slope"]),
        "output_jacobian": lambda: np.ones(k) if vectors else np.eye(k), "mse_grad": lambda: s["d3"],
        "grad.W1": lambda: np.outer(s["d1"], s["x"]), "grad.b1": lambda: s["d1"],
        "grad.W2": lambda: np.outer(s["d3"], s["z2"]), "grad.b2": lambda: s["d3"],
    }[part]()


# ------------------------------------------------------------------------------------------------
# Known mistakes


@dataclass(frozen=True)
class Mistake:
    id: str  # stable, for tests and statistics
    title: str  # a few words for summaries
    message: str  # what the student reads
    # part id -> the answer this mistake gives on the signals of a case
    answers: dict[str, Callable[[Signals], np.ndarray]]
    upstream: bool = False  # a mistake in dl/dz3, so it shows in dl/db2 too (see diagnose.py)


def _gradients(s: Signals, factor: float = 1.0, mask: str = "", relu_output: bool = False) -> Signals:
    """dl/dparameter for a family of (mistaken) chain rules: dl/dy_hat = factor times the right one,
    a mask rule ("": the conventions' slope), a ReLU on the output."""
    z3 = np.maximum(s["z3"], 0.0) if relu_output else s["z3"]
    d3 = factor * 2.0 * s["per"] * (z3 - s["y"]) * ((s["z3"] > 0) if relu_output else 1.0)
    back = s["W2"].T @ d3
    d1 = {"": back * s["slope"], ">": back * (s["z1"] > 0), ">=": back * (s["z1"] >= 0),
          "<=": back * (s["z1"] <= 0), "<": back * (s["z1"] < 0), "none": back}[mask]
    return {"W1": np.outer(d1, s["x"]), "b1": d1, "W2": np.outer(d3, s["z2"]), "b2": d3}


def _each_gradient(**rule) -> dict[str, Callable[[Signals], np.ndarray]]:
    return {f"grad.{key}": (lambda s, key=key: _gradients(s, **rule)[key]) for key in ("W1", "b1", "W2", "b2")}


def _dz3_scaled(scale: Callable[[Signals], float]) -> dict[str, Callable[[Signals], np.ndarray]]:
    """dl/dy_hat and every gradient, scale(s) times the right ones: a slip in dl/dy_hat = dl/dz3."""
    return {"mse_grad": lambda s: scale(s) * s["d3"], **{
        f"grad.{key}": (lambda s, key=key: _gradients(s, factor=scale(s))[key]) for key in ("W1", "b1", "W2", "b2")}}


def _masked(mask: str) -> dict[str, Callable[[Signals], np.ndarray]]:
    """dl/dW1 and dl/db1 under a mask rule."""
    return {f"grad.{key}": (lambda s, key=key: _gradients(s, mask=mask)[key]) for key in ("W1", "b1")}


def _k(s: Signals) -> int:
    return s["z3"].shape[0]


def _catalogue(conventions: Conventions) -> tuple[Mistake, ...]:
    """The known mistakes under the conventions: an accepted convention is never one of them (a sum
    is the mistake under a mean loss; the matrix is, where the diagonal is asked for)."""
    def diff(s):
        return s["z3"] - s["y"]

    def ones_outer(mask, first):
        return np.outer(mask, np.ones_like(mask)) if first else np.outer(np.ones_like(mask), mask)

    def jacobian(vector):  # a Jacobian's right form under the conventions, from its diagonal
        return vector if vectors else np.diag(vector)

    vectors = diagonal_jacobians(conventions)
    mean = conventions.loss == "mean"
    at_one = conventions.relu_derivative_at_zero == 1
    grad_words = "2 (y_hat - y) / k" if mean else "2 (y_hat - y)"
    mask_words = "z1 >= 0" if at_one else "z1 > 0"
    out = [
        Mistake("missing_factor_2", "missing factor 2 in dl/dy_hat",
                f"Your answer is exactly half the right one: the factor 2 of dl/dy_hat = {grad_words} is missing.",
                _dz3_scaled(lambda s: 0.5), upstream=True),
        Mistake("sign_flipped", "sign flipped in dl/dy_hat",
                f"Your answer has the wrong sign: dl/dy_hat = {grad_words}, not "
                f"{grad_words.replace('(y_hat - y)', '(y - y_hat)')}.",
                _dz3_scaled(lambda s: -1.0), upstream=True),
    ]
    if mean:
        out.append(Mistake(
            "sum_not_mean", "sum instead of mean",
            "Your answer is k times the right one: the loss is the mean of the squares ||y_hat - y||^2 / k, "
            "not their sum, so dl/dy_hat = 2 (y_hat - y) / k.",
            {"loss": lambda s: np.array(diff(s) @ diff(s)), **_dz3_scaled(_k)}, upstream=True))
    else:
        out.append(Mistake(
            "mean_not_sum", "mean instead of sum",
            "Your answer is divided by k: the loss is the sum of squares ||y_hat - y||^2, not their mean, "
            "so no division by the number of outputs.",
            {"loss": lambda s: np.array(diff(s) @ diff(s) / _k(s)), **_dz3_scaled(lambda s: 1.0 / _k(s))},
            upstream=True))
    out.append(Mistake(
        "relu_on_output", "ReLU applied to the output",
        "You applied a ReLU to the output: g is the identity, y_hat = z3, so dy_hat/dz3 is the identity "
        "and negative outputs stay negative.",
        {"forward.y_hat": lambda s: np.maximum(s["z3"], 0.0), **_each_gradient(relu_output=True)},
        upstream=True))
    if conventions.relu_derivative_at_zero == 0:
        out.append(Mistake(
            "relu_ge", "ReLU derivative 1 at z1 = 0 (>=)",
            "The ReLU's derivative is taken as 1 where z1 is exactly 0: it must be 0 there. Use z1 > 0, not "
            "z1 >= 0, in dz2/dz1 (and in the mask of the backward pass).",
            {"relu_jacobian": lambda s: jacobian((s["z1"] >= 0).astype(float)), **_masked(">=")}))
    elif conventions.relu_derivative_at_zero == 1:
        out.append(Mistake(
            "relu_gt", "ReLU derivative 0 at z1 = 0 (>)",
            "The ReLU's derivative is taken as 0 where z1 is exactly 0: this course takes it as 1 there (a "
            "subgradient). Use z1 >= 0, not z1 > 0, in dz2/dz1 (and in the mask of the backward pass).",
            {"relu_jacobian": lambda s: jacobian((s["z1"] > 0).astype(float)), **_masked(">")}))
    out += [
        Mistake("missing_relu_mask", "ReLU mask missing",
                "The ReLU step is missing from your backward pass: dl/dz1 = "
                f"{'relu_jacobian(z1) * dl/dz2 (elementwise)' if vectors else 'relu_jacobian(z1)^T dl/dz2'}, so the "
                f"gradient is 0 where {'z1 < 0' if at_one else 'z1 <= 0'}.",
                _masked("none")),
        Mistake("relu_mask_inverted", "ReLU mask inverted",
                "Your ReLU mask is inverted: the gradient passes where z1 <= 0 and is stopped where z1 > 0. "
                f"The ReLU's derivative is 1 where {mask_words} and 0 elsewhere.",
                {"relu_jacobian": lambda s: jacobian((s["z1"] <= 0).astype(float)), **_masked("<=")}),
        Mistake("relu_mask_inverted", "ReLU mask inverted", "",  # the same, with z1 < 0
                {"relu_jacobian": lambda s: jacobian((s["z1"] < 0).astype(float)), **_masked("<")}),
    ]
    if conventions.jacobians == "matrix":
        out.append(Mistake(
            "jacobian_as_vector", "Jacobian returned as a vector",
            "You returned the Jacobian's diagonal as a vector: return the full matrix (np.diag(...) for "
            "dz2/dz1, np.eye(k) for dy_hat/dz3).",
            {"relu_jacobian": lambda s: s["slope"], "output_jacobian": lambda s: np.ones(_k(s))}))
    elif vectors:
        out.append(Mistake(
            "jacobian_as_matrix", "Jacobian returned as a matrix",
            "You returned the full Jacobian matrix: this course asks for its diagonal as a vector (the i-th "
            "element dz2_i/dz1_i; for dy_hat/dz3 a vector of ones).",
            {"relu_jacobian": lambda s: np.diag(s["slope"]), "output_jacobian": lambda s: np.eye(_k(s))}))
    if not vectors:
        out += [
            Mistake("jacobian_not_diagonal", "Jacobian not diagonal",
                    "Your Jacobian has non-zero entries off the diagonal: each output of an elementwise function "
                    "depends only on its own input, so dz2_i/dz1_j = 0 for i != j.",
                    {"relu_jacobian": lambda s: ones_outer(s["slope"], True),
                     "output_jacobian": lambda s: np.ones((_k(s),) * 2)}),
            Mistake("jacobian_not_diagonal", "Jacobian not diagonal", "",  # the same mistake, the other way round
                    {"relu_jacobian": lambda s: ones_outer(s["slope"], False)}),
        ]
    out += [
        Mistake("transposed", "transposed",
                "Your answer is the transpose of the right one: the gradient of a weight matrix has the matrix's "
                "shape, dl/dW = delta (input)^T (outer product in this order).",
                {"grad.W1": lambda s: np.outer(s["x"], s["d1"]), "grad.W2": lambda s: np.outer(s["z2"], s["d3"])}),
        Mistake("dW2_from_z1", "dW2 built from z1",
                "dl/dW2 is built from z1: Affine2's input is z2 = relu(z1), so dl/dW2 = dl/dz3 z2^T.",
                {"grad.W2": lambda s: np.outer(s["d3"], s["z1"])}),
    ]
    return tuple(out)


@functools.cache
def catalogue_of(conventions: Conventions) -> tuple[Mistake, ...]:
    """The known mistakes under the conventions (made once per conventions)."""
    return _catalogue(conventions)


CATALOGUE: tuple[Mistake, ...] = catalogue_of(HANDOUT)
# every known mistake under some conventions (ids are stable across them: results.json, the report)
_EVERY = [m for c in (HANDOUT, Conventions("diagonal", 1, "mean")) for m in catalogue_of(c)]
TITLES: dict[str, str] = {m.id: m.title for m in _EVERY} | {k: title for k, (title, _) in RELATIONS.items()}


def messages(conventions: Conventions = HANDOUT) -> dict[str, str]:
    """{id: what a student reads} for the known mistakes (under the conventions) and the relations."""
    return ({m.id: m.message for m in reversed(catalogue_of(conventions)) if m.message}
            | {k: msg for k, (_, msg) in RELATIONS.items()})


MESSAGES: dict[str, str] = messages(HANDOUT)


def catalogue(part: str, conventions: Conventions = HANDOUT) -> list[Mistake]:
    """The known mistakes that change `part`'s answer, in the order they are tried."""
    return [m for m in catalogue_of(conventions) if part in m.answers]


# ------------------------------------------------------------------------------------------------
# What you computed: the network's quantities


@dataclass(frozen=True)
class Quantity:
    id: str  # stable within a part: "z2", "outer:back,x", "times:-1"
    words: str  # "W2^T dl/dz3 (before the ReLU mask)"
    answer: Callable[[Signals], np.ndarray]
    step: str = ""  # which step of the chain rule it points to, if it says more than the words


# The vectors, by signal name: what a student reads.
VECTORS = {
    "x": "x", "z1": "z1", "z2": "z2 = relu(z1)", "z3": "y_hat (= z3)", "y": "y", "b1": "b1", "b2": "b2",
    "d3": "dl/dz3 = 2 (y_hat - y)", "back": "W2^T dl/dz3 (before the ReLU mask)", "d1": "dl/dz1",
}
MATRICES = {"W1": "W1", "W2": "W2"}
# For outer products, the right answer's two factors (signal names).
OUTER_FACTORS = {"grad.W1": ("d1", "x"), "grad.W2": ("d3", "z2")}
VECTOR_ANSWER = {"forward.z1": "z1", "forward.z2": "z2", "forward.z3": "z3", "forward.y_hat": "z3",
                 "mse_grad": "d3", "grad.b1": "d1", "grad.b2": "d3"}
# Why one signal where another belongs points to a step of the chain rule.
STEPS = {
    ("back", "d1"): "the step through the ReLU (the mask z1 > 0) is missing",
    ("z1", "z2"): "Affine2's input is z2 = relu(z1), not z1",
    ("d3", "d1"): "the signal must go back through W2^T and the ReLU mask to reach Affine1",
    ("z2", "x"): "each weight's gradient pairs the signal with its own layer's input: x for W1",
    ("x", "z2"): "each weight's gradient pairs the signal with its own layer's input: z2 for W2",
    ("d1", "d3"): "W2 and b2 get dl/dz3 directly: nothing of the ReLU or W2 lies between",
    ("z3", "d3"): "dl/dz3 = 2 (y_hat - y), not y_hat",
}
SCALES = {-1.0: "the right one with its sign flipped", 2.0: "twice the right one", 0.5: "half the right one"}
EXTRAS = {  # quantities a slip in one formula gives: (id, words)
    "forward.z1": [("W1x", "W1 x without b1"), ("W1x-b1", "W1 x - b1"), ("W1x*b1", "(W1 x) * b1, elementwise")],
    "affine": [("W1x", "W x without b"), ("W1x-b1", "W x - b"), ("W1x*b1", "(W x) * b, elementwise")],
    "forward.z3": [("W2z2", "W2 z2 without b2"), ("W2z1", "W2 z1 + b2"), ("W2z2-b2", "W2 z2 - b2"),
                   ("W2z2*b2", "(W2 z2) * b2, elementwise")],
    "forward.y_hat": [("W2z2", "W2 z2 without b2"), ("W2z1", "W2 z1 + b2"), ("W2z2-b2", "W2 z2 - b2"),
                      ("W2z2*b2", "(W2 z2) * b2, elementwise")],
    "loss": [("sum", "sum(y_hat - y), not squared"), ("2sum", "2 sum(y_hat - y)"),
             ("cubes", "sum((y_hat - y)^3)"), ("plus", "||y_hat + y||^2"), ("norm", "||y_hat - y||, not squared"),
             ("abs", "sum|y_hat - y|"), ("squares", "sum(y_hat^2 - y^2)")],
}
_EXTRA_ANSWERS = {
    "W1x": lambda s: s["W1"] @ s["x"], "W1x-b1": lambda s: s["W1"] @ s["x"] - s["b1"],
    "W1x*b1": lambda s: (s["W1"] @ s["x"]) * s["b1"], "W2z2": lambda s: s["W2"] @ s["z2"],
    "W2z1": lambda s: s["W2"] @ s["z1"] + s["b2"], "W2z2-b2": lambda s: s["W2"] @ s["z2"] - s["b2"],
    "W2z2*b2": lambda s: (s["W2"] @ s["z2"]) * s["b2"],
    "sum": lambda s: np.array(np.sum(s["z3"] - s["y"])), "2sum": lambda s: np.array(2 * np.sum(s["z3"] - s["y"])),
    "cubes": lambda s: np.array(np.sum((s["z3"] - s["y"]) ** 3)),
    "plus": lambda s: np.array(np.sum((s["z3"] + s["y"]) ** 2)),
    "norm": lambda s: np.array(np.linalg.norm(s["z3"] - s["y"])),
    "abs": lambda s: np.array(np.sum(np.abs(s["z3"] - s["y"]))),
    "squares": lambda s: np.array(np.sum(s["z3"] ** 2 - s["y"] ** 2)),
}


# The length of each vector, in the sizes n, h, k; a quantity is compared with a part's answer
# only when its shape in these sizes is the right answer's (not where sizes happen to coincide).
SIZES = {"x": "n", "z1": "h", "z2": "h", "z3": "k", "y": "k", "b1": "h", "b2": "k", "d3": "k", "back": "h", "d1": "h"}
MATRIX_SHAPES = {"W1": ("h", "n"), "W2": ("k", "h")}


def quantities(part: str, shape: tuple[str, ...], conventions: Conventions = HANDOUT) -> list[Quantity]:
    """The quantities worth comparing with `part`'s answer, of `shape` (the right one's, in sizes
    n, h, k: evidence.right_of), in the order they are tried."""
    vectors = VECTORS | ({"d3": "dl/dz3 = 2 (y_hat - y) / k"} if conventions.loss == "mean" else {})
    out: list[Quantity] = []
    right_vector = VECTOR_ANSWER.get(part)
    for name, extra in EXTRAS.get(part, []):
        out.append(Quantity(name, extra, _EXTRA_ANSWERS[name],
                            "Affine2's input is z2 = relu(z1), not z1" if name == "W2z1" else ""))
    for name, words in vectors.items():
        if (SIZES[name],) == shape and name != right_vector:
            out.append(Quantity(name, words, lambda s, name=name: s[name], STEPS.get((name, right_vector), "")))
    for name, words in MATRICES.items():
        if MATRIX_SHAPES[name] == shape:
            out.append(Quantity(name, words, lambda s, name=name: s[name]))
    factors = OUTER_FACTORS.get(part)
    for a, b in itertools.permutations(VECTORS, 2):
        if (SIZES[a], SIZES[b]) == shape and (a, b) != factors:
            out.append(Quantity(f"outer:{a},{b}", _outer_words(a, b), lambda s, a=a, b=b: np.outer(s[a], s[b]),
                                _outer_step(a, b, factors)))
    for factor, words in SCALES.items():
        out.append(Quantity(f"times:{factor:g}", words, lambda s, f=factor: f * right_answer(part, s, conventions)))
    return out


def _outer_words(a: str, b: str) -> str:
    short = {"d3": "dl/dz3", "back": "(W2^T dl/dz3, before the ReLU mask)", "d1": "dl/dz1", "z3": "y_hat"}
    return f"the outer product {short.get(a, a)} {short.get(b, b)}^T"


def _outer_step(a: str, b: str, factors: tuple[str, str] | None) -> str:
    """For dl/dW = delta input^T: which factor is wrong, and what that points to."""
    if not factors:
        return ""
    delta, given = factors
    names = {"d3": "dl/dz3", "back": "W2^T dl/dz3 (before the ReLU mask)", "d1": "dl/dz1", "z3": "y_hat"}
    if a == delta:
        return f"it uses {names.get(b, b)} where {names.get(given, given)} belongs" + \
            (f": {STEPS[(b, given)]}" if (b, given) in STEPS else "")
    if b == given:
        return f"it uses {names.get(a, a)} where {names.get(delta, delta)} belongs" + \
            (f": {STEPS[(a, delta)]}" if (a, delta) in STEPS else "")
    if (b, a) == factors:
        return "it is the transpose of the right one"
    return ""


def candidates(part: str, i: Inputs, conventions: Conventions = HANDOUT) -> list[tuple[str, np.ndarray]]:
    """(mistake id, the answer that mistake gives) for `part` on inputs `i`, for every known mistake."""
    s = signals(i, conventions)
    return [(m.id, np.asarray(m.answers[part](s), dtype=np.float64)) for m in catalogue(part, conventions)]
