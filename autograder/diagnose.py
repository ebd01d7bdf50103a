"""Name the mistake behind a wrong answer: pure functions, no I/O.

The grader knows the inputs, the reference and the student's answer. For a failing answer it
computes, from the same inputs, the answers of a catalogue of known mistakes (a missing factor 2,
a flipped sign, `>=` in the ReLU derivative, a transposed outer product, ...) and names the one the
answer matches within the part's tolerance, in a sentence that points to the step of the chain
rule to revisit. If none matches, there is no diagnosis: a guess would mislead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .cases import Inputs
from .compare import agrees
from .config import Tolerance


@dataclass(frozen=True)
class Mistake:
    id: str  # stable, for tests and statistics
    message: str  # what the student reads

    @property
    def title(self) -> str:
        """A few words for summaries."""
        return TITLES[self.id]


def _mistakes() -> dict[str, Mistake]:
    m = [
        Mistake("missing_factor_2", "Your answer is exactly half the right one: the factor 2 of "
                "dl/dy_hat = 2 (y_hat - y) is missing (and every gradient downstream of it is halved)."),
        Mistake("sign_flipped", "Your answer has the wrong sign: dl/dy_hat = 2 (y_hat - y), not 2 (y - y_hat)."),
        Mistake("mean_not_sum", "Your answer is divided by k: the loss is the sum of squares ||y_hat - y||^2, "
                "not their mean, so no division by the number of outputs."),
        Mistake("relu_ge", "The ReLU's derivative is taken as 1 where z1 is exactly 0: it must be 0 there. "
                "Use z1 > 0, not z1 >= 0, in dz2/dz1 (and in the mask of the backward pass)."),
        Mistake("jacobian_as_vector", "You returned the Jacobian's diagonal as a vector: return the full "
                "matrix (np.diag(...) for dz2/dz1, np.eye(k) for dy_hat/dz3)."),
        Mistake("jacobian_not_diagonal", "Your Jacobian has non-zero entries off the diagonal: each output of "
                "an elementwise function depends only on its own input, so dz2_i/dz1_j = 0 for i != j."),
        Mistake("transposed", "Your answer is the transpose of the right one: the gradient of a weight matrix "
                "has the matrix's shape, dl/dW = delta (input)^T (outer product in this order)."),
        Mistake("missing_relu_mask", "The ReLU step is missing from your backward pass: dl/dz1 = "
                "relu_jacobian(z1)^T dl/dz2, so the gradient is 0 where z1 <= 0."),
        Mistake("relu_on_output", "You applied a ReLU to the output: g is the identity, y_hat = z3, so "
                "dy_hat/dz3 is the identity and negative outputs stay negative."),
        Mistake("dW2_from_z1", "dl/dW2 is built from z1: Affine2's input is z2 = relu(z1), so "
                "dl/dW2 = dl/dz3 z2^T."),
        Mistake("integer_values", "Your values are whole numbers where the right ones are not: somewhere an "
                "integer array holds floats (e.g. np.zeros_like of an int array, or dtype=int)."),
        Mistake("low_precision", "Your values are right to only a few digits: something is computed in a "
                "low-precision type (float16, or integers); use float64 (or at least float32)."),
        Mistake("wrong_shape_same_values", "The numbers are right but the shape is not: return an array "
                "of the expected shape (no flattening or reshaping)."),
    ]
    return {x.id: x for x in m}


MISTAKES = _mistakes()
TITLES = {
    "missing_factor_2": "missing factor 2 in dl/dy_hat", "sign_flipped": "sign flipped",
    "mean_not_sum": "mean instead of sum",
    "relu_ge": "ReLU derivative 1 at z1 = 0 (>=)", "jacobian_as_vector": "Jacobian returned as a vector",
    "jacobian_not_diagonal": "Jacobian not diagonal", "transposed": "transposed",
    "missing_relu_mask": "ReLU mask missing", "relu_on_output": "ReLU applied to the output",
    "dW2_from_z1": "dW2 built from z1", "integer_values": "integer arithmetic", "low_precision": "low precision",
    "wrong_shape_same_values": "wrong shape",
}


def _forward(i: Inputs, relu_output: bool = False) -> dict[str, np.ndarray]:
    z1 = i.W1 @ i.x + i.b1
    z2 = np.maximum(z1, 0.0)
    z3 = i.W2 @ z2 + i.b2
    return {"z1": z1, "z2": z2, "z3": z3, "y_hat": np.maximum(z3, 0.0) if relu_output else z3}


def _gradients(i: Inputs, scale: float = 2.0, mask: str = ">", relu_output: bool = False) -> dict[str, np.ndarray]:
    """dl/dparameter for a family of (mistaken) chain rules: dl/dy_hat = scale (y_hat - y), a mask rule."""
    f = _forward(i, relu_output)
    d3 = scale * (f["y_hat"] - i.y)
    if relu_output:
        d3 = d3 * (f["z3"] > 0)
    back = i.W2.T @ d3
    d1 = {">": back * (f["z1"] > 0), ">=": back * (f["z1"] >= 0), "none": back}[mask]
    return {"W1": np.outer(d1, i.x), "b1": d1, "W2": np.outer(d3, f["z2"]), "b2": d3}


def candidates(part: str, i: Inputs) -> list[tuple[str, np.ndarray]]:
    """(mistake id, the answer that mistake gives) for `part` on inputs `i`."""
    f = _forward(i)
    k = i.y.shape[0]
    diff = f["y_hat"] - i.y
    out: list[tuple[str, Callable[[], np.ndarray]]] = []
    if part == "forward.y_hat":
        out += [("relu_on_output", lambda: np.maximum(f["z3"], 0.0))]
    elif part == "loss":
        out += [("mean_not_sum", lambda: np.array(diff @ diff / k))]
    elif part == "mse_grad":
        out += [("missing_factor_2", lambda: diff), ("sign_flipped", lambda: -2 * diff),
                ("mean_not_sum", lambda: 2 * diff / k)]
    elif part == "relu_jacobian":
        mask = (f["z1"] > 0).astype(float)
        out += [("relu_ge", lambda: np.diag((f["z1"] >= 0).astype(float))), ("jacobian_as_vector", lambda: mask),
                ("relu_ge", lambda: (f["z1"] >= 0).astype(float)),
                ("jacobian_not_diagonal", lambda: np.outer(mask, np.ones_like(mask))),
                ("jacobian_not_diagonal", lambda: np.outer(np.ones_like(mask), mask))]
    elif part == "output_jacobian":
        out += [("jacobian_as_vector", lambda: np.ones(k)), ("jacobian_not_diagonal", lambda: np.ones((k, k)))]
    elif part.startswith("grad."):
        key = part.split(".")[1]
        right = _gradients(i)[key]
        out += [("missing_factor_2", lambda: _gradients(i, scale=1.0)[key]),
                ("sign_flipped", lambda: _gradients(i, scale=-2.0)[key]),
                ("mean_not_sum", lambda: _gradients(i, scale=2.0 / k)[key]),
                ("relu_on_output", lambda: _gradients(i, relu_output=True)[key])]
        if key in ("W1", "b1"):
            out += [("relu_ge", lambda: _gradients(i, mask=">=")[key]),
                    ("missing_relu_mask", lambda: _gradients(i, mask="none")[key])]
        if key in ("W1", "W2"):
            out += [("transposed", lambda: right.T)]
        if key == "W2":
            out += [("dW2_from_z1", lambda: np.outer(_gradients(i)["b2"], f["z1"]))]
    return [(mistake, make()) for mistake, make in out]


def telling_candidates(part: str, i: Inputs, expected: np.ndarray, tol: Tolerance) -> list[tuple[str, np.ndarray]]:
    """The candidates whose answer differs from `expected` on these inputs: a mistake that gives the
    right answer explains nothing. Depends only on the case, so a grader may keep it for the next."""
    return [(mistake, wrong) for mistake, wrong in candidates(part, i) if not agrees(wrong, expected, tol)]


def diagnose(part: str, i: Inputs, received: np.ndarray, expected: np.ndarray, tol: Tolerance,
             telling: list[tuple[str, np.ndarray]] | None = None) -> Mistake | None:
    """The known mistake that explains `received` (which failed against `expected`), if there is one.

    telling: telling_candidates(part, i, expected, tol), if already known.
    """
    received = np.asarray(received, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(received)) or agrees(received, expected, tol):
        return None  # nothing to explain: not a number, or not wrong
    for mistake, wrong in telling if telling is not None else telling_candidates(part, i, expected, tol):
        if agrees(received, wrong, tol):
            return MISTAKES[mistake]
    if received.size == expected.size and received.shape != expected.shape:
        if received.ndim == 2 and expected.ndim == 2 and agrees(received.T, expected, tol):
            return MISTAKES["transposed"]
        if agrees(received.reshape(expected.shape), expected, tol):
            return MISTAKES["wrong_shape_same_values"]
    if received.shape == expected.shape and expected.size:
        fractional = np.abs(expected - np.round(expected)) > 1e-6
        if fractional.any() and np.array_equal(received, np.round(received)) and \
                (np.array_equal(received, np.trunc(expected)) or np.array_equal(received, np.round(expected))):
            return MISTAKES["integer_values"]
        if agrees(received, expected, Tolerance(rtol=5e-2, atol=5e-2)):
            return MISTAKES["low_precision"]
    return None
