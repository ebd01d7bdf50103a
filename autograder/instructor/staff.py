"""The staff view of a graded submission: every hidden case as Gradescope graded it.

When a student disputes a score, staff need what the hidden cases fed in and got back. `grade PATH
--submission-id ID --staff` grades exactly as run_autograder does for that id (Grader.grade, with
the calls kept: runner.Replay), then runs each grading test again on each hidden case with a
`check` that keeps what it compared: the inputs, the expected and received values, the verdict
(judge, the grader's own, now with the detail a hidden case never shows) and the part's likely
cause. Nothing here reaches the student's results.json: `--results FILE` writes this into a staff
copy beside it (FILE with .staff.json).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ..core.compare import judge
from ..core.parts import PARTS_BY_ID, part_title
from ..escape import markdown_block, markdown_span
from ..grading.answer_key import resolve
from ..grading.grade import TESTS_DIR, GradingReport
from ..grading.runner import load_grading_tests, show_values


@dataclass(frozen=True)
class StaffCase:
    """One hidden case of one part, with everything about it (Markdown in `values` and `detail`)."""

    part: str
    title: str  # the part's, under the course's conventions
    case_title: str
    passed: bool
    reason: str
    values: str  # what the function was given, what was expected, what it returned
    detail: str  # where and by how much
    explanation: str  # the part's likely cause, from its visible cases
    said: str = ""  # what the student's code said (an exception's message), never in the student's results
    printed: str = ""  # what it printed during the call, likewise


def hidden_cases_in_full(report: GradingReport, config) -> list[StaffCase]:
    """Every (part, hidden case) of a report graded with keep_calls=True, in part then case order."""
    if report.replay is None:
        return []
    recorded = {(r.part, r.case_id): r for r in report.results}
    causes = {t.part: t.explanation.message for t in report.tests if t.explanation}
    out = []
    for test in load_grading_tests(TESTS_DIR):
        for case in (c for c in report.replay.cases if c.hidden):
            seen: list = []
            tolerance = config.parts[test.part].tolerance

            def check(outcome, expected, function, key="return", seen=seen, tolerance=tolerance):
                expected = resolve(expected, outcome, key, tolerance)
                seen.append((outcome, expected, function, key))
                if not judge(outcome, expected, tolerance, function, key).passed:
                    raise _Stop

            fixtures = {"case": case, "student": _Student(report.replay), "reference": report.replay.reference,
                        "check": check}
            try:
                test.function(**{name: fixtures[name] for name in test.fixtures})
            except Exception:  # noqa: BLE001 - _Stop, or a call never made (the run ended first)
                pass
            result = recorded[test.part, case.id]
            values = detail = said = printed = ""
            if seen and seen[-1][0] is not None:
                outcome, expected, function, key = seen[-1]
                verdict = judge(outcome, expected, tolerance, function, key)
                detail, said, printed = verdict.detail, verdict.said, outcome.stdout
                if outcome.status == "ok" and key in outcome.values:
                    values = show_values(function, outcome.arguments, expected, outcome.values[key])
            title = part_title(PARTS_BY_ID[test.part], config.conventions)
            out.append(StaffCase(test.part, title, result.case_title, result.passed, result.reason, values, detail,
                                 causes.get(test.part, ""), said, printed))
    return out


def staff_text(cases: list[StaffCase]) -> str:
    """The staff view for a terminal (student text as it is: the terminal escapes at its edge): a block
    per hidden case."""
    lines = ["Hidden cases, as graded for this submission id (staff only):"]
    for c in cases:
        lines.append(f"\n{c.title}; {c.case_title}: "
                     + ("PASS" if c.passed else f"FAIL ({c.reason}" + (f": {c.said}" if c.said else "") + ")"))
        if c.printed:
            lines += ["  it printed:"] + ["    " + line for line in c.printed.splitlines()]
        if c.explanation and not c.passed:
            lines.append(f"  likely cause (from the visible cases): {c.explanation}")
        for block in (c.values, markdown_block(c.detail) if c.detail else ""):
            lines += ["  " + line for line in block.splitlines() if not line.startswith("```")]
    return "\n".join(lines)


def staff_results(results: dict, cases: list[StaffCase]) -> dict:
    """A copy of results.json whose hidden tests' outputs hold every hidden case in full."""
    staff = copy.deepcopy(results)
    for test in staff["tests"]:
        if not test.get("extra_data", {}).get("hidden"):
            continue
        mine = [c for c in cases if c.part == test["tags"][0]]
        test["output"] += "\n\n**Staff view:**\n" + "\n\n".join(
            f"- {'PASS' if c.passed else 'FAIL'} {c.case_title}" + ("" if c.passed else f": {c.reason}")
            + (f": {markdown_span(c.said)}" if c.said and not c.passed else "")
            + (f"\n\n{c.values}" if c.values else "") + (f"\n{markdown_block(c.detail)}" if c.detail else "")
            + (f"\n\nIt printed:\n{markdown_block(c.printed)}" if c.printed else "")
            for c in mine)
    staff.setdefault("extra_data", {})["staff_copy"] = True
    return staff


class _Stop(Exception):
    """A check failed: the test stops there, as in the runner."""


class _Student:
    def __init__(self, replay):
        self._replay = replay

    def call(self, case, function, *args, keys=None):
        outcome = self._replay.call(case, function, *args, keys=keys)
        if outcome is None:
            raise _Stop
        return outcome
