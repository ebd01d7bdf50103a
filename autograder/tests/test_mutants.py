"""Every explanation the grader gives is checked on inputs it never saw.

Single-change mutants of examples/submissions/correct (tests/mutants.py) are graded through
Grader.grade, as Gradescope grades. For each part the grader explains, the claim it made (this
quantity, this known mistake, rounding, right where z1 > 0, ...) must hold for the mutant's own
answers on fresh inputs: a diagnosis that is not confirmed there is a wrong diagnosis. The same
for mutants of the solutions of examples/configs under their conventions (the diagonal Jacobians,
the derivative 1 at 0 and a mean loss; the lenient "either" conventions).
"""

from __future__ import annotations

import types
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from autograder.config import load_config
from autograder.core.cases import (
    Inputs,
    all_alive,
    all_dead,
    exact_fit,
    negative_outputs,
    zeros_in_z1,
)
from autograder.core.parts import Conventions
from autograder.diagnosis import diagnoser_for
from autograder.diagnosis.diagnose import Explanation, holds
from autograder.diagnosis.mistakes import signals
from autograder.grading.answer_key import Accepted, expected_answers
from autograder.grading.grade import Grader
from autograder.tests.conftest import EXAMPLES, REPO
from autograder.tests.mutants import mutants

# (the correct solution mutated, the config it is graded under)
SOLUTIONS = {"handout": (EXAMPLES / "correct", None),
             "vectors": (REPO / "examples" / "configs" / "vectors", REPO / "examples" / "configs" / "vectors"),
             "lenient": (REPO / "examples" / "configs" / "lenient", REPO / "examples" / "configs" / "lenient")}


def mutant_sources(solution: Path) -> list[tuple[str, str]]:
    return list(mutants((solution / "two_layer_net.py").read_text()))


def fresh_inputs() -> list[Inputs]:
    """Inputs the grader never uses (other seeds and shapes than its visible and diagnostic cases)."""
    rng = np.random.default_rng(777)
    out = [zeros_in_z1(900 + s, n, h, k) for s, (n, h, k) in enumerate([(2, 4, 3), (6, 6, 1), (3, 8, 5)])]
    out += [all_dead(910, 3, 3, 2), all_alive(911, 2, 5, 4), negative_outputs(912, 4, 3, 2), exact_fit(913, 2, 3, 3)]
    for n, h, k in ((4, 7, 2), (1, 3, 3), (5, 2, 6), (3, 3, 3)):
        out.append(Inputs(*(rng.standard_normal(s) * rng.uniform(0.5, 3) for s in
                            ((n,), (h, n), (h,), (k, h), (k,), (k,)))))
    return out


def student_answer(module: types.ModuleType, part: str, i: Inputs) -> np.ndarray:
    """The answer the mutant gives for `part` on inputs `i`, called as the grading tests call it."""
    s = signals(i)
    function, args, key = {
        "affine": ("affine", (i.x, i.W1, i.b1), None), "relu": ("relu", (s["z1"],), None),
        "loss": ("mse_loss", (s["z3"], i.y), None), "relu_jacobian": ("relu_jacobian", (s["z1"],), None),
        "output_jacobian": ("output_jacobian", (s["z3"],), None), "mse_grad": ("mse_grad", (s["z3"], i.y), None),
    }.get(part) or (("forward", (i.x, *i.params), part.split(".")[1]) if part.startswith("forward.")
                    else ("backward", (i.x, i.y, *i.params), part.split(".")[1]))
    value = getattr(module, function)(*(np.array(a) for a in args))
    return np.asarray(value[key] if key else value, dtype=np.float64)


def confirmed(module: types.ModuleType, part: str, explanation: Explanation, tolerance,
              conventions: Conventions) -> bool:
    """One of the explanation's claims holds on every fresh input the mutant answers (against the
    right answer nearest to the mutant's where the conventions accept two)."""
    answers = []
    for i in fresh_inputs():
        try:
            with np.errstate(all="ignore"):
                answers.append((i, student_answer(module, part, i)))
        except Exception:  # noqa: BLE001 - a mutant may fail on some shapes: nothing to check there
            continue
    assert answers, f"the mutant answers no fresh input for {part}"

    def right(i, r):
        answer = expected_answers(i, conventions)[part]
        return answer.nearest(r, tolerance) if isinstance(answer, Accepted) else np.asarray(answer)

    return any(all(holds(claim, part, i, r, right(i, r), tolerance, conventions) for i, r in answers)
               for claim in explanation.claims)


@pytest.fixture(scope="module", params=list(SOLUTIONS))
def graded(request, tmp_path_factory):
    """(config, [(label, source, report)] for every mutant that loses points)."""
    solution, config_folder = SOLUTIONS[request.param]
    config = load_config(config_folder / "grading.toml" if config_folder else None)
    out = []
    with Grader(config, diagnoser=diagnoser_for) as grader:
        for number, (label, source) in enumerate(mutant_sources(solution)):
            folder = tmp_path_factory.mktemp(f"mutant{number}")
            (folder / "two_layer_net.py").write_text(source)
            report = grader.grade(folder, "mutants")
            if report.score < report.max_score:
                out.append((label, source, report))
    return config, out


@pytest.mark.slow
def test_every_explanation_of_a_mutant_holds_on_fresh_inputs(graded):
    config, graded = graded
    unconfirmed, explained, kinds = [], 0, Counter()
    for label, source, report in graded:
        module = types.ModuleType("mutant")
        exec(compile(source, "mutant", "exec"), module.__dict__)  # our own generated code, not a student's
        named = [t for t in report.tests if t.explanation]
        explained += bool(named)
        for t in named:
            kinds[t.explanation.ids[0].split(":")[0]] += 1
            if not confirmed(module, t.part, t.explanation, config.parts[t.part].tolerance, config.conventions):
                unconfirmed.append(f"{label}: {t.part}: {t.explanation.message}")
    coverage = explained / len(graded)
    print(f"\n{len(graded)} failing mutants; {explained} explained ({coverage:.0%}); by kind: {dict(kinds)}")
    assert not unconfirmed, "\n".join(unconfirmed)
    assert coverage >= 0.7, f"only {coverage:.0%} of failing mutants get an explanation"
