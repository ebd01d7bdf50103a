"""nyu-hw1's likely causes: the mistakes seen in real solutions of the course's homework, each a
formula that reproduces a student's answers.

A mistake is named for a part only when its formula gives the student's answer on every case the
part was seen on (the visible cases, and the diagnostic ones, run only when a part fails: inputs the
student never saw), passing cases included, and differs from the right answer on at least two of
them, one a diagnostic case: a claim checked on fresh inputs, never a guess from one case. The
first mistake of the catalogue that holds is named; none: the part says what is wrong, not why.
Reached through the homework's `diagnoser` (core.explain.Diagnoser); pure numpy, no grading.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...core.compare import Tolerance, compare
from ...core.explain import Explanation, Observation
from .answers import GRADS, REDUCTION_WORDS, Conventions, backward, bce_loss, derivative, forward, mse_loss
from .cases import Network, Targets

BACKWARD = tuple(f"mlp.backward.{name[3:]}" for name in GRADS)  # mlp.backward.W1 .. mlp.backward.b2
LOSS_PARTS = ("mlp.mse_loss", "mlp.mse_grad", "mlp.bce_loss", "mlp.bce_grad")


@dataclass(frozen=True)
class Mistake:
    id: str  # recorded in results.json's extra_data.mistakes
    title: str  # a few words for summaries and the class's mistake groups
    message: str  # what the student reads
    parts: tuple[str, ...]
    # the answer the mistake gives for a part on a case's inputs (None: it gives the right one there)
    answer: Callable[[str, object, Conventions], np.ndarray | None]
    # a part that must be right on every case for the mistake to be named (its message says so), or None
    needs_right: Callable[[str], str | None] = lambda part: None


# --- the network ------------------------------------------------------------------------------


def _grads(net: Network, f_slope=derivative, g_slope=derivative) -> dict[str, np.ndarray]:
    """The grads with the activations' derivatives as given (by default the right ones), keyed by part."""
    grads = backward(net.f, net.g, *net.arrays, f_slope=f_slope, g_slope=g_slope)
    return {f"mlp.backward.{name[3:]}": value for name, value in grads.items()}


def _ones(name: str, z: np.ndarray) -> np.ndarray:
    return np.ones_like(z)


def _sigmoid_from_z(name: str, z: np.ndarray) -> np.ndarray:
    return z * (1.0 - z) if name == "sigmoid" else derivative(name, z)


def _relu_one_at_zero(name: str, z: np.ndarray) -> np.ndarray:
    return (z >= 0).astype(np.float64) if name == "relu" else derivative(name, z)


def _network(compute: Callable[[Network], dict]) -> Callable:
    def answer(part: str, inputs, conventions: Conventions):
        return compute(inputs).get(part) if isinstance(inputs, Network) else None
    return answer


def _scaled(divisor: Callable[[Network], float]) -> Callable:
    return _network(lambda net: {part: value / divisor(net) for part, value in _grads(net).items()})


# --- the losses -------------------------------------------------------------------------------

_LOSS = {"mse": mse_loss, "bce": bce_loss}


def _loss_answer(part: str, inputs, reduction: str, scale: float = 1.0):
    if not isinstance(inputs, Targets):
        return None
    name = part.split(".")[1].split("_")[0]  # mlp.mse_loss -> mse
    result = _LOSS[name](inputs.y, inputs.y_hat, reduction)
    return scale * result["J" if part.endswith("_loss") else "dJdy_hat"]


def _reduction(reduction: str) -> Callable:
    def answer(part, inputs, conventions):
        return None if conventions.loss == reduction else _loss_answer(part, inputs, reduction)
    return answer


def _gradient_unscaled(part, inputs, conventions):
    """dJdy_hat without the loss's 1/n: the gradient of the plain sum."""
    return None if conventions.loss == "sum" or not part.endswith("_grad") else _loss_answer(part, inputs, "sum")


CATALOGUE: tuple[Mistake, ...] = (
    Mistake("nyu:no_g_derivative", "g's derivative left out",
            "Your grads are what backward gives without the derivative of g, the output activation: "
            "dJ/dz3 is dJdy_hat times g'(z3), elementwise, not dJdy_hat alone (the two agree only where g is "
            "the identity).", BACKWARD, _network(lambda net: _grads(net, g_slope=_ones))),
    Mistake("nyu:no_f_derivative", "f's derivative left out",
            "Your dJdW1 and dJdb1 are what backward gives without the derivative of f, the hidden activation: "
            "dJ/dz1 is (dJ/dz2) times f'(z1), elementwise (the two agree only where f is the identity).",
            BACKWARD[:2], _network(lambda net: _grads(net, f_slope=_ones))),
    Mistake("nyu:sigmoid_derivative_from_z", "sigmoid's derivative taken of z",
            "Where an activation is the sigmoid, your grads use z (1 - z) as its derivative: the derivative is "
            "s (1 - s) with s = sigmoid(z), the activation's output, not its input.",
            BACKWARD, _network(lambda net: _grads(net, f_slope=_sigmoid_from_z, g_slope=_sigmoid_from_z))),
    Mistake("nyu:relu_derivative_at_zero", "ReLU's derivative at 0 taken as 1",
            "Where z1 is exactly 0, your grads take ReLU's derivative as 1: torch's autograd, which the course "
            "checks against, takes it as 0 (use z > 0, not z >= 0).",
            BACKWARD, _network(lambda net: _grads(net, f_slope=_relu_one_at_zero, g_slope=_relu_one_at_zero))),
    Mistake("nyu:grads_averaged", "averaged over the batch, not summed",
            "Your grads are the right ones divided by the batch size: backward sums each parameter's gradient "
            "over the batch; any averaging is the loss's, already in the dJdy_hat backward is given.",
            BACKWARD, _scaled(lambda net: net.weights.x.shape[0])),
    Mistake("nyu:grads_scaled_by_n", "divided by dJdy_hat's size",
            "Your grads are the right ones divided by the number of entries of dJdy_hat (batch size times "
            "outputs): that 1/n belongs in the loss's dJdy_hat, which backward is given as it is. Dividing in "
            "backward instead is right end to end, but not for any other loss.",
            BACKWARD, _scaled(lambda net: net.weights.dJdy_hat.size)),
    Mistake("nyu:transposed", "transposed",
            "Your weight gradients are transposed: dJdW1 has the shape of W1, (out_features, in_features), as "
            "torch's nn.Linear stores it: dz.T @ input, not input.T @ dz.",
            (BACKWARD[0], BACKWARD[2]), _network(lambda net: {p: v.T for p, v in _grads(net).items()})),
    Mistake("nyu:activations_swapped", "f and g swapped",
            "Your forward applies g after the first layer and f after the second: f_function is the hidden "
            "activation, g_function the output's.",
            ("mlp.forward",), _network(lambda net: {"mlp.forward": forward(net.g, net.f, *net.given)["y_hat"]})),
    Mistake("nyu:no_output_activation", "g left out",
            "Your y_hat is z3, before the output activation g: y_hat = g(z3).",
            ("mlp.forward",), _network(lambda net: {"mlp.forward": forward(net.f, "identity", *net.given)["y_hat"]})),
    Mistake("nyu:half_mse", "half the MSE",
            "Your mse_loss is half the mean squared error, (1/2n) sum (y_hat - y)^2, with dJdy_hat (y_hat - y) / n: "
            "the course's (torch's mse_loss) has no 1/2, and its dJdy_hat is 2 (y_hat - y) / n.",
            ("mlp.mse_loss", "mlp.mse_grad"),
            lambda part, inputs, conventions: _loss_answer(part, inputs, conventions.loss, 0.5)),
    Mistake("nyu:gradient_without_1_over_n", "dJdy_hat without the loss's 1/n",
            "Your dJdy_hat is the gradient of the summed loss, though your J is averaged: the 1/n of J is in its "
            "gradient too. (Dividing by n in backward instead is right end to end, but backward is given "
            "dJdy_hat as it is, from any loss.)",
            ("mlp.mse_grad", "mlp.bce_grad"), _gradient_unscaled, lambda part: part.replace("_grad", "_loss")),
    *(Mistake(f"nyu:reduction:{reduction}", f"reduced by {reduction}",
              f"Your loss is {REDUCTION_WORDS[reduction]}: this course's is the one in the part's title, and "
              "dJdy_hat follows J's normalisation.", LOSS_PARTS, _reduction(reduction))
      for reduction in ("mean", "batch_mean", "sum")),
    Mistake("nyu:sign_flipped", "sign flipped",
            "Your dJdy_hat has the wrong sign: it is the derivative of J with respect to y_hat (for the MSE, "
            "proportional to y_hat - y).", ("mlp.mse_grad", "mlp.bce_grad"),
            lambda part, inputs, conventions: _loss_answer(part, inputs, conventions.loss, -1.0)),
)


class Diagnoser:
    """The catalogue judged on a submission's answers (core.explain.Diagnoser)."""

    def __init__(self, tolerances: dict[str, Tolerance], conventions: Conventions, catalogue=CATALOGUE):
        self.tolerances, self.conventions, self.catalogue = tolerances, conventions, catalogue

    def explain(self, observed: dict[str, list[Observation]]) -> dict[str, Explanation]:
        right = {part for part, seen in observed.items() if seen and all(o.passed for o in seen)}
        out = {}
        for part, seen in observed.items():
            mistake = next((m for m in self.catalogue if part in m.parts and m.needs_right(part) in (None, *right)
                            and self.holds(m, part, seen)), None)
            if mistake is not None:
                crashed = sum(1 for o in seen if o.received is None and not o.passed)
                out[part] = Explanation((mistake.id,), mistake.title, mistake.message, crashed=crashed)
        return out

    def holds(self, mistake: Mistake, part: str, seen: list[Observation]) -> bool:
        """Whether the mistake gives the student's answer on every case answered, and a wrong one on two
        at least, one of them a diagnostic case (inputs the student never saw)."""
        tolerance = self.tolerances[part]
        wrong, fresh = 0, False
        for o in seen:
            if o.received is None:
                continue  # (a call that gave no answer is no evidence either way)
            answer = mistake.answer(part, o.inputs, self.conventions)
            if answer is None:  # the mistake gives the right answer here
                answer = o.expected
            if not compare(o.received, answer, tolerance, explain=False).passed:
                return False
            if not compare(answer, o.expected, tolerance, explain=False).passed:
                wrong += 1
                fresh = fresh or o.case_id.startswith("diagnostic")
        return wrong >= 2 and fresh


def diagnoser_for(config) -> Diagnoser:
    """The homework's DiagnoserFactory: a Diagnoser under config's tolerances and conventions."""
    return Diagnoser({part: p.tolerance for part, p in config.parts.items()}, config.conventions)
