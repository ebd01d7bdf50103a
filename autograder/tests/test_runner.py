"""The grading-test runner: two passes, one batch of calls, exactly one verdict per (test, case)."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from autograder.config import load_config
from autograder.core.cases import visible_cases
from autograder.grading.grade import TESTS_DIR
from autograder.grading.hidden import hidden_cases
from autograder.grading.runner import GraderError, load_grading_tests, run_grading_tests
from autograder.homeworks.two_layer_net import HOMEWORK
from autograder.sandbox.calls import OK, CallOutcome
from reference import two_layer_net as ref

PART_IDS = HOMEWORK.part_ids


class FakeSandbox:
    """Answers like a worker running the reference solution; counts batches and single calls."""

    def __init__(self):
        self.batches, self.single_calls = [], 0
        self.marked_after: list[int] = []  # how many batches had been sent at each mark_output()

    def mark_output(self):
        self.marked_after.append(len(self.batches))

    def _answer(self, function, args, keys):
        value = getattr(ref, function)(*args)
        values = {k: value[k] for k in keys} if keys else {"return": np.asarray(value, dtype=float)}
        return CallOutcome(OK, values)

    def stream(self, calls):
        self.batches.append(calls)
        return (self._answer(c.function, c.args, c.keys) for c in calls)

    def call(self, function, args, keys=None):
        self.single_calls += 1
        return self._answer(function, args, keys)


def test_the_real_grading_tests_cover_every_part_with_distinct_calls_in_few_batches():
    tests = load_grading_tests(TESTS_DIR, PART_IDS)
    assert sorted({t.part for t in tests}) == sorted(PART_IDS)
    cases, sandbox = visible_cases(), FakeSandbox()
    results, log = run_grading_tests(tests, cases, sandbox, load_config())
    assert log == ""
    assert len(results) == len(tests) * len(cases) and all(r.passed for r in results)
    # forward and backward feed four parts each, but are called once per case; calls on the case's
    # inputs go first, those carrying reference values after (see the sealing test below)
    assert [len(batch) for batch in sandbox.batches] == [3 * len(cases), 5 * len(cases)]
    assert sandbox.single_calls == 0


def fingerprints(cases, reference_values: bool) -> set[bytes]:
    """Every array a call of these cases may carry: their inputs, or the reference's forward values."""
    arrays = []
    for c in cases:
        i = c.inputs
        arrays += ref.forward(i.x, *i.params).values() if reference_values else i.arrays
    return {np.asarray(a, dtype=float).tobytes() for a in arrays}


def carries(call, prints) -> bool:
    return any(np.asarray(a, dtype=float).tobytes() in prints for a in call.args)


def test_calls_are_sealed_no_answer_can_be_read_ahead_and_no_hidden_input_comes_early():
    """Four batches, each sent once the one before is all read: the visible cases' calls on their
    own inputs, then their calls carrying reference values (relu(z1), mse_loss(y_hat, y), ...),
    then the same two for the hidden cases."""
    tests = load_grading_tests(TESTS_DIR, PART_IDS)
    visible, hidden = visible_cases(), hidden_cases("secret", "7", 4)
    sandbox = FakeSandbox()
    results, _ = run_grading_tests(tests, visible + hidden, sandbox, load_config())
    assert all(r.passed for r in results)
    assert len(sandbox.batches) == 4 and sandbox.marked_after == [2]  # output marked before hidden inputs
    visible_raw, visible_derived, hidden_raw, hidden_derived = sandbox.batches
    for batch, cases in ((visible_raw, visible), (visible_derived, visible), (hidden_raw, hidden),
                         (hidden_derived, hidden)):
        others = hidden if cases is visible else visible
        assert all(not carries(call, fingerprints(others, False) | fingerprints(others, True)) for call in batch)
    inputs = fingerprints(visible + hidden, False)
    reference_values = fingerprints(visible + hidden, True)
    for batch in (visible_raw, hidden_raw):
        assert {c.function for c in batch} == {"affine", "forward", "backward"}
        assert all(all(np.asarray(a).tobytes() in inputs for a in c.args) for c in batch)
        assert not any(carries(call, reference_values - inputs) for call in batch)
    for batch in (visible_derived, hidden_derived):
        assert {c.function for c in batch} == {"relu", "relu_jacobian", "output_jacobian", "mse_loss", "mse_grad"}
    assert [len(b) for b in sandbox.batches] == [3 * len(visible), 5 * len(visible), 3 * len(hidden), 5 * len(hidden)]


def write_tests(tmp_path, body: str):
    (tmp_path / "test_custom.py").write_text(textwrap.dedent(body))
    return load_grading_tests(tmp_path, PART_IDS)


def test_a_broken_grading_test_is_an_internal_error_with_its_traceback_in_the_log(tmp_path):
    tests = write_tests(tmp_path, """
        from gradescope_utils.autograder_utils.decorators import tags

        @tags("relu")
        def test_broken(case, student, check):
            raise KeyError("grader bug")

        @tags("affine")
        def test_forgets_to_check(case, student):
            pass
    """)
    cases = visible_cases()[:2]
    results, log = run_grading_tests(tests, cases, FakeSandbox(), load_config())
    assert [(r.part, r.passed) for r in results] == [("relu", False)] * 2 + [("affine", False)] * 2
    assert results[0].reason.startswith("internal grader error") and "KeyError: 'grader bug'" in results[0].detail
    assert results[2].reason == "internal grader error: this check did not run"
    assert "test_custom::test_broken[" in log and "KeyError" in log


def test_a_second_call_the_plan_missed_is_made_alone(tmp_path):
    tests = write_tests(tmp_path, """
        from gradescope_utils.autograder_utils.decorators import tags
        from reference import two_layer_net as ref

        @tags("relu")
        def test_two_calls(case, student, check):
            z = case.inputs.b1
            student.call(case, "relu", z)
            check(student.call(case, "relu_jacobian", z), ref.relu_jacobian(z), "relu_jacobian")
    """)
    sandbox = FakeSandbox()
    results, _ = run_grading_tests(tests, visible_cases()[:3], sandbox, load_config())
    assert all(r.passed for r in results) and sandbox.single_calls == 3


@pytest.mark.parametrize("body, message", [
    ("@tags('relu', 'affine')\ndef test_x(case, student, check): pass", "exactly one part id"),
    ("def test_x(case, student, check): pass", "exactly one part id"),
    ("@tags('relu')\ndef test_x(case, tmp_path): pass", "takes ['tmp_path']"),
])
def test_malformed_grading_tests_are_refused_with_a_reason(tmp_path, body, message):
    with pytest.raises(GraderError, match=message.replace("[", r"\[").replace("]", r"\]")):
        write_tests(tmp_path, "from gradescope_utils.autograder_utils.decorators import tags\n" + body)


class TransposedW2(FakeSandbox):
    """Answers like the reference but for dl/dW2, returned transposed: (h, k) for (k, h)."""

    def _answer(self, function, args, keys):
        outcome = super()._answer(function, args, keys)
        if function == "backward":
            outcome.values["W2"] = outcome.values["W2"].T
        return outcome


def test_a_transposed_gradient_fails_where_one_of_its_axes_is_1():
    """With h = 1 or k = 1 the transpose of dl/dW2 holds the same numbers in the same order: its shape
    still says transposed. Only the 1 x 1 case, where transposing changes nothing, passes."""
    cases = visible_cases()
    results, _ = run_grading_tests(load_grading_tests(TESTS_DIR, PART_IDS), cases, TransposedW2(), load_config())
    verdicts = {r.case_id: r for r in results if r.part == "grad.W2"}
    shapes = {c.id: c.inputs.shape for c in cases}
    assert {"h1", "k1"} <= {i for i, (_, h, k) in shapes.items() if 1 in (h, k) and (h, k) != (1, 1)}
    for case_id, (_, h, k) in shapes.items():
        assert verdicts[case_id].passed is ((h, k) == (1, 1)), (case_id, verdicts[case_id])
        if (h, k) != (1, 1):
            assert verdicts[case_id].reason == "wrong shape" and "(it looks transposed)" in verdicts[case_id].detail
