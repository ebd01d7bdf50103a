"""The staff view of a graded submission: every hidden case as Gradescope graded it.

When a student disputes a score, staff need what the hidden cases fed in and got back. `grade PATH
--submission-id ID --staff` grades exactly as run_autograder does for that id (Grader.grade with
keep_calls), which records each hidden case's verdict in full beside the sealed one the student's
results are scored from (GradingReport.hidden_in_full: the inputs, the expected and received
values, the detail, what the code said and printed). This module only reads and renders that,
with the part's likely cause; nothing here reaches the student's results.json: `--results FILE`
writes it into a staff copy beside it (FILE with .staff.json).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from ..escape import markdown_block, markdown_span
from ..grading.grade import GradingReport


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
    """Every (part, hidden case) of a report graded with keep_calls=True, in test then case order."""
    if report.hidden_in_full is None:
        return []
    in_full = {(r.part, r.case_id): r for r in report.hidden_in_full}
    causes = {t.part: t.explanation.message for t in report.tests if t.explanation}
    out = []
    for result in (r for r in report.results if r.hidden):
        full = in_full.get((result.part, result.case_id))  # (none where the file did not import)
        title = config.homework.part_title(result.part, config.conventions)
        out.append(StaffCase(result.part, title, result.case_title, result.passed, result.reason,
                             full.values if full else "", full.detail if full else "",
                             causes.get(result.part, ""), full.said if full else "", full.stdout if full else ""))
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
