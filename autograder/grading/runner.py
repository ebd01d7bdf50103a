"""Runs the grading tests in tests/ on every case: each (test, case) ends in exactly one CaseResult.

The grading tests are plain functions `test_*(case, student, reference, check)` in
tests/test_*.py, each tagged with its part id through gradescope-utils' `@tags`, parametrized
here over the cases: `case` (one visible or hidden case), `student` (calls into the sandboxed
worker), `reference` (the reference solution) and `check` (judges one returned value and records
the verdict). `student.call` and `reference.call` take the same arguments and make each distinct
call once per submission. The names are pytest's fixture names, so a grading test reads like any
pytest test, but this runner calls them directly: pytest's per-item machinery costs about 1 ms
per (test, case), more than the grading itself, and a batch grades hundreds of submissions of
224 items each.

Two passes over the tests. Planning (plan_calls, which needs no worker): each test runs with a
`student` that only records the call it wants and stops it there. Those calls go to the worker
in a few batches (sandbox.stream), each sent once every answer of the one before is in (Phase):
visible cases before hidden ones, calls on a case's inputs before calls carrying reference values.
Then each test runs for real, reading its answers as it needs them while the worker computes
the next; a call the plan missed is made alone.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Config
from ..core.call import OK, Call, CallOutcome
from ..core.cases import Case
from ..core.compare import Failure, judge
from ..escape import markdown_block
from ..sandbox.calls import Sandbox
from .answer_key import Accepted, resolve
from .rubric import MAX_VALUE_BLOCKS, CaseResult

FIXTURES = ("case", "student", "reference", "check")
NOT_RUN_REASON = "internal grader error: this check did not run"
INTERNAL_ERROR = "internal grader error (not your fault: please tell the course staff)"


class GraderError(Exception):
    """The grading tests themselves are broken (a missing or doubled part id, a bad signature)."""


@dataclass(frozen=True)
class GradingTest:
    name: str
    part: str  # the one part id among its @tags
    function: Callable
    fixtures: tuple[str, ...]  # the names among FIXTURES it takes


def load_grading_tests(folder: Path, part_ids: tuple[str, ...]) -> tuple[GradingTest, ...]:
    """The test_* functions of folder/test_*.py, in file then definition order, each tagged with one
    of `part_ids` (the homework's)."""
    tests = []
    for path in sorted(folder.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_autograder_grading_tests.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # so tracebacks and dataclasses in the tests resolve
        spec.loader.exec_module(module)
        for name, function in vars(module).items():
            if name.startswith("test_") and inspect.isfunction(function) and function.__module__ == spec.name:
                tests.append(_grading_test(f"{path.stem}::{name}", function, part_ids))
    if not tests:
        raise GraderError(f"no grading tests (test_* functions) in {folder}/test_*.py")
    return tuple(tests)


def _grading_test(name: str, function: Callable, part_ids: tuple[str, ...]) -> GradingTest:
    parts = [t for t in getattr(function, "__tags__", ()) if t in part_ids]
    if len(parts) != 1:
        raise GraderError(f"grading test {name} must carry exactly one part id in @tags(...), found {parts}")
    fixtures = tuple(inspect.signature(function).parameters)
    unknown = set(fixtures) - set(FIXTURES)
    if unknown:
        raise GraderError(f"grading test {name} takes {sorted(unknown)}; the runner provides {', '.join(FIXTURES)}")
    return GradingTest(name, parts[0], function, fixtures)


class CaseFailed(Exception):
    """A submission's wrong answer: its verdict is already recorded."""


class _Planned(Exception):
    """Stops a test in the planning pass once it has asked for its call."""


def _memo_key(function: str, args: tuple, keys: tuple[str, ...] | None = None) -> tuple:
    """Calls with the same function, keys and argument values are one call.

    A read-only array (a case's input, an answer of `reference`) stands for itself by identity:
    hashing its bytes at every call cost more than the comparisons. Every memo keeps the arguments
    of its calls alive, so an identity cannot be reused while its key is in use.
    """
    return (function, keys, tuple(id(a) if type(a) is np.ndarray and not a.flags.writeable else
                                  (a.dtype.str, a.shape, a.tobytes()) for a in map(np.asarray, args)))


class _Planner:
    """The planning pass's `student`: records the first call a test makes, then stops the test."""

    def __init__(self):
        self.calls: dict[tuple, Call] = {}
        self.phase: dict[tuple, tuple[bool, bool]] = {}  # memo key -> (hidden, carries reference values)

    def call(self, case: Case, function: str, *args: np.ndarray, keys: tuple[str, ...] | None = None) -> CallOutcome:
        memo_key = _memo_key(function, args, keys)
        self.calls.setdefault(memo_key, Call(function, tuple(args), keys))
        raw = all(any(a is given for given in case.inputs.arrays) for a in args)
        phase = (case.hidden, not raw)
        self.phase[memo_key] = min(self.phase.get(memo_key, phase), phase)  # the earliest that needs it
        raise _Planned

    def phases(self) -> tuple[Phase, ...]:
        """The calls in the order they may reach the worker (see Phase)."""
        out = []
        for hidden, derived in ((False, False), (False, True), (True, False), (True, True)):
            calls = {key: call for key, call in self.calls.items() if self.phase[key] == (hidden, derived)}
            if calls:
                out.append(Phase(hidden, calls))
        return tuple(out)


class StudentCalls:
    """The `student` of the real pass: each distinct call made once.

    forward and backward feed four parts each; the memo makes that one call, not four. The planned
    calls' answers are read as the tests need them, so the worker runs ahead while tests judge.
    """

    def __init__(self, sandbox: Sandbox, plan: Plan, memo: dict | None = None):
        """memo: where to keep the outcomes, by memo key (a Replay's, to run the tests again)."""
        self._sandbox = sandbox
        # (also keeps their arguments alive: see _memo_key)
        self._planned = {key: call for phase in plan.phases for key, call in phase.calls.items()}
        # (memo key, outcome) pairs, in call order, each read when first needed
        self._answers = zip(self._planned, self._stream(plan))
        self._memo: dict[tuple, CallOutcome] = {} if memo is None else memo

    def _stream(self, plan: Plan):
        """The outcomes of the plan's calls, phase after phase: a phase's calls reach the worker only
        once every answer of the phase before is in (see Phase). The worker's output so far is
        marked before the first hidden input reaches it."""
        marked = False
        for phase in plan.phases:
            if phase.hidden and not marked:
                self._sandbox.mark_output()
                marked = True
            yield from self._sandbox.stream(list(phase.calls.values()))

    def call(self, case: Case, function: str, *args: np.ndarray, keys: tuple[str, ...] | None = None) -> CallOutcome:
        memo_key = _memo_key(function, args, keys)
        if memo_key in self._planned:
            self._read_until(memo_key)
        else:  # not planned: made alone, once the batch is all read
            self._read_until(None)
            if memo_key not in self._memo:
                self._memo[memo_key] = self._sandbox.call(function, list(args), keys)
        return self._memo[memo_key]

    def _read_until(self, memo_key: tuple | None) -> None:
        """Read planned answers up to the one for memo_key (None: all of them)."""
        if memo_key in self._memo:
            return
        for received, outcome in self._answers:
            self._memo[received] = outcome
            if received == memo_key:
                return


class ReferenceCalls:
    """The `reference` fixture: the reference solution's answers under the course's conventions,
    each distinct call computed once. An answer is an array, or an Accepted where a convention
    is "either" and the answers differ (`check` judges against the nearest)."""

    def __init__(self, config: Config, fixed: dict | None = None):
        """The answers of config.homework's reference under config's conventions. fixed: where to keep
        the answers of calls on the fixed (not hidden) cases, shared by every submission a Grader grades
        (their arguments are the cases' arrays or answers kept there)."""
        self.conventions = config.conventions
        self._answer = config.homework.reference_answer
        self._own: dict[tuple, tuple] = {}  # memo key -> (arguments, kept alive; answer)
        self._fixed = self._own if fixed is None else fixed

    def call(self, case: Case, function: str, *args: np.ndarray):
        """The reference's answer, its arrays read-only (they are shared by every test that asks)."""
        memo_key = _memo_key(function, args)
        # only calls on the fixed cases' own arrays (read-only: keyed by identity) are kept for later
        # submissions; one carrying anything else (a student's answer) would make that memo grow
        fixed = not case.hidden and all(type(a) is np.ndarray and not a.flags.writeable for a in args)
        memo = self._fixed if fixed else self._own
        if memo_key not in memo:
            answer = self._answer(function, args, self.conventions)
            for value in answer.values() if isinstance(answer, dict) else [answer]:
                for array in value if isinstance(value, Accepted) else [value]:
                    if isinstance(array, np.ndarray):
                        array.flags.writeable = False
            memo[memo_key] = (args, answer)
        return memo[memo_key][1]


@dataclass(frozen=True)
class Replay:
    """How the grading tests ran on a submission, to run them again without the worker (the pytest
    plugin does): the cases and reference answers they used (the very objects: calls are keyed by
    their arrays' identity) and the outcome of each call the student's code answered."""

    cases: list[Case]
    reference: ReferenceCalls
    outcomes: dict[tuple, CallOutcome]

    def call(self, case: Case, function: str, *args: np.ndarray, keys: tuple[str, ...] | None = None) -> CallOutcome:
        """The `student` fixture's call: the recorded outcome (None: this call was never made)."""
        return self.outcomes.get(_memo_key(function, args, keys))


@dataclass(frozen=True)
class Phase:
    """Calls sent to the worker together, only once every answer of the phase before has been read.

    Student code never runs while anything from which the answer to a call not yet answered can
    be derived is in its process, its pipe or its files. The calls on a case's own inputs
    (affine, forward, backward) come first; the calls that carry the reference's values (relu(z1),
    output_jacobian(z3), mse_loss(y_hat, y), ...) only after every one of those is answered, so
    forward cannot return the z1 a later relu(z1) holds. The visible cases' phases come before the
    hidden cases': nothing shown before the hidden tests can depend on a hidden input.
    """

    hidden: bool
    calls: dict[tuple, Call]


@dataclass(frozen=True)
class Plan:
    """What the planning pass found: the calls the tests will make, phase by phase, and the
    reference answers it computed on the way (kept for the real pass)."""

    phases: tuple[Phase, ...]
    reference: ReferenceCalls


class FixedCases:
    """What the planning pass finds on the fixed (visible and diagnostic) cases, the same for every
    submission: their phases by tests and cases, and the reference's answers on them. A Grader
    keeps one, so each submission plans and computes only its own hidden cases."""

    def __init__(self):
        self.answers: dict[tuple, tuple] = {}  # ReferenceCalls' fixed memo
        self.phases: dict[tuple, tuple[Phase, ...]] = {}  # (test names, case ids) -> their phases


def plan_calls(tests: tuple[GradingTest, ...], cases: list[Case], config: Config,
               fixed: FixedCases | None = None, reference: ReferenceCalls | None = None) -> Plan:
    """The planning pass. It needs no worker, so it runs while the worker imports the submission.

    fixed: the fixed cases' plan and answers, reused and extended (None: plan every case here);
    reference: the reference answers to extend (another plan's, of the same submission)."""
    reference = reference or ReferenceCalls(config, fixed.answers if fixed else None)
    if fixed is None:
        return Plan(_plan(tests, cases, reference), reference)
    key = (tuple(t.name for t in tests), tuple(c.id for c in cases if not c.hidden))
    if key not in fixed.phases:
        if len(fixed.phases) >= 64:  # (one entry per set of failing parts the diagnostic cases ran)
            fixed.phases.clear()
        fixed.phases[key] = _plan(tests, [c for c in cases if not c.hidden], reference)
    return Plan(fixed.phases[key] + _plan(tests, [c for c in cases if c.hidden], reference), reference)


def _plan(tests: tuple[GradingTest, ...], cases: list[Case], reference: ReferenceCalls) -> tuple[Phase, ...]:
    planner = _Planner()
    for test in tests:
        for case in cases:
            if not case.grades(test.part):
                continue
            try:
                test.function(**_fixtures(test, case, planner, reference, _refuse))
            except Exception:  # noqa: BLE001 - _Planned, or a grader bug the real pass reports
                pass
    return planner.phases()


def run_grading_tests(tests: tuple[GradingTest, ...], cases: list[Case], sandbox: Sandbox, config: Config,
                      plan: Plan | None = None, outcomes: dict | None = None,
                      fixed: FixedCases | None = None,
                      in_full: list[CaseResult] | None = None) -> tuple[list[CaseResult], str]:
    """Every (test, case) verdict, in test then case order, and the tracebacks of grader errors (a log).

    A visible case's result keeps the student's answer and the expected one (for diagnose.py).
    outcomes: where to keep every call's outcome, by memo key (see Replay); in_full: where to keep
    each hidden case's verdict with everything a visible one shows (the staff view's, never the
    student's), in the same order.
    """
    plan = plan or plan_calls(tests, cases, config, fixed)
    student, reference = StudentCalls(sandbox, plan, outcomes), plan.reference
    results, log = [], []
    for test in tests:
        values_left = MAX_VALUE_BLOCKS  # rubric.py shows the values of this many failing visible cases
        for case in cases:
            if not case.grades(test.part):
                continue
            recorded: list[CaseResult] = []
            full: list[CaseResult] | None = [] if in_full is not None and case.hidden else None
            check = _checker(test.part, case, config, recorded, values_left > 0, full)
            try:
                test.function(**_fixtures(test, case, student, reference, check))
            except CaseFailed:
                pass
            except Exception:  # noqa: BLE001 - a bug in the grader, not in the submission
                text = traceback.format_exc()
                log.append(f"{test.name}[{case.id}]\n{text}")
                recorded = [CaseResult(test.part, case.id, case.title, case.hidden, False, INTERNAL_ERROR,
                                       detail=text[-1500:], failure=Failure.GRADER)]
            result = recorded[-1] if recorded else CaseResult(test.part, case.id, case.title, case.hidden,
                                                              False, NOT_RUN_REASON, failure=Failure.GRADER)
            values_left -= bool(result.values)
            results.append(result)
            if full is not None:  # the last check's in full; else (a grader error, nothing checked) as recorded
                in_full.append(full[-1] if full and result.failure is not Failure.GRADER else result)
    return results, "\n".join(log)[-20000:]


def _fixtures(test: GradingTest, case: Case, student, reference, check) -> dict:
    available = {"case": case, "student": student, "reference": reference, "check": check}
    return {name: available[name] for name in test.fixtures}


def _refuse(*_args, **_kwargs):
    raise _Planned


def _checker(part: str, case: Case, config: Config, recorded: list[CaseResult], show: bool,
             full: list[CaseResult] | None = None):
    """check(outcome, expected, function, key="return"): judge, record, and fail the test if wrong.
    full: where to record a hidden case's verdict in full too (its values even where it passes)."""
    tolerance = config.parts[part].tolerance
    arguments, entry_words = config.homework.arguments, config.homework.entry_words

    def check(outcome: CallOutcome, expected, function: str, key: str = "return") -> None:
        """expected: an array, or an Accepted (judged against the answer nearest to the student's)."""
        expected = resolve(expected, outcome, key, tolerance)
        # a hidden case's result says only pass or fail and why in a few words: nothing more is computed
        entry = entry_words(function, key) if entry_words else None
        verdict = judge(outcome, expected, tolerance, function, key, explain=not case.hidden, entry=entry)
        answered = not case.hidden and outcome.status == OK and key in outcome.values
        values = ""
        if not verdict.passed and answered and show:
            values = show_values(function, arguments[function], outcome.arguments, expected, outcome.values[key])
        # a hidden case keeps none of the student's text (its prints, its messages): with it, code could
        # publish the hidden inputs once the hidden tests are shown (staff see it: staff.py)
        visible = not case.hidden
        recorded.append(CaseResult(
            part, case.id, case.title, case.hidden, verdict.passed, verdict.reason, verdict.detail,
            verdict.reshaped, verdict.worst, outcome.stdout if visible else "", values, outcome.status,
            received=outcome.values[key] if answered else None, expected=expected if visible else None,
            said=verdict.said if visible else "", failure=verdict.failure))
        if full is not None:
            seen = judge(outcome, expected, tolerance, function, key, entry=entry)
            answered = outcome.status == OK and key in outcome.values
            full.append(CaseResult(
                part, case.id, case.title, True, verdict.passed, verdict.reason, seen.detail, seen.reshaped,
                seen.worst, outcome.stdout,
                show_values(function, arguments[function], outcome.arguments, expected, outcome.values[key])
                if answered else "",
                outcome.status, said=seen.said, failure=verdict.failure))
        if not verdict.passed:
            raise CaseFailed(verdict.reason)

    return check


def show_values(function: str, names: tuple[str, ...], args: tuple[np.ndarray, ...], expected: np.ndarray,
                received: np.ndarray) -> str:
    """Markdown: what the function was given (its arguments' `names`, in order), what was expected, what it
    returned (summarised if large)."""
    given = "\n".join(f"{name} = {array_text(a)}" for name, a in zip(names, args))
    return (f"Called `{function}` with:\n{markdown_block(given)}\n"
            f"Expected:\n{markdown_block(array_text(expected))}\nReceived:\n{markdown_block(array_text(received))}")


def array_text(a: np.ndarray) -> str:
    """An array as numpy prints it, in 6 significant digits, rows aligned; summarised beyond 40 entries.

    Small arrays are written here directly: np.array2string costs ~0.15 ms an array, and a
    failing submission shows dozens of them.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.size > 40 or a.ndim > 2:
        return np.array2string(a, precision=5, threshold=40, edgeitems=3, max_line_width=100)
    if a.ndim == 0:
        return _number(float(a))
    rows = [[_number(v).partition(".") for v in row] for row in (a.tolist() if a.ndim == 2 else [a.tolist()])]
    # aligned on the decimal point, as numpy does: "[ 0.    -1.25   3.5  ]"
    left = max((len(whole) for row in rows for whole, _, _ in row), default=0)
    right = max((len(dot + decimals) for row in rows for _, dot, decimals in row), default=0)
    lines = ["[" + " ".join((whole.rjust(left) + dot + decimals).ljust(left + right) for whole, dot, decimals in row)
             .rstrip() + "]" for row in rows]
    return lines[0] if a.ndim == 1 else "[" + "\n ".join(lines) + "]"


def _number(value: float) -> str:
    text = f"{value:.6g}"
    return text if any(c in text for c in ".enai") else text + "."  # 2 -> "2.", as numpy prints floats
