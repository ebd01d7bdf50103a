"""NYU Deep Learning's homework 1 as the course hands it out: a class MLP on mini-batches of torch
tensors (f and g each relu, sigmoid or identity), its forward and backward passes, and the losses
mse_loss and bce_loss, each returning (J, dJdy_hat).

The grader builds the student's MLP in the worker for each case and (f, g), sets its parameters,
runs forward, then backward with an upstream gradient of the case's own (backward is judged apart
from the student's loss), and reads `grads` (worker_contract.py); the losses are called on their own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...core.homework import Homework, Part, SubsetOf
from .answers import (
    GRADS,
    PAIRS,
    REDUCTION_WORDS,
    REDUCTIONS,
    Conventions,
    backward,
    bce_loss,
    forward,
    mse_loss,
    reference_answer,
)
from .cases import CONFIGURATIONS, Network, Targets, diagnostic_cases, shown_name, visible_cases
from .diagnosis import diagnoser_for
from .hidden import hidden_bases, relabel

HERE = Path(__file__).absolute().parent
REFERENCE_SOLUTION = HERE.parents[2] / "reference" / "nyu_hw1" / "mlp.py"  # (a torch solution, read as text)
TEMPLATE = HERE / "handout" / "mlp.py"  # the course's template

PARTS: tuple[Part, ...] = (
    Part("mlp.forward", "MLP.forward: y_hat", "MLP"),
    Part("mlp.backward.W1", "MLP.backward: grads['dJdW1']", "MLP", "dJdW1"),
    Part("mlp.backward.b1", "MLP.backward: grads['dJdb1']", "MLP", "dJdb1"),
    Part("mlp.backward.W2", "MLP.backward: grads['dJdW2']", "MLP", "dJdW2"),
    Part("mlp.backward.b2", "MLP.backward: grads['dJdb2']", "MLP", "dJdb2"),
    Part("mlp.mse_loss", "mse_loss: J", "mse_loss", "J"),
    Part("mlp.mse_grad", "mse_loss: dJdy_hat", "mse_loss", "dJdy_hat"),
    Part("mlp.bce_loss", "bce_loss: J", "bce_loss", "J"),
    Part("mlp.bce_grad", "bce_loss: dJdy_hat", "bce_loss", "dJdy_hat"),
    Part("mlp.repeat", "MLP: the same grads after clear_grad_and_cache() and a second pass", "MLP"),
)

def part_title(part: Part, conventions: Conventions) -> str:
    """The losses' J say how they reduce."""
    if part.id in ("mlp.mse_loss", "mlp.bce_loss"):
        return f"{part.title} ({REDUCTION_WORDS[conventions.loss]})"
    return part.title


def entry_words(function: str, key: str) -> str | None:
    """The grads and parameters are read from the MLP; the losses return a pair."""
    if key in GRADS:
        return f"self.grads['{key}'] after {function}"
    if key in ("W1", "b1", "W2", "b2"):
        return f"self.parameters['{key}'] after {function}"
    if key in ("J", "dJdy_hat"):
        return f"the {key} that {function} returned"
    return None


def expected_answers(inputs, conventions: Conventions) -> dict:
    """The right answer of each part graded on a case (mlp.repeat's: its first grad; the BCE's only
    where y_hat is in (0, 1))."""
    if isinstance(inputs, Targets):
        mse = mse_loss(inputs.y, inputs.y_hat, conventions.loss)
        out = {"mlp.mse_loss": mse["J"], "mlp.mse_grad": mse["dJdy_hat"]}
        if np.all((inputs.y_hat > 0) & (inputs.y_hat < 1)):  # (the BCE's only where it is defined)
            bce = bce_loss(inputs.y, inputs.y_hat, conventions.loss)
            out.update({"mlp.bce_loss": bce["J"], "mlp.bce_grad": bce["dJdy_hat"]})
        return out
    assert isinstance(inputs, Network)
    w = inputs.weights
    grads = backward(inputs.f, inputs.g, w.W1, w.b1, w.W2, w.b2, w.x, w.dJdy_hat)
    return {"mlp.forward": forward(inputs.f, inputs.g, *inputs.given)["y_hat"],
            **{f"mlp.backward.{name[3:]}": grads[name] for name in GRADS}, "mlp.repeat": grads["dJdW1"]}


def graded_under(case, conventions: Conventions) -> bool:
    """A network case is graded where the course grades its (f, g)."""
    return not isinstance(case.inputs, Network) or (case.inputs.f, case.inputs.g) in conventions.activations


def _arguments() -> dict[str, tuple[str, ...]]:
    """What each call is given, by the name a student reads it under (Network.shown)."""
    given = ("parameters['W1']", "parameters['b1']", "parameters['W2']", "parameters['b2']", "x")
    out = {"mse_loss": ("y", "y_hat"), "bce_loss": ("y", "y_hat")}
    for f, g in CONFIGURATIONS:
        out[shown_name("forward", f, g)] = given
        out[shown_name("backward", f, g)] = out[shown_name("repeat", f, g)] = (*given, "dJdy_hat")
    return out


def build_handout(out: Path, config) -> Path:
    """The template, selfcheck.py and README (student_handout.py, loaded only here)."""
    from .student_handout import build_handout as build

    return build(out, config)


def reference_solution(config) -> str:
    return REFERENCE_SOLUTION.read_text(encoding="utf-8")


def handout_files(config) -> dict[str, str]:
    return {"mlp.py": TEMPLATE.read_text(encoding="utf-8")}


HOMEWORK = Homework(
    name="nyu-hw1",
    title="NYU Deep Learning, homework 1: an MLP on mini-batches",
    submission_file="mlp.py",
    runtime_packages=("numpy", "torch"),
    parts=PARTS,
    default_points={"mlp.forward": 2, "mlp.backward.W1": 2, "mlp.backward.b1": 2, "mlp.backward.W2": 2,
                    "mlp.backward.b2": 2, "mlp.mse_loss": 1, "mlp.mse_grad": 1, "mlp.bce_loss": 1,
                    "mlp.bce_grad": 1, "mlp.repeat": 1},
    arguments=_arguments(),
    conventions=Conventions,
    convention_choices={"loss": REDUCTIONS, "activations": SubsetOf(PAIRS)},
    visible_cases=visible_cases,
    diagnostic_cases=diagnostic_cases,
    hidden_bases=hidden_bases,
    relabel=relabel,
    reference_answer=reference_answer,
    expected_answers=expected_answers,
    tests_dir=HERE / "grading_tests",
    reference_solution=reference_solution,
    handout_files=handout_files,
    secret_files=(REFERENCE_SOLUTION, HERE / "answers.py"),
    diagnoser=diagnoser_for,
    build_handout=build_handout,
    worker_contract=HERE / "worker_contract.py",
    entry_words=entry_words,
    title_under=part_title,
    graded_under=graded_under,
)
