"""Diagnoses: named on evidence across cases, never for a right answer, in words that fit the evidence."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.config import Tolerance
from autograder.core.cases import (
    Inputs,
    all_dead,
    diagnostic_cases,
    exact_fit,
    visible_cases,
    zeros_in_z1,
)
from autograder.core.compare import agrees
from autograder.core.conventions import Conventions
from autograder.diagnosis.diagnose import Diagnoser, Observation, describe
from autograder.diagnosis.evidence import DOWNSTREAM_OF_DZ3
from autograder.diagnosis.mistakes import CATALOGUE, HANDOUT, MESSAGES, TITLES, catalogue, signals
from autograder.grading.answer_key import expected_answers
from autograder.homeworks.two_layer_net import HOMEWORK

PART_IDS = HOMEWORK.part_ids

TOL = Tolerance(1e-4, 1e-4)
CASES = visible_cases() + diagnostic_cases()


def diagnoser() -> Diagnoser:
    return Diagnoser({part: TOL for part in PART_IDS})


def observe(part: str, answer, cases=CASES, conventions: Conventions = HANDOUT) -> list[Observation]:
    """The observations of a student whose answer for `part` is answer(inputs, right answer)."""
    out = []
    for case in cases:
        right = np.asarray(expected_answers(case.inputs, conventions)[part])
        received = np.asarray(answer(case.inputs, right), dtype=np.float64)
        out.append(Observation(case.id, case.inputs, received, right,
                               received.shape == right.shape and agrees(received, right, TOL)))
    return out


def random_case_sets(count: int) -> list[list]:
    """Sets of cases like the visible ones, with other seeds: rights must stay unexplained on all."""
    rng = np.random.default_rng(5)
    sets = []
    for _ in range(count):
        seed = int(rng.integers(1 << 31))
        n, h, k = (int(d) for d in rng.integers(1, 8, size=3))
        inputs = [zeros_in_z1(seed, n, max(h, 2), k), all_dead(seed, n, h, k), exact_fit(seed, n, h, k),
                  Inputs(*(rng.standard_normal(s) for s in ((n,), (h, n), (h,), (k, h), (k,), (k,))))]
        sets.append([type(CASES[0])(f"r{i}", "", False, x) for i, x in enumerate(inputs)])
    return sets


def test_every_mistake_has_a_title_and_a_message():
    assert {m.id for m in CATALOGUE} <= set(TITLES) and {m.id for m in CATALOGUE} <= set(MESSAGES)
    assert all(describe(mistake_id) == TITLES[mistake_id] for mistake_id in TITLES)


@pytest.mark.parametrize("part", PART_IDS)
def test_a_right_answer_never_gets_a_diagnosis(part):
    d = diagnoser()
    for cases in [CASES] + random_case_sets(30):
        assert d.explain_part(part, observe(part, lambda i, right: right, cases)) is None
        float32 = observe(part, lambda i, right: right.astype(np.float32), cases)
        assert d.explain_part(part, float32) is None


@pytest.mark.parametrize("part", PART_IDS)
def test_each_catalogued_mistake_is_named_alone(part):
    d = diagnoser()
    for mistake in catalogue(part):
        if all(np.unique(mistake.answers[part](signals(c.inputs))).size == 1 for c in CASES):
            continue  # a constant answer (np.ones) is not evidence enough: it is never named
        observed = {p: observe(p, lambda i, right, answer=mistake.answers[p]: answer(signals(i)))
                    for p in (part, "grad.b2") if p == part or mistake.upstream and part in DOWNSTREAM_OF_DZ3}
        found = d.explain(observed).get(part)  # (a mistake in dl/dz3 is blamed there when dl/db2 shows it)
        assert found is not None and found.ids == (mistake.id,), (mistake.id, found)


def test_a_mistake_in_one_case_only_is_not_named():
    """relu_ge changes only the cases with z1 exactly 0: shown in one of them, it is not enough."""
    only_one = [c for c in CASES if c.id in ("zeros_in_z1", "small", "large", "single")]
    mistake = next(m for m in CATALOGUE if m.id == "relu_ge")
    assert diagnoser().explain_part("grad.b1", observe("grad.b1", lambda i, r: mistake.answers["grad.b1"](signals(i)),
                                                       only_one)) is None


def test_an_unrelated_wrong_answer_gets_no_diagnosis():
    d = diagnoser()
    assert d.explain_part("grad.W1", observe("grad.W1", lambda i, right: right * 3.7 + 1)) is None
    assert d.explain_part("grad.W1", observe("grad.W1", lambda i, right: np.full(right.shape, np.nan))) is None


def test_low_precision_is_named_for_rounding_only():
    d = diagnoser()
    with np.errstate(over="ignore"):  # (the large case's values overflow float16: inf, as float16 gives)
        rounded = d.explain_part("mse_grad", observe("mse_grad", lambda i, right: right.astype(np.float16)))
    assert rounded.ids == ("low_precision",)
    # the issue's examples: a bias subtracted, y added: small next to W x or y_hat in the large case only
    minus_b = d.explain_part("affine", observe("affine", lambda i, r: i.W1 @ i.x - i.b1))
    assert minus_b.ids == ("computed:W1x-b1",) and "W x - b" in minus_b.message
    plus_y = d.explain_part("mse_grad", observe("mse_grad", lambda i, r: signals(i)["z3"] + i.y))
    assert plus_y is None or "low_precision" not in plus_y.ids


def test_an_all_zero_answer_is_not_called_relu_on_output():
    found = diagnoser().explain_part("grad.W1", observe("grad.W1", lambda i, right: np.zeros_like(right)))
    assert found is None or found.ids == ("localised:zeros",)


def test_a_scaled_gradient_is_blamed_on_dl_dyhat_only_when_dl_db2_shows_it():
    d = diagnoser()
    half_b2 = {"grad.b2": observe("grad.b2", lambda i, right: right / 2)}
    half_w1 = observe("grad.W1", lambda i, right: right / 2)
    upstream = d.explain({**half_b2, "grad.W1": half_w1})
    assert upstream["grad.W1"].ids == ("missing_factor_2",) and "factor 2 of dl/dy_hat" in upstream["grad.W1"].message
    local = d.explain({"grad.b2": observe("grad.b2", lambda i, right: right), "grad.W1": half_w1})
    assert local["grad.W1"].ids == ("computed:times:0.5",)
    assert "dl/db2 = dl/dz3 is right" in local["grad.W1"].message and "factor 2 of" not in local["grad.W1"].message


def test_what_you_computed_names_the_quantity_and_the_step():
    d = diagnoser()
    b1_for_z2 = d.explain_part("grad.W2", observe("grad.W2", lambda i, r: np.outer(signals(i)["d3"], i.b1)))
    assert b1_for_z2.ids == ("computed:outer:d3,b1",) and "uses b1 where z2 belongs" in b1_for_z2.message
    pre_mask = d.explain_part("grad.b1", observe("grad.b1", lambda i, r: signals(i)["back"]))
    assert pre_mask.ids == ("missing_relu_mask",)
    z3_in_b2 = d.explain_part("grad.b2", observe("grad.b2", lambda i, r: signals(i)["z3"]))
    assert z3_in_b2.ids == ("computed:z3",) and "y_hat" in z3_in_b2.message


def test_localisations_say_where_the_answer_is_right():
    d = diagnoser()
    dead_wrong = d.explain_part("grad.b1", observe("grad.b1", lambda i, r: r + 0.5 * (signals(i)["z1"] <= 0)))
    assert dead_wrong.ids == ("localised:wrong_where_nonpositive",)
    assert "right in the entries where z1 > 0 and wrong in those where z1 <= 0" in dead_wrong.message

    def last_row_wrong(i, r):
        r = r.copy()
        r[-1] += 1.0
        return r

    assert d.explain_part("grad.W2", observe("grad.W2", last_row_wrong)).ids == ("localised:one_row",)


def test_the_issues_misdiagnoses_are_gone():
    """Each named a mistake the code does not make, on the evidence of one case."""
    d = diagnoser()
    as_delta1 = d.explain_part("grad.W1", observe("grad.W1", lambda i, r: signals(i)["d1"][:, None]))
    assert as_delta1 is None or "missing_factor_2" not in as_delta1.ids  # x = [2.0] in one case only
    max_1 = d.explain_part("relu", observe("relu", lambda i, r: np.maximum(signals(i)["z1"], 1)))
    assert max_1 is None or "low_precision" not in max_1.ids
    below = d.explain_part("grad.b1", observe("grad.b1", lambda i, r: signals(i)["back"] * (signals(i)["z1"] < 0)))
    assert below.ids == ("relu_mask_inverted",)  # not "missing ReLU mask" (all ones on the all-dead case)
    one_negated = d.explain({"grad.b2": observe("grad.b2", lambda i, r: r),
                             "grad.W2": observe("grad.W2", lambda i, r: -r)})
    assert one_negated["grad.W2"].ids == ("computed:times:-1",)
    assert "dl/dy_hat = 2 (y_hat - y), not" not in one_negated["grad.W2"].message  # dl/dy_hat is right


def test_a_check_of_something_else_is_not_diagnosed_as_the_part():
    """A check added to a test may expect another value (affine on the second layer): no claim is about it."""
    second_layer = [Observation(o.case_id, o.inputs, o.received * 0.5, o.received, False)
                    for o in observe("affine", lambda i, right: signals(i)["W2"] @ signals(i)["z2"] + i.b2)]
    assert diagnoser().explain_part("affine", second_layer) is None


def test_a_localisation_says_exactly_where_the_answer_is_wrong():
    """The issue's masks: `z1 != 0` is right at exact zeros, `z1 > 1` right where z1 > 1 too."""
    d = diagnoser()
    nonzero = d.explain_part("grad.b1", observe("grad.b1", lambda i, r: signals(i)["back"] * (signals(i)["z1"] != 0)))
    assert nonzero.ids == ("localised:wrong_where_negative",), nonzero
    assert "right in the entries where z1 >= 0 and wrong in those where z1 < 0" in nonzero.message
    above_1 = d.explain_part("grad.b1", observe("grad.b1", lambda i, r: signals(i)["back"] * (signals(i)["z1"] > 1)))
    assert above_1.ids == ("localised:wrong_where_positive",), above_1
    assert "wrong in some of those where z1 > 0 (right in others)" in above_1.message


def test_an_exact_relation_beats_a_localisation():
    """A gradient 0.25 times the right one is also right where z1 <= 0 (both 0): the factor is named."""
    quarter = diagnoser().explain({"grad.b2": observe("grad.b2", lambda i, r: r),
                                   "grad.W1": observe("grad.W1", lambda i, r: 0.25 * r)})
    assert quarter["grad.W1"].ids == ("localised:scaled",) and "times 0.25" in quarter["grad.W1"].message


def wrong_dz3(mistake):
    """Observations of a student whose dl/dz3 is mistake(inputs, signals) and whose chain rule is right."""
    def gradient(part):
        def answer(i, right):
            s = signals(i)
            d3 = mistake(i, s)
            d1 = (s["z1"] > 0) * (i.W2.T @ d3)
            return {"grad.b2": d3, "grad.W2": np.outer(d3, s["z2"]), "grad.b1": d1, "grad.W1": np.outer(d1, i.x)}[part]
        return answer
    return {part: observe(part, gradient(part)) for part in ("grad.b2", "grad.W2", "grad.b1", "grad.W1")}


@pytest.mark.parametrize("mistake", [lambda i, s: 2 + (s["z3"] - i.y), lambda i, s: s["z3"] + i.y,
                                     lambda i, s: 2 * (s["z3"] - 2 * i.b2 - i.y), lambda i, s: 2 * (i.b2 - i.y)],
                         ids=["2 + (y_hat - y)", "y_hat + y", "W2 z2 - b2", "y_hat = b2"])
def test_a_gradient_built_from_a_wrong_dl_dz3_points_upstream(mistake):
    """The issue's cases: "right where z1 <= 0" was true only because the mask zeroes those rows."""
    found = diagnoser().explain(wrong_dz3(mistake))
    for part in ("grad.W2", "grad.b1", "grad.W1"):
        assert found[part].ids[0].startswith("upstream:"), (part, found[part])
        assert "the error starts upstream" in found[part].message and "z1 > 0" not in found[part].message


def test_a_claim_says_on_how_many_cases_it_holds_when_others_crashed():
    d = diagnoser()
    observed = observe("grad.b1", lambda i, r: signals(i)["back"] * (signals(i)["z1"] > 0) * 3)
    crashed = [Observation(o.case_id, o.inputs, None, o.expected, False) for o in observed[:3]] + observed[3:]
    found = d.explain_part("grad.b1", crashed)
    answered = sum(1 for o in crashed if o.received is not None and not o.passed)
    assert found.crashed == 3 and "in every case" not in found.message
    assert f"on the {answered} failing cases where your code returned an answer" in found.message
    assert "On 3 other failing cases it gave no answer" in found.message
    assert d.explain_part("grad.b1", observed).crashed == 0


VECTORS = Conventions("diagonal", 0, "sum")


def observe_under(conventions, part, answer):
    """observe() under `conventions`, answer(signals under them)."""
    return observe(part, lambda i, right: answer(signals(i, conventions)), conventions=conventions)


def test_vector_jacobians_are_named_in_vector_words():
    """Under jacobians = "diagonal": `>=` is named as under "matrix", the mask in vector words."""
    d = Diagnoser({part: TOL for part in PART_IDS}, VECTORS)
    ge = d.explain_part("relu_jacobian", observe_under(VECTORS, "relu_jacobian", lambda s: (s["z1"] >= 0) * 1.0))
    assert ge.ids == ("relu_ge",)
    right_b2 = {"grad.b2": observe_under(VECTORS, "grad.b2", lambda s: s["d3"])}
    no_mask = d.explain({**right_b2, "grad.b1": observe_under(VECTORS, "grad.b1", lambda s: s["back"])})["grad.b1"]
    assert no_mask.ids == ("missing_relu_mask",)
    assert "relu_jacobian(z1) * dl/dz2 (elementwise)" in no_mask.message and "^T" not in no_mask.message
    transposed = d.explain({**right_b2,
                            "grad.W1": observe_under(VECTORS, "grad.W1", lambda s: np.outer(s["x"], s["d1"]))})
    assert transposed["grad.W1"].ids == ("transposed",)
    below_1 = observe_under(VECTORS, "relu_jacobian", lambda s: (s["z1"] > 0) * (s["z1"] < 1.0))
    found = d.explain_part("relu_jacobian", below_1)
    assert found is not None and "entries" in found.message and "rows" not in found.message  # a vector has entries
