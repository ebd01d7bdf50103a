"""The assignment contract: the student's functions and the graded parts (fixed ids)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SUBMISSION_FILE = "two_layer_net.py"
# What student code may import besides Python's standard library: what the Gradescope runtime has.
RUNTIME_PACKAGES: tuple[str, ...] = ("numpy",)

# The answer key's conventions ([assignment] in grading.toml), each with its accepted values.
JACOBIAN_FORMS = ("matrix", "diagonal", "either")
DERIVATIVES_AT_ZERO = (0, 1, "either")
LOSSES = ("sum", "mean")


@dataclass(frozen=True)
class Conventions:
    """What the answer key expects where courses differ. "either" accepts both answers.

    jacobians: relu_jacobian and output_jacobian return the (h, h) / (k, k) matrices ("matrix"),
        their diagonals as (h,) / (k,) vectors ("diagonal"), or either form.
    relu_derivative_at_zero: dz2/dz1 where z1 is exactly 0 (in relu_jacobian and the backward
        pass's mask): 0, 1 (a subgradient) or either.
    loss: "sum" (||y_hat - y||^2) or "mean" (||y_hat - y||^2 / k, as PyTorch's mse_loss); mse_grad
        and every gradient follow.
    """

    jacobians: str = "matrix"
    relu_derivative_at_zero: int | str = 0
    loss: str = "sum"

    def as_dict(self) -> dict:
        return asdict(self)


def part_title(part: Part, conventions: Conventions) -> str:
    """The part's title under the conventions (the loss's formulas carry "/ k" under a mean)."""
    if conventions.loss == "mean" and part.id in ("loss", "mse_grad"):
        return part.title + " / k"
    return part.title


@dataclass(frozen=True)
class Part:
    id: str  # fixed: carried in every Gradescope test's tags
    title: str  # what a student reads
    function: str  # the student function this part calls
    key: str | None = None  # for functions returning a dict: the entry graded here


PARTS: tuple[Part, ...] = (
    Part("affine", "Affine layer: affine(x, W, b) = W x + b", "affine"),
    Part("relu", "ReLU: relu(z)", "relu"),
    Part("forward.z1", "Forward pass: z1 (output of Affine1)", "forward", "z1"),
    Part("forward.z2", "Forward pass: z2 (output of the ReLU)", "forward", "z2"),
    Part("forward.z3", "Forward pass: z3 (output of Affine2)", "forward", "z3"),
    Part("forward.y_hat", "Forward pass: y_hat (network output)", "forward", "y_hat"),
    Part("loss", "Loss: mse_loss(y_hat, y) = ||y_hat - y||^2", "mse_loss"),
    Part("relu_jacobian", "ReLU Jacobian dz2/dz1", "relu_jacobian"),
    Part("output_jacobian", "Output Jacobian dy_hat/dz3", "output_jacobian"),
    Part("mse_grad", "Loss gradient dl/dy_hat = 2 (y_hat - y)", "mse_grad"),
    Part("grad.W1", "Backward pass: dl/dW1", "backward", "W1"),
    Part("grad.b1", "Backward pass: dl/db1", "backward", "b1"),
    Part("grad.W2", "Backward pass: dl/dW2", "backward", "W2"),
    Part("grad.b2", "Backward pass: dl/db2", "backward", "b2"),
)

PART_IDS: tuple[str, ...] = tuple(p.id for p in PARTS)
PARTS_BY_ID: dict[str, Part] = {p.id: p for p in PARTS}

# Functions returning a dict, and the keys that dict must hold.
DICT_KEYS: dict[str, tuple[str, ...]] = {
    "forward": ("z1", "z2", "z3", "y_hat"),
    "backward": ("W1", "b1", "W2", "b2"),
}
FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.function for p in PARTS))

# The arguments of each function, by name, in order (for showing a visible case's inputs).
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "affine": ("x", "W", "b"), "relu": ("z",), "forward": ("x", "W1", "b1", "W2", "b2"),
    "mse_loss": ("y_hat", "y"), "relu_jacobian": ("z1",), "output_jacobian": ("z3",), "mse_grad": ("y_hat", "y"),
    "backward": ("x", "y", "W1", "b1", "W2", "b2"),
}
