"""Our pytest plugin: feeds the grading tests their cases and the student, and collects verdicts.

The grading tests in tests/ are ordinary pytest functions that take three fixtures:
`case` (parametrized over the visible and hidden cases), `student` (calls into the sandboxed
worker) and `check` (judges one returned value and records the verdict). Each test function is
tagged with its part id through gradescope-utils' `@tags` decorator. Whatever happens inside a
test, including a bug in the grader, each (part, case) ends with exactly one CaseResult.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from .cases import Case
from .compare import judge
from .config import Config
from .diagnose import diagnose
from .parts import ARGUMENTS, PART_IDS
from .rubric import CaseResult, code_block
from .sandbox import OK, CallOutcome, Sandbox


def part_of(function: Callable) -> str:
    """The one part id among a test function's gradescope-utils tags."""
    parts = [t for t in getattr(function, "__tags__", ()) if t in PART_IDS]
    if len(parts) != 1:
        raise pytest.UsageError(f"grading test {function.__name__} must carry exactly one part id "
                                f"in @tags(...), found {parts}")
    return parts[0]


class CaseFailed(Exception):
    """A submission's wrong answer: reported by its verdict, with no traceback of the grading test."""


class StudentCalls:
    """The `student` fixture: calls into the sandbox, each (function, case) at most once.

    forward and backward feed four parts each; the memo makes that one call, not four.
    """

    def __init__(self, sandbox: Sandbox):
        self._sandbox = sandbox
        self._memo: dict[tuple[str, str], CallOutcome] = {}
        self.arguments: dict[tuple[str, str], tuple[np.ndarray, ...]] = {}  # what each call was given

    def call(self, case: Case, function: str, *args: np.ndarray, keys: tuple[str, ...] | None = None) -> CallOutcome:
        memo_key = (function, case.id)
        if memo_key not in self._memo:
            self.arguments[memo_key] = args
            self._memo[memo_key] = self._sandbox.call(function, list(args), keys)
        return self._memo[memo_key]


class GradingPlugin:
    def __init__(self, config: Config, cases: list[Case], sandbox: Sandbox):
        self.config = config
        self.cases = cases
        self.student_calls = StudentCalls(sandbox)
        self.results: dict[str, CaseResult] = {}
        self._items: dict[str, tuple[str, Case]] = {}

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "case" in metafunc.fixturenames:
            metafunc.parametrize("case", self.cases, ids=[c.id for c in self.cases])

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            self._items[item.nodeid] = (part_of(item.function), item.callspec.params["case"])

    @pytest.fixture(scope="session")
    def student(self) -> StudentCalls:
        return self.student_calls

    @pytest.fixture
    def check(self, request: pytest.FixtureRequest, case: Case):
        """check(outcome, expected, function, key="return"): judge, record, and fail the test if wrong."""
        part = part_of(request.function)
        tolerance = self.config.parts[part].tolerance

        def check(outcome: CallOutcome, expected: np.ndarray, function: str, key: str = "return") -> None:
            verdict = judge(outcome, expected, tolerance, function, key)
            mistake, values = None, ""
            if not verdict.passed and outcome.status == OK and key in outcome.values:
                mistake = diagnose(part, case.inputs, outcome.values[key], expected, tolerance)
                if not case.hidden:
                    args = self.student_calls.arguments.get((function, case.id), ())
                    values = show_values(function, args, expected, outcome.values[key])
            self.results[request.node.nodeid] = CaseResult(
                part, case.id, case.title, case.hidden, verdict.passed, verdict.reason, verdict.detail,
                verdict.note, outcome.stdout, mistake.id if mistake else "", mistake.message if mistake else "",
                values, outcome.status)
            if not verdict.passed:
                raise CaseFailed(f"{verdict.reason}\n{verdict.detail}".strip())

        return check

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
        # A wrong answer is the expected kind of failure: report it by its verdict. Letting pytest format
        # a traceback for each of hundreds of failing cases would cost most of the grading time.
        if call.excinfo is None or not isinstance(call.excinfo.value, CaseFailed):
            return None
        return pytest.TestReport(item.nodeid, item.location, {}, "failed", str(call.excinfo.value), call.when,
                                 duration=call.duration, start=call.start, stop=call.stop)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # A test that failed without a recorded verdict hit a bug in the grader, not in the submission.
        if report.failed and report.nodeid in self._items and report.nodeid not in self.results:
            part, case = self._items[report.nodeid]
            self.results[report.nodeid] = CaseResult(
                part, case.id, case.title, case.hidden, False,
                "internal grader error (not your fault: please tell the course staff)",
                detail=str(report.longrepr)[-1500:])

    def case_results(self) -> list[CaseResult]:
        """One result per collected (part, case); a test that never reported counts as a grader error."""
        out = []
        for nodeid, (part, case) in self._items.items():
            out.append(self.results.get(nodeid) or CaseResult(
                part, case.id, case.title, case.hidden, False, "internal grader error: this check did not run"))
        return out


def show_values(function: str, args: tuple[np.ndarray, ...], expected: np.ndarray, received: np.ndarray) -> str:
    """Markdown: what the function was given, what was expected, what it returned (summarised if large)."""
    def text(a: np.ndarray) -> str:
        return np.array2string(np.asarray(a), precision=5, threshold=40, edgeitems=3, max_line_width=100)

    given = "\n".join(f"{name} = {text(a)}" for name, a in zip(ARGUMENTS[function], args))
    return (f"Called `{function}` with:\n{code_block(given)}\n"
            f"Expected:\n{code_block(text(expected))}\nReceived:\n{code_block(text(received))}")
