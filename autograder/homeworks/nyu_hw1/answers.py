"""The right answers of nyu-hw1, in numpy (the grader never imports torch): the MLP's forward and
backward passes for each pair of activations, and the two losses under the course's conventions.

Shapes, as the course's `mlp.py` has them (torch's nn.Linear layout): x (batch, n), W1 (h, n),
b1 (h,), W2 (k, h), b2 (k,); z1, z2 (batch, h); z3, y_hat, y, dJdy_hat (batch, k).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "identity")
# the loss's normalisation: torch's default (the mean over the batch and the outputs), the mean over
# the batch of the sum over the outputs, or the plain sum
REDUCTIONS = ("mean", "batch_mean", "sum")
REDUCTION_WORDS = {"mean": "the mean over the batch and the outputs",
                   "batch_mean": "the mean over the batch of the sum over the outputs", "sum": "the sum"}


PAIRS: tuple[tuple[str, str], ...] = tuple((f, g) for f in ACTIVATIONS for g in ACTIVATIONS)  # (f, g)


@dataclass(frozen=True)
class Conventions:
    """What the answer key expects where courses differ.

    loss: how mse_loss and bce_loss reduce over the batch (and the outputs): "mean" (over both, as
        torch.nn.functional.mse_loss and binary_cross_entropy), "batch_mean" (the sum over the
        outputs, averaged over the batch) or "sum"; dJdy_hat follows. backward is given its
        dJdy_hat, so the gradients of the parameters do not depend on it.
    activations: the (f, g) pairs the MLP's parts are graded for (default: all nine).
    """

    loss: str = "mean"
    activations: tuple[tuple[str, str], ...] = PAIRS


def activation(name: str, z: np.ndarray) -> np.ndarray:
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return z.copy()


def derivative(name: str, z: np.ndarray) -> np.ndarray:
    """d activation / dz, elementwise; relu's is 0 where z is exactly 0 (as torch's autograd)."""
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "sigmoid":
        s = activation("sigmoid", z)
        return s * (1.0 - s)
    return np.ones_like(z)


def forward(f: str, g: str, W1, b1, W2, b2, x) -> dict[str, np.ndarray]:
    """z1, z2, z3 and y_hat of the network with activations f and g (a call's order of arguments:
    the parameters, then x)."""
    z1 = x @ W1.T + b1
    z2 = activation(f, z1)
    z3 = z2 @ W2.T + b2
    return {"z1": z1, "z2": z2, "z3": z3, "y_hat": activation(g, z3)}


GRADS = ("dJdW1", "dJdb1", "dJdW2", "dJdb2")  # the course's names, in MLP.grads


def backward(f: str, g: str, W1, b1, W2, b2, x, dJdy_hat, f_slope=derivative, g_slope=derivative) -> dict:
    """The course's grads given dJ/dy_hat (batch, k): dJdW1 (h, n) .. dJdb2 (k,), summed over the batch.
    f_slope, g_slope(name, z): the activations' derivatives (another's: a mistake's grads, diagnosis.py)."""
    z = forward(f, g, W1, b1, W2, b2, x)
    dz3 = dJdy_hat * g_slope(g, z["z3"])
    dz1 = (dz3 @ W2) * f_slope(f, z["z1"])
    return {"dJdW1": dz1.T @ x, "dJdb1": dz1.sum(axis=0), "dJdW2": dz3.T @ z["z2"], "dJdb2": dz3.sum(axis=0)}


def _divisor(y: np.ndarray, reduction: str) -> float:
    return {"mean": float(y.size), "batch_mean": float(y.shape[0]), "sum": 1.0}[reduction]


def mse_loss(y, y_hat, reduction: str = "mean") -> dict[str, np.ndarray]:
    """{"J": the loss (a scalar), "dJdy_hat": its gradient}."""
    n = _divisor(y, reduction)
    return {"J": np.asarray(np.sum((y_hat - y) ** 2) / n), "dJdy_hat": 2.0 * (y_hat - y) / n}


def bce_loss(y, y_hat, reduction: str = "mean") -> dict[str, np.ndarray]:
    """Binary cross-entropy for y_hat in (0, 1): {"J", "dJdy_hat"}."""
    n = _divisor(y, reduction)
    J = -np.sum(y * np.log(y_hat) + (1.0 - y) * np.log(1.0 - y_hat)) / n
    return {"J": np.asarray(J), "dJdy_hat": (y_hat - y) / (y_hat * (1.0 - y_hat)) / n}


def reference_answer(function: str, args: tuple, conventions: Conventions):
    """The answer to a call (its name as the grading tests give it: "forward/relu/sigmoid",
    "backward/relu/sigmoid", "mse_loss", "bce_loss"): y_hat, the grads, or {"J", "dJdy_hat"}."""
    kind, _, activations = function.partition("/")
    if kind == "mse_loss":
        return mse_loss(*args, conventions.loss)
    if kind == "bce_loss":
        return bce_loss(*args, conventions.loss)
    f, g = activations.split("/")
    if kind == "forward":
        return forward(f, g, *args)["y_hat"]
    if kind == "backward":
        return backward(f, g, *args)
    raise ValueError(f"no reference answer for a call of {function!r}")
