"""Diagnoses: each catalogued mistake is recognised, and a right answer never gets one."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.cases import Inputs, all_dead, exact_fit, expected_answers, visible_cases, zeros_in_z1
from autograder.compare import compare
from autograder.config import Tolerance
from autograder.diagnose import MISTAKES, TITLES, candidates, diagnose
from autograder.hidden import hidden_cases
from autograder.parts import PART_IDS

TOL = Tolerance(1e-4, 1e-4)


def expected(part: str, i: Inputs) -> np.ndarray:
    return np.asarray(expected_answers(i)[part])


def many_inputs(count: int = 60) -> list[Inputs]:
    rng = np.random.default_rng(5)
    out = [c.inputs for c in visible_cases()] + [c.inputs for c in hidden_cases("diagnose", "1", 20)]
    for _ in range(count):
        seed = int(rng.integers(1 << 31))
        n, h, k = (int(d) for d in rng.integers(1, 8, size=3))
        out += [zeros_in_z1(seed, n, max(h, 2), k), all_dead(seed, n, h, k), exact_fit(seed, n, h, k)]
    return out


INPUTS = many_inputs()


def test_every_mistake_has_a_title():
    assert set(MISTAKES) == set(TITLES)


@pytest.mark.parametrize("part", PART_IDS)
def test_a_right_answer_never_gets_a_diagnosis(part):
    for i in INPUTS:
        right = expected(part, i)
        assert diagnose(part, i, right, right, TOL) is None
        float32 = right.astype(np.float32).astype(np.float64)  # right, computed in float32
        assert diagnose(part, i, float32, right, TOL) is None


@pytest.mark.parametrize("part", PART_IDS)
def test_each_catalogued_answer_is_diagnosed_as_its_mistake(part):
    seen = 0
    for i in INPUTS[:40]:
        right = expected(part, i)
        for mistake, wrong in candidates(part, i):
            if compare(wrong, right, TOL).passed:
                continue  # this mistake changes nothing on these inputs
            found = diagnose(part, i, wrong, right, TOL)
            assert found is not None
            # two mistakes may give the same numbers (e.g. >= and no mask when z1 >= 0): either name fits
            assert found.id == mistake or np.allclose(dict(candidates(part, i))[found.id], wrong)
            seen += 1
    assert seen or part in ("affine", "relu", "forward.z1", "forward.z2", "forward.z3")


def test_an_unrelated_wrong_answer_gets_no_diagnosis():
    i = visible_cases()[0].inputs
    right = expected("grad.W1", i)
    assert diagnose("grad.W1", i, right * 3.7 + 1, right, TOL) is None
    assert diagnose("grad.W1", i, np.full(right.shape, np.nan), right, TOL) is None
