"""Every explanation the grader gives is checked on inputs it never saw.

Single-change mutants of examples/submissions/correct (tests/mutants.py) are graded through
Grader.grade, as Gradescope grades. For each part the grader explains, the claim it made (this
quantity, this known mistake, rounding, wrong only where z1 > 0, follows from your wrong dl/db2,
...) must hold for the mutant's own answers on fresh inputs: a diagnosis that is not confirmed
there is a wrong diagnosis. A claim made for every case is refuted by a fresh input the mutant
answers with an error, and a cause of the part's own is refuted by a wrong value it is built from
(the cause then points away from where the error starts). The same for mutants of the solutions
of examples/configs under their conventions (the diagonal Jacobians, the derivative 1 at 0 and a
mean loss; the lenient "either" conventions).
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
from autograder.core.compare import agrees
from autograder.core.conventions import Conventions
from autograder.diagnosis import diagnoser_for
from autograder.diagnosis.diagnose import Explanation, holds, holds_upstream
from autograder.diagnosis.mistakes import signals
from autograder.diagnosis.upstream import computed_from
from autograder.grading.answer_key import Accepted, expected_answers
from autograder.grading.grade import Grader
from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.tests.conftest import EXAMPLES, REPO
from autograder.tests.mutants import mutants

PART_IDS = HOMEWORK.part_ids

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


def answers_on(module: types.ModuleType, i: Inputs) -> dict:
    """{part: the mutant's answer on inputs i, or None where its call raised}."""
    out = {}
    for part in PART_IDS:
        try:
            with np.errstate(all="ignore"):
                out[part] = student_answer(module, part, i)
        except Exception:  # noqa: BLE001 - a mutant may fail on some shapes: that is an answer too
            out[part] = None
    return out


def right_on(i: Inputs, answers: dict, tolerance: dict, conventions: Conventions) -> dict:
    """{part: the right answer on i} (the accepted one nearest the mutant's, where two are)."""
    out = {}
    for part, answer in expected_answers(i, conventions).items():
        if isinstance(answer, Accepted):
            r = answers.get(part)
            answer = answer.nearest(r, tolerance[part]) if r is not None else np.asarray(answer[0])
        out[part] = np.asarray(answer, dtype=np.float64)
    return out


def is_right(received, right, tolerance) -> bool:
    return received is not None and np.size(received) == np.size(right) and \
        agrees(np.reshape(received, np.shape(right)), right, tolerance)


def confirmed(part: str, explanation: Explanation, fresh: list, tolerance: dict, conventions: Conventions) -> str:
    """"" where one of the explanation's claims holds on every fresh input, else why not. fresh:
    [(inputs, the mutant's answers, the right ones)]."""
    crashed = [i for i, answers, _ in fresh if answers[part] is None]
    if crashed and not explanation.crashed:
        return f"said for every case, but the call raises on {len(crashed)} fresh inputs"
    answered = [(i, a, r) for i, a, r in fresh if a[part] is not None]
    assert answered, f"the mutant answers no fresh input for {part}"
    for claim in explanation.claims:
        if claim.step:  # follows from the parts it takes, by the right step
            if all(holds_upstream(claim, part, i, a, r, tolerance[part], conventions) for i, a, r in answered
                   if all(a[u] is not None for u in claim.step)):
                return ""
        elif claim.wrong:  # a part it is built from is wrong too
            if any(not is_right(a[u], r[u], tolerance[u]) for i, a, r in fresh for u in claim.wrong):
                return ""
        elif all(holds(claim, part, i, a[part], r[part], tolerance[part], conventions) for i, a, r in answered):
            return ""
    return "no claim holds on the fresh inputs"


def hides_upstream(part: str, explanation: Explanation, explained: dict, fresh: list, tolerance: dict) -> list:
    """The wrong values `part` is built from, where its explanation names a cause of its own (not an
    upstream one, nor the same mistake named upstream too)."""
    if any(claim.wrong for claim in explanation.claims):
        return []
    ids = set(explanation.ids)
    return [u for u in computed_from(part)
            if not ids & set(explained.get(u, ()))
            and any(a[u] is not None and not is_right(a[u], r[u], tolerance[u]) for _, a, r in fresh)]


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
    tolerance = {part: config.parts[part].tolerance for part in PART_IDS}
    unconfirmed, pointing_away, explained, kinds = [], [], 0, Counter()
    for label, source, report in graded:
        module = types.ModuleType("mutant")
        exec(compile(source, "mutant", "exec"), module.__dict__)  # our own generated code, not a student's
        fresh = []
        for i in fresh_inputs():
            answers = answers_on(module, i)
            fresh.append((i, answers, right_on(i, answers, tolerance, config.conventions)))
        named = {t.part: t.explanation for t in report.tests if t.explanation}
        explained += bool(named)
        for part, explanation in named.items():
            kinds[explanation.ids[0].split(":")[0]] += 1
            why = confirmed(part, explanation, fresh, tolerance, config.conventions)
            if why:
                unconfirmed.append(f"{label}: {part}: {why}: {explanation.message}")
            upstream = hides_upstream(part, explanation, {p: e.ids for p, e in named.items()}, fresh, tolerance)
            if upstream:
                pointing_away.append(f"{label}: {part}: {explanation.message} (wrong upstream: {upstream})")
    coverage = explained / len(graded)
    print(f"\n{len(graded)} failing mutants; {explained} explained ({coverage:.0%}); by kind: {dict(kinds)}")
    assert not unconfirmed, "\n".join(unconfirmed)
    assert not pointing_away, "\n".join(pointing_away)
    assert coverage >= 0.8, f"only {coverage:.0%} of failing mutants get an explanation"
