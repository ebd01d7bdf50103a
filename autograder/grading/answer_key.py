"""The reference's answers under the course's conventions ([assignment] in grading.toml).

The reference solution takes each convention as a keyword argument (reference/two_layer_net.py).
Where a convention is "either", a check has more than one right answer: the Jacobian as a matrix
or as its diagonal, dz2/dz1 at exactly 0 as 0 or as 1. `Accepted` holds them all, the handout's
first, and a student's answer is judged against the one nearest to it (`nearest`). Where the
alternatives coincide (no z1 is exactly 0) the answer is a plain array, as under fixed conventions.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from reference import two_layer_net as ref

from ..config import Tolerance
from ..core.call import OK, CallOutcome
from ..core.compare import nearest
from ..core.conventions import Conventions


class Accepted(tuple):
    """Every right answer of one check (float64 arrays, two at least), the handout's form first."""

    def nearest(self, received: np.ndarray | None, tol: Tolerance) -> np.ndarray:
        """The answer to judge `received` against (compare.nearest, the rule selfcheck.py shares)."""
        return nearest(self, received, tol)


def resolve(expected, outcome: CallOutcome, key: str, tol: Tolerance) -> np.ndarray:
    """The one answer a check judges `outcome` (its `key` value) against: `expected` itself, or of an
    Accepted the one nearest the student's answer. Every place that judges or shows a check calls
    this, so they all compare with the same answer."""
    if not isinstance(expected, Accepted):
        return expected
    return expected.nearest(outcome.values.get(key) if outcome.status == OK else None, tol)


def variants(function: str, conventions: Conventions) -> list[dict]:
    """The keyword arguments of the reference's `function` under the conventions: one per right
    answer ("either" gives two), the handout's form first."""
    forms = ["matrix", "diagonal"] if conventions.jacobians == "either" else [conventions.jacobians]
    at_zero = [0, 1] if conventions.relu_derivative_at_zero == "either" else [conventions.relu_derivative_at_zero]
    options = {
        "relu_jacobian": {"form": forms, "at_zero": at_zero},
        "output_jacobian": {"form": forms},
        "mse_loss": {"loss": [conventions.loss]},
        "mse_grad": {"loss": [conventions.loss]},
        "backward": {"loss": [conventions.loss], "at_zero": at_zero},
    }.get(function, {})
    return [dict(zip(options, values)) for values in itertools.product(*options.values())]


def reference_answer(function: str, args, conventions: Conventions):
    """The reference's answer to `function(*args)`: an array (a float for mse_loss), an Accepted,
    or for forward and backward a dict of them."""
    answers = [getattr(ref, function)(*args, **kwargs) for kwargs in variants(function, conventions)]
    if isinstance(answers[0], dict):
        return {key: _accepted([a[key] for a in answers]) for key in answers[0]}
    return _accepted(answers)


def _accepted(answers: list):
    distinct: list = []
    for answer in answers:
        if not any(np.shape(answer) == np.shape(d) and np.array_equal(answer, d) for d in distinct):
            distinct.append(answer)
    return distinct[0] if len(distinct) == 1 else Accepted(np.asarray(a, dtype=np.float64) for a in distinct)


HANDOUT_CONVENTIONS = Conventions()


def expected_answers(i, conventions: Conventions = HANDOUT_CONVENTIONS) -> dict:
    """The reference's answer for every part on inputs `i` (cases.Inputs): arrays or Accepted
    (default: the handout's conventions)."""
    forward = ref.forward(i.x, *i.params)
    backward = reference_answer("backward", (i.x, i.y, *i.params), conventions)
    loss = reference_answer("mse_loss", (forward["y_hat"], i.y), conventions)
    return {
        "affine": ref.affine(i.x, i.W1, i.b1), "relu": ref.relu(forward["z1"]),
        **{f"forward.{key}": value for key, value in forward.items()},
        "loss": np.asarray(loss),
        "relu_jacobian": reference_answer("relu_jacobian", (forward["z1"],), conventions),
        "output_jacobian": reference_answer("output_jacobian", (forward["z3"],), conventions),
        "mse_grad": reference_answer("mse_grad", (forward["y_hat"], i.y), conventions),
        **{f"grad.{key}": value for key, value in backward.items()},
    }


def reference_source(conventions: Conventions) -> str:
    """The reference solution's source with the conventions as its defaults ("either": the handout's
    form): a submission that follows them, for the zip's smoke test and `pytest tests/`."""
    text = open(ref.__file__, encoding="utf-8").read()
    for name, value in (("LOSS", conventions.loss), ("JACOBIANS", variants("output_jacobian", conventions)[0]["form"]),
                        ("RELU_DERIVATIVE_AT_ZERO", variants("relu_jacobian", conventions)[0]["at_zero"])):
        line = re.compile(rf"^{name} = .*$", re.MULTILINE)
        assert len(line.findall(text)) == 1, f"reference/two_layer_net.py must set {name} once, at the top"
        text = line.sub(f"{name} = {value!r}", text)
    return text
