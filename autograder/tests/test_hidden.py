"""Hidden cases: designed so that a systematic mistake fails them the same way on every upload.

The properties are checked on the bases of many secrets (a new secret is a new term) and on
their relabellings; test_fair_scores.py checks the consequence end to end on the examples.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autograder.config import Tolerance
from autograder.core.compare import agrees
from autograder.diagnosis.mistakes import candidates
from autograder.grading.answer_key import expected_answers
from autograder.grading.hidden import TEMPLATES, design, far_from_half_precision, hidden_bases, hidden_cases, relabel
from autograder.homeworks.two_layer_net import HOMEWORK
from reference import two_layer_net as ref

PART_IDS = HOMEWORK.part_ids

SECRETS = [f"term-{i}" for i in range(60)]
BASES = [(template, base) for secret in SECRETS for template, base in zip(TEMPLATES, hidden_bases(secret, 4))]
DEFAULT = Tolerance(1e-4, 1e-4)


def test_hidden_cases_are_reproducible_and_depend_on_secret_and_submission():
    a = hidden_cases("secret", "17", 4)
    assert all(np.array_equal(x.inputs.W1, y.inputs.W1) for x, y in zip(a, hidden_cases("secret", "17", 4)))
    assert not np.array_equal(a[0].inputs.x, hidden_cases("secret", "18", 4)[0].inputs.x)
    assert not np.array_equal(a[0].inputs.x, hidden_cases("other", "17", 4)[0].inputs.x)
    assert [c.id for c in a] == ["hidden-1", "hidden-2", "hidden-3", "hidden-4"] and all(c.hidden for c in a)


def test_more_hidden_cases_than_templates_cycle_through_them_with_fresh_values():
    cases = hidden_cases("secret", "1", 9)
    assert [c.inputs.shape for c in cases] == [(t.n, t.h, t.k) for t in TEMPLATES * 3][:9]
    assert not np.array_equal(np.sort(cases[0].inputs.x), np.sort(cases[4].inputs.x))


@pytest.mark.parametrize("template, base", BASES[:: len(TEMPLATES) * 3] + BASES[1:: len(TEMPLATES) * 3]
                         + BASES[2:: len(TEMPLATES) * 3] + BASES[3:: len(TEMPLATES) * 3])
def test_every_base_is_informative_for_every_part(template, base):
    s = template.scale
    n, h, k = base.shape
    assert min(n, h, k) >= 3
    f = ref.forward(base.x, *base.params)
    z1, y_hat = f["z1"] / s, f["y_hat"] / s
    zero = z1 == 0
    assert zero.sum() == (len(range(0, h, 3)) if template.exact_zeros else 0)
    assert np.all(np.abs(z1[~zero]) >= 0.49) and (z1 > 0).sum() >= 1 and (z1 < 0).sum() >= 1
    assert abs((z1 > 0).sum() - (z1 < 0).sum()) <= 1  # both signs in equal numbers
    assert (y_hat > 0).sum() >= 1 and (y_hat < 0).sum() >= 1 and np.all(np.abs(y_hat) >= 0.49)
    assert np.all(np.abs(y_hat - base.y / s) >= 0.49)  # y far from y_hat
    assert np.all(np.abs(base.W2.T @ (2 * (y_hat - base.y / s))) >= 0.49)  # every unit gets a gradient
    assert np.all(np.abs(base.x / s) >= 0.24)
    assert far_from_half_precision(base)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_zeros_stay_exact_in_any_summation_order_and_precision(dtype):
    for template, base in BASES:
        if not template.exact_zeros:
            continue
        W1, x, b1 = (a.astype(dtype) for a in (base.W1, base.x, base.b1))
        for order in itertools.islice(itertools.permutations(range(base.shape[0])), 0, 120, 11):
            z1 = sum(W1[:, j] * x[j] for j in order) + b1
            assert np.all(z1[::3] == 0) and np.all(z1[1::3] != 0) and np.all(z1[2::3] != 0)


def test_a_known_mistake_is_either_right_or_far_off_on_every_base_never_borderline():
    """The verdict on a hidden case cannot depend on the draw: each catalogued mistake's answer is
    right (to 1e-9) or wrong by over 10 times the default tolerance, on every base of every secret."""
    wide = Tolerance(1e-3, 1e-3)
    tight = Tolerance(1e-9, 1e-9)
    verdicts: dict[tuple, set[bool]] = {}
    for template, base in BASES:
        expected = expected_answers(base)
        for part in PART_IDS:
            for index, (mistake, answer) in enumerate(candidates(part, base)):
                right = answer.shape == np.shape(expected[part]) and agrees(answer, expected[part], tight)
                assert right or answer.shape != np.shape(expected[part]) or \
                    not agrees(answer, expected[part], wide), (template.title, part, mistake)
                verdicts.setdefault((template.title, part, index, mistake), set()).add(right)
    assert all(len(v) == 1 for v in verdicts.values())  # the same for every secret
    # and the templates between them catch every mistake the catalogue can make on some part
    caught = {mistake for (*_, mistake), v in verdicts.items() if v == {False}}
    assert {"relu_ge", "missing_relu_mask", "relu_on_output", "mean_not_sum", "missing_factor_2"} <= caught


def test_correct_float32_code_passes_every_base_by_a_wide_margin():
    narrow = Tolerance(1e-6, 1e-6)
    for _, base in BASES:
        f32 = [a.astype(np.float32) for a in (base.x, *base.params)]
        forward = ref.forward(*f32)
        backward = ref.backward(f32[0], base.y.astype(np.float32), *f32[1:])
        expected = expected_answers(base)
        for key, value in forward.items():
            assert agrees(value, expected[f"forward.{key}"], narrow)
        for key, value in backward.items():
            assert agrees(value, expected[f"grad.{key}"], narrow)


def test_half_precision_answers_fail_every_base():
    for _, base in BASES:
        expected = expected_answers(base)
        for part in ("forward.z1", "forward.y_hat", "loss", "mse_grad", "grad.W1", "grad.b1", "grad.W2", "grad.b2"):
            with np.errstate(over="ignore"):
                half = np.asarray(expected[part]).astype(np.float16).astype(np.float64)
            assert not agrees(half, expected[part], DEFAULT), part


def test_a_relabelling_is_the_same_problem_with_its_units_renamed():
    base = design(TEMPLATES[0], 3)
    (case,) = relabel([base], "secret", "42")
    i = case.inputs
    # the same multiset of values, layer by layer, and the same answers up to the renaming
    assert np.allclose(np.sort(np.abs(i.x)), np.sort(np.abs(base.x)))
    assert np.allclose(np.sort(i.b1), np.sort(base.b1)) and np.allclose(np.sort(i.y), np.sort(base.y))
    ours, theirs = expected_answers(i), expected_answers(base)
    assert np.isclose(float(ours["loss"]), float(theirs["loss"]), rtol=1e-12)
    for part in ("forward.z1", "forward.y_hat", "grad.b1", "grad.b2"):
        assert np.allclose(np.sort(ours[part]), np.sort(theirs[part]), rtol=1e-12)
    assert np.allclose(np.sort(np.abs(ours["grad.W1"]).ravel()), np.sort(np.abs(theirs["grad.W1"]).ravel()))
    assert not np.array_equal(i.x, base.x) or not np.array_equal(i.W2, base.W2)
