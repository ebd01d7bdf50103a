"""The two-layer-net homework's conventions: where courses differ in what the answer key expects.
(The reference, the answer key, the diagnoses and the handout of that homework follow them.)"""

from __future__ import annotations

from dataclasses import asdict, dataclass

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
