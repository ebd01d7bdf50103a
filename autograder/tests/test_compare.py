import numpy as np
import pytest

from autograder.config import Tolerance
from autograder.core.call import ERROR, IMPORT_ERROR, MISSING, NOT_RUN, OK, TIMEOUT, CallOutcome
from autograder.core.compare import Failure, compare, judge, only_singletons_differ

TOL = Tolerance(rtol=1e-4, atol=1e-4)


def test_equal_arrays_pass_without_note():
    e = np.array([1.0, -2.0, 3.0])
    assert compare(e.copy(), e, TOL) == compare(e, e, TOL)
    assert compare(e.copy(), e, TOL).passed and not compare(e, e, TOL).note


@pytest.mark.parametrize("shape", [(3, 1), (1, 3), (1, 3, 1)])
def test_singleton_axes_are_accepted_with_a_note(shape):
    e = np.array([1.0, 2.0, 3.0])
    result = compare(e.reshape(shape), e, TOL)
    assert result.passed
    assert "accepted" in result.note and str(shape).replace(" ", "") in result.note.replace(" ", "")


def test_scalar_returned_as_one_element_array_is_accepted():
    assert compare(np.array([[5.0]]), np.array(5.0), TOL).passed


@pytest.mark.parametrize("received", [np.ones(3), np.ones((3, 2)), np.ones((2, 2, 3)), np.ones(())])
def test_any_other_shape_fails_even_when_it_would_broadcast(received):
    result = compare(received, np.ones((2, 3)), TOL)
    assert not result.passed and result.reason == "wrong shape"
    assert "(2, 3)" in result.detail


def test_transposed_shape_is_named():
    result = compare(np.ones((3, 2)), np.ones((2, 3)), TOL)
    assert "transposed" in result.detail


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_fail(bad):
    received = np.array([1.0, bad, 3.0])
    result = compare(received, np.array([1.0, 2.0, 3.0]), TOL)
    assert not result.passed and result.reason == "not finite"
    assert "[1]" in result.detail


def test_nan_where_the_reference_is_nan_still_fails():
    assert not compare(np.array([np.nan]), np.array([np.nan]), TOL).passed


def test_wrong_values_report_worst_index_and_errors():
    e = np.arange(12.0).reshape(3, 4)
    r = e.copy()
    r[2, 1] += 5.0
    r[0, 3] += 0.5
    result = compare(r, e, TOL)
    assert not result.passed and result.reason == "wrong values"
    assert "Mismatched elements: 2 / 12" in result.detail
    assert "Worst at index [2, 1]: received 14.0, expected 9.0" in result.detail
    assert "Max absolute difference: 5" in result.detail


def test_tiny_gradients_are_judged_relative_to_their_own_scale():
    # np.allclose's fixed atol=1e-8 calls these equal; they differ by a factor 2
    e = np.array([1e-9, -2e-9, 3e-9])
    assert np.allclose(2 * e, e)
    assert not compare(2 * e, e, TOL).passed
    assert compare(e * (1 + 1e-6), e, TOL).passed


def test_the_bound_comes_from_the_reference_only():
    # np.isclose(a, b) uses |b|: a huge wrong answer must not widen its own tolerance
    e = np.array([1.0, 1.0])
    assert not compare(np.array([1e6, 1.0]), e, TOL).passed
    assert not compare(np.array([1.0, 1.0 + 3e-4]), e, TOL).passed  # bound: 1e-4 + 1e-4
    assert compare(np.array([1.0, 1.0 + 5e-5]), e, TOL).passed


def test_small_entries_of_a_large_array_get_the_array_scale_as_absolute_tolerance():
    e = np.array([1000.0, 0.0])
    assert compare(np.array([1000.0, 0.05]), e, TOL).passed
    assert not compare(np.array([1000.0, 0.2]), e, TOL).passed


def test_all_zero_reference_accepts_only_near_zero():
    e = np.zeros(4)
    assert compare(np.full(4, 1e-13), e, TOL).passed
    assert not compare(np.full(4, 1e-6), e, TOL).passed


def test_float32_rounding_passes():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((40, 60)), rng.standard_normal(60)
    e = W @ x
    r = (W.astype(np.float32) @ x.astype(np.float32)).astype(np.float64)
    assert compare(r, e, TOL).passed


def test_judge_names_each_failure_kind():
    e = np.ones(2)
    assert judge(CallOutcome("ok", {"return": e}), e, TOL, "relu").passed
    assert "not defined" in judge(CallOutcome("missing"), e, TOL, "relu").reason
    assert judge(CallOutcome("timeout", message="timed out"), e, TOL, "relu").reason.startswith("timeout")
    err = judge(CallOutcome("error", message="raised ValueError: bad", traceback="Traceback..."), e, TOL, "relu")
    assert err.reason == "relu raised ValueError: bad" and err.detail == "Traceback..."
    missing_key = judge(CallOutcome("ok", {"z1": e}), e, TOL, "forward", key="z2")
    assert "no 'z2' entry" in missing_key.reason
    problem = judge(CallOutcome("ok", problems={"z2": "is not numeric"}), e, TOL, "forward", key="z2")
    assert "'z2' entry" in problem.reason and "not numeric" in problem.reason


def test_scalars_and_negative_zeros_read_naturally():
    scalar = compare(np.array(14.0), np.array(9.0), TOL)
    assert "Received 14.0, expected 9.0" in scalar.detail and "index []" not in scalar.detail
    assert scalar.worst == "14 instead of 9"
    zero = compare(np.array([1.0, 2.0]), np.array([1.0, -0.0]), TOL)
    assert "expected 0.0" in zero.detail and "-0.0" not in zero.detail and zero.worst == "at [1]: 2 instead of 0"


def test_a_reason_that_names_its_status_is_not_repeated():
    reason = judge(CallOutcome("not run", message="not run: mse_loss already timed out"), np.ones(1), TOL,
                   "mse_loss").reason
    assert reason == "not run: mse_loss already timed out"


@pytest.mark.parametrize("received, expected", [((1, 2), (2, 1)), ((2, 1), (1, 2)), ((3, 1, 1), (1, 3)),
                                                ((1, 4, 3), (4, 1, 3, 1)[::-1])])
def test_axes_of_length_1_never_excuse_a_reordering(received, expected):
    """A transposed (k, 1) matrix holds the same numbers in the same order: it is still the transpose."""
    values = np.arange(1.0, np.prod(expected) + 1)
    result = compare(values.reshape(received), values.reshape(expected), TOL)
    assert not result.passed and result.reason == "wrong shape", result


def test_a_transposed_column_is_named_as_transposed():
    assert "(it looks transposed)" in compare(np.ones((1, 2)), np.ones((2, 1)), TOL).detail


@pytest.mark.parametrize("shape, other, same", [
    ((3,), (3, 1), True), ((3,), (1, 3), True), ((), (1,), True), ((), (1, 1), True), ((2, 3), (1, 2, 1, 3), True),
    ((1, 1), (1,), True), ((2, 1), (1, 2), False), ((2, 3), (3, 2), False), ((3,), (3, 2), False),
    ((2, 3), (2, 3, 2), False), ((1, 2, 3), (3, 2), False)])
def test_only_singletons_differ_is_a_subsequence_with_ones_around_it(shape, other, same):
    assert only_singletons_differ(shape, other) is same
    assert only_singletons_differ(other, shape) is same


def test_each_verdict_says_its_kind_of_failure_as_data():
    tol = Tolerance(1e-6, 1e-9)
    right = np.array([1.0, 2.0])
    assert compare(right, right, tol).failure is None
    assert compare(np.ones(3), right, tol).failure is Failure.WRONG_SHAPE
    assert compare(np.array([1.0, np.nan]), right, tol).failure is Failure.NOT_FINITE
    for explain in (True, False):
        assert compare(right + 1, right, tol, explain).failure is Failure.WRONG_VALUES
    said = {status: judge(CallOutcome(status, message="timed out: it used more than 1 s"), right, tol, "relu")
            for status in (TIMEOUT, NOT_RUN, IMPORT_ERROR, MISSING, ERROR)}
    assert [v.failure for v in said.values()] == [Failure.DIED, Failure.DIED, Failure.NOT_GRADED, Failure.MISSING,
                                                  Failure.RAISED]
    assert said[TIMEOUT].reason == "timeout: relu timed out: it used more than 1 s"
    assert said[NOT_RUN].reason == "timed out: it used more than 1 s"  # a not-run message is the whole reason
    unusable = judge(CallOutcome(OK, {}, {"return": "is not numeric"}), right, tol, "relu")
    assert unusable.failure is Failure.UNUSABLE and unusable.reason == "the value relu returned is not numeric"
