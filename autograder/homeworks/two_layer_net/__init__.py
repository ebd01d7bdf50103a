"""The Two-Layer Neural Network homework: functions on one sample, Affine1 -> ReLU -> Affine2 ->
identity, squared-error loss (the default homework)."""

from __future__ import annotations

from pathlib import Path

from ...core.cases import diagnostic_cases, visible_cases
from ...core.conventions import DERIVATIVES_AT_ZERO, JACOBIAN_FORMS, LOSSES, Conventions
from ...core.homework import Homework, Part
from ...diagnosis import diagnoser_for
from ...grading.answer_key import expected_answers, reference_answer, reference_source
from ...grading.hidden import hidden_bases, relabel

SOURCE_DIR = Path(__file__).absolute().parents[3]  # beside the package as installed (and in the Gradescope zip)
TESTS_DIR = SOURCE_DIR / "tests"  # the grading tests

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


def part_title(part: Part, conventions: Conventions) -> str:
    """The part's title under the conventions (the loss's formulas carry "/ k" under a mean)."""
    if conventions.loss == "mean" and part.id in ("loss", "mse_grad"):
        return part.title + " / k"
    return part.title


def reference_solution(config) -> str:
    """reference/two_layer_net.py with the course's conventions as its defaults."""
    return reference_source(config.conventions)


def handout_files(config) -> dict[str, str]:
    """The template and its notebook, under the course's conventions."""
    # (the handout's module is loaded only here: grading a submission never needs it)
    from ...instructor.handout import notebook_file, notebook_source, template_source

    return {HOMEWORK.submission_file: template_source(config), notebook_file(HOMEWORK): notebook_source(config)}


def build_handout(out: Path, config) -> Path:
    """The template, its notebook, selfcheck.py and README (instructor/handout.py)."""
    from ...instructor.handout import build_handout as build

    return build(out, config)


HOMEWORK = Homework(
    name="two-layer-net",
    title="Two-Layer Neural Network",
    submission_file="two_layer_net.py",
    runtime_packages=("numpy",),
    parts=PARTS,
    default_points={
        "affine": 1, "relu": 1, "forward.z1": 1, "forward.z2": 1, "forward.z3": 1, "forward.y_hat": 1,
        "loss": 1, "relu_jacobian": 2, "output_jacobian": 1, "mse_grad": 2,
        "grad.W1": 2, "grad.b1": 2, "grad.W2": 2, "grad.b2": 2,
    },
    arguments={
        "affine": ("x", "W", "b"), "relu": ("z",), "forward": ("x", "W1", "b1", "W2", "b2"),
        "mse_loss": ("y_hat", "y"), "relu_jacobian": ("z1",), "output_jacobian": ("z3",), "mse_grad": ("y_hat", "y"),
        "backward": ("x", "y", "W1", "b1", "W2", "b2"),
    },
    conventions=Conventions,
    convention_choices={"jacobians": JACOBIAN_FORMS, "relu_derivative_at_zero": DERIVATIVES_AT_ZERO, "loss": LOSSES},
    visible_cases=visible_cases,
    diagnostic_cases=diagnostic_cases,
    hidden_bases=hidden_bases,
    relabel=relabel,
    reference_answer=reference_answer,
    expected_answers=expected_answers,
    tests_dir=TESTS_DIR,
    reference_solution=reference_solution,
    handout_files=handout_files,
    # the reference, and the grading tests' inputs
    secret_files=(SOURCE_DIR / "reference" / "two_layer_net.py", TESTS_DIR / "conftest.py"),
    diagnoser=diagnoser_for,
    build_handout=build_handout,
    title_under=part_title,
)
