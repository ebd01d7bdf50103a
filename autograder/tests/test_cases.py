import itertools

import numpy as np
import pytest

from autograder.core.cases import all_alive, all_dead, exact_fit, negative_outputs, visible_cases, zeros_in_z1
from autograder.grading.hidden import hidden_cases
from reference import two_layer_net as ref


def test_case_ids_are_unique_and_hidden_flags_right():
    cases = visible_cases() + hidden_cases("s", "1", 5)
    assert len({c.id for c in cases}) == len(cases)
    assert [c.hidden for c in cases].count(True) == 5


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zeros_in_z1_are_exact_in_any_summation_order_and_precision(seed, dtype):
    i = zeros_in_z1(seed, n=5, h=6, k=2)
    W1, x, b1 = (a.astype(dtype) for a in (i.W1, i.x, i.b1))
    for order in itertools.islice(itertools.permutations(range(5)), 0, 120, 7):
        z1 = sum(W1[:, j] * x[j] for j in order) + b1
        assert np.all(z1[::2] == 0)
    assert np.all((W1 @ x + b1)[::2] == 0)
    assert np.all(np.einsum("ij,j->i", W1, x)[::2] + b1[::2] == 0)


def test_exact_fit_is_exact_in_float32_too():
    i = exact_fit(3)
    f32 = [a.astype(np.float32) for a in (i.x, *i.params)]
    y_hat = ref.forward(*f32)["y_hat"]
    assert np.array_equal(y_hat, i.y)


def test_special_cases_have_their_property():
    dead = all_dead(1)
    assert np.all(ref.affine(dead.x, dead.W1, dead.b1) < 0)
    alive = all_alive(1)
    assert np.all(ref.affine(alive.x, alive.W1, alive.b1) > 0)
    neg = negative_outputs(1)
    assert np.all(ref.forward(neg.x, *neg.params)["y_hat"] < 0)


def test_visible_cases_cover_the_edge_shapes():
    shapes = {c.inputs.shape for c in visible_cases()}
    assert (1, 1, 1) in shapes
    assert any(n == 1 and h > 1 for n, h, k in shapes)
    assert any(h == 1 and n > 1 for n, h, k in shapes)
    assert any(k == 1 and h > 1 for n, h, k in shapes)
    assert any(len({n, h, k}) == 3 and min(n, h, k) > 1 for n, h, k in shapes)
